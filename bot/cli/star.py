"""`ungebot star …`: ask STAR from a script, send what is queued, and keep STAR's answers (the FAQ)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.cli.common import Refused, whole_number
from bot.config import read_mail_settings
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment, current_day
from bot.cli.decide import answer_pairs, walk_answers
from bot.desk.star import StarDesk, delivery_replies
from bot.chat.texts import Texts, to_plain
from flows.answers import parse_yes_no
from bot.chat.programmes import enabled_catalogue
from flows.privacy import contains_cpr
from storage import outbox, star
from storage.db import open_database, open_existing
from storage.records import Staff




def run_star(args: argparse.Namespace) -> int:
    """`ungebot star HANDLING`; bad input raises Refused (exit 2, see bot.cli.main)."""
    from bot.channels.staff import terminal_staff

    command = args.star_command
    mail = read_mail_settings()
    rulebook = enabled_catalogue()
    texts = Texts(rulebook)
    if command == "ask":
        return _ask(args, rulebook, texts, mail)
    desk = StarDesk(open_existing(), mail)
    if command == "send-queued":
        if not mail.smtp:
            raise Refused("UNGEBOT_SMTP_HOST er ikke sat, så der kan ikke sendes noget (se README: »Spørgsmål til STAR«).")
        deliveries = asyncio.run(desk.send_due(force=True))
        for delivery in deliveries:
            for reply in delivery_replies(texts, delivery, mail.recipient, in_terminal=False):
                print(to_plain(reply.text))
        sent = sum(delivery.status == "sent" for delivery in deliveries)
        waiting = len(star.find(desk.conn, "queued")) + len(star.find(desk.conn, "sending"))
        failed = sum(delivery.status == "failed" for delivery in deliveries)
        print(f"{sent} sendt, {waiting} venter stadig" + (f", {failed} opgivet (se: ungebot star list --status failed)"
                                                           if failed else "") + ".")
        return 1 if waiting or failed else 0
    if command == "fetch-replies":
        return _fetch_replies(desk)
    if command == "list":
        rows = star.find(desk.conn, args.status)
        print(_table(rows) if rows else "Ingen spørgsmål.")
        return 0
    question = star.get(desk.conn, whole_number(args.id, "id"))
    if question is None:
        raise Refused(f"Der er intet spørgsmål med id {args.id}.")
    if command == "show":
        print(_show(question))
        return 0
    if command == "retry":
        if not outbox.requeue(desk.conn, question["id"]):
            raise Refused(f"Spørgsmål {question['id']} er ikke opgivet (det er {STATUS_WORDS[question['status']]}).")
        print(f"Spørgsmål {question['id']} er sat i kø igen og sendes ved næste forsøg (ungebot star send-queued).")
        return 0
    # answer
    if question["status"] == "draft":
        raise Refused(f"Spørgsmål {question['id']} er aldrig sendt (det er et udkast); det kan ikke have et svar.")
    text = _read_answer(args.file)
    if contains_cpr(text):
        raise Refused("Svaret ser ud til at indeholde et CPR-nummer. Det gemmes ikke; fjern det og prøv igen.")
    star.record_answer(desk.conn, question["id"], text, args.by or terminal_staff().staff_id)
    print(f"STARs svar på spørgsmål {question['id']} er gemt og kan nu findes med /faq.")
    return 0


def _ask(args: argparse.Namespace, rulebook: Any, texts: Texts, mail: Any) -> int:
    from bot.channels.staff import terminal_staff

    raw = answer_pairs(args.answer)  # DecideError, like Refused, is a Danish message and exit 2 (bot.cli.main)
    if contains_cpr(args.text) or any(contains_cpr(value) for value in raw.values()):
        raise Refused("Teksten ser ud til at indeholde et CPR-nummer. Intet er gemt; skriv den uden CPR-nummer.")
    if not args.text.strip():
        raise Refused("--text er tom: skriv spørgsmålet med dine egne ord.")
    position = walk_answers(rulebook, texts, args.flow, raw, complete=False)
    desk = StarDesk(open_database(), mail)
    conversation = Conversation(rulebook, texts, mail_municipality(), answers=desk, recipient=mail.recipient)
    if not conversation.known_municipality():
        raise Refused("Kommunens navn mangler: sæt UNGEBOT_MUNICIPALITY (fx »Aarhus Kommune«), eller svar én gang i "
                      "chatten, når du bruger /star.")
    state = DialogueState([Segment(args.flow, dict(position.answers))])
    today = current_day()
    turn = conversation.handle(state, f"/star {args.text.strip()}", today)
    assert turn.star_draft is not None
    staff = terminal_staff()
    question_id = desk.store_draft(Staff("cli", staff.staff_id, staff.name), turn.star_draft)
    print(f"Emne: {turn.star_draft.subject}\n\n{turn.star_draft.body}")
    if not args.yes:
        print("Send til STAR? (ja/nej) ", end="", flush=True)
        if parse_yes_no(sys.stdin.readline()) is not True:
            print(f"Ikke sendt. Udkastet er gemt som spørgsmål {question_id}.")
            return 0
    delivery = asyncio.run(desk.send(question_id))
    for reply in delivery_replies(texts, delivery, mail.recipient, in_terminal=True):
        print(to_plain(reply.text))
    return 1 if delivery.status in ("queued", "failed", "sending") else 0


def _fetch_replies(desk: StarDesk) -> int:
    """Match STAR's replies in the mailbox to the questions that went out; say which were answered."""
    from bot.config import ConfigError, read_imap_settings
    from bot.desk.star.imap import ReplyMatcher

    try:
        imap = read_imap_settings()
    except ConfigError as exc:
        raise Refused(str(exc)) from None
    if imap is None:
        raise Refused("UNGEBOT_IMAP_HOST er ikke sat, så der kan ikke hentes svar (se README: »Spørgsmål til STAR«).")
    answered = asyncio.run(ReplyMatcher(desk.conn, imap, desk.mail.oauth).run_once())
    for question_id in answered:
        print(f"Spørgsmål {question_id} har fået svar fra STAR (se: ungebot star show {question_id}).")
    print(f"{len(answered)} nye svar." if len(answered) != 1 else "1 nyt svar.")
    return 0


def mail_municipality() -> str:
    """The municipality named in drafts (UNGEBOT_MUNICIPALITY, or ungebot.toml)."""
    from bot.config import read_values

    return read_values()["UNGEBOT_MUNICIPALITY"].strip()


def _read_answer(path: str | None) -> str:
    try:
        text = open(path, encoding="utf-8").read() if path else sys.stdin.read()
    except OSError as exc:
        raise Refused(f"Kan ikke læse {path}: {exc.strerror}.") from None
    if not text.strip():
        raise Refused("Svaret er tomt.")
    return text.strip()


# The statuses in the support team's words (no code words on a screen).
STATUS_WORDS = {"draft": "udkast", "queued": "i kø", "sending": "sendes", "sent": "sendt", "handed_over": "overdraget",
                "failed": "opgivet", "answered": "besvaret"}


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [f"{'id':>4}  {'oprettet':<10}  {'status':<10}  {'forsøg':>6}  {'situation':<13}  emne"]
    for row in rows:
        subject = row["subject"].split(": ", 1)[-1]
        status = STATUS_WORDS.get(row["status"], row["status"])
        lines.append(f"{row['id']:>4}  {row['created'][:10]:<10}  {status:<10}  {row['attempts'] or 0:>6}  "
                     f"{row['flow'] or '–':<13}  {subject[:70]}")
    return "\n".join(lines)


def _show(row: dict[str, Any]) -> str:
    status = STATUS_WORDS.get(row["status"], row["status"])
    parts = [f"Spørgsmål {row['id']} · {status} · oprettet {row['created']} af {row['staff_name'] or '–'} "
             f"({row['staff_id']}, {row['channel']})",
             f"Til: {row['recipient']}" + (f" · sendt {row['sent_at']} ({row['sent_via']})" if row['sent_at'] else ""),
             f"Emne: {row['subject']}", "", row["body"]]
    if row["last_error"] and row["status"] in ("queued", "sending", "failed"):
        parts.append(f"Seneste fejl ({row['attempts']} forsøg): {row['last_error']}")
    if row["answer"]:
        parts += ["", f"STARs svar ({row['answered_at']}, registreret af {row['answered_by']}):", row["answer"]]
    return "\n".join(parts)
