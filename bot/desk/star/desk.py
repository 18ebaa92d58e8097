"""Questions for STAR, end to end for every channel: store the draft, queue it with its e-mail on confirmation, send
it through the outbox (one claim, one Message-ID, back-off), or hand it over as a mailto: link and an .eml file."""

from __future__ import annotations

import asyncio
import email.policy
import sqlite3
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.config import MailSettings
from bot.chat.dialogue import Reply, Turn
from bot.chat.texts import Texts
from bot.desk.star import faq
from bot.desk.star.smtp import Transport
from storage import local_settings, outbox, star
from storage.records import Staff


MUNICIPALITY_KEY = "municipality"


@dataclass(frozen=True)
class Delivery:
    """What became of a confirmed question: sending, sent, queued again (with the error), failed, or handed over."""

    question_id: int
    status: str
    via: str | None
    error: str | None = None
    mailto: str | None = None
    eml_path: Path | None = None
    attempts: int = 0
    next_attempt: str | None = None
    channel: str = ""
    staff_id: str = ""


def mailto_link(recipient: str, subject: str, body: str) -> str:
    """A mailto: link with subject and body filled in (RFC 6068: UTF-8, percent-encoded, CRLF line breaks)."""
    return (f"mailto:{recipient}?subject={quote(subject, safe='')}"
            f"&body={quote(body.replace(chr(10), chr(13) + chr(10)), safe='')}")


class StarDesk:
    """The questions for STAR of one database and one mail set-up."""

    def __init__(self, conn: sqlite3.Connection, mail: MailSettings) -> None:
        self.conn, self.mail = conn, mail
        self.transport = Transport(mail)

    def __repr__(self) -> str:
        return f"StarDesk(smtp={self.mail.smtp}, recipient={self.mail.recipient!r})"

    # -- storing ---------------------------------------------------------------------------------------------------
    def store_draft(self, staff: Staff, draft: star.Draft) -> int:
        """Store the draft before it is shown (committed); its id."""
        return star.store_draft(self.conn, staff, draft, self.mail.recipient)

    def message(self, question: dict[str, Any]) -> EmailMessage:
        """The e-mail for a stored question, UTF-8 plain text, with a new Message-ID (made once, at queue time)."""
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = question["recipient"] or self.mail.recipient
        message["Subject"] = question["subject"]
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(idstring=f"ungebot.{question['id']}",
                                           domain=self.mail.sender.partition("@")[2] or "localhost")
        message["X-Ungebot-Question"] = str(question["id"])
        message.set_content(question["body"], charset="utf-8")
        return message

    def save_eml(self, question_id: int, message: bytes) -> Path:
        """Keep a copy of the e-mail as an .eml file in the outbox folder."""
        self.mail.outbox.mkdir(parents=True, exist_ok=True)
        path = self.mail.outbox / f"star-spoergsmaal-{question_id}.eml"
        path.write_bytes(message)
        return path

    def queue(self, question_id: int) -> None:
        """The caseworker said send: the question goes in the outbox with its e-mail (committed)."""
        with self.conn:
            self.queue_within(self.conn, question_id)

    def queue_within(self, conn: sqlite3.Connection, question_id: int) -> None:
        """`queue` in the caller's transaction (not committed here): a chat commits the queued question with the
        answer that confirmed it, so that a crash cannot keep the one without the other."""
        question = star.get(conn, question_id)
        if question is None:
            raise KeyError(question_id)
        message = self.message(question)
        outbox.write_queued(conn, question_id, str(message["Message-ID"]), message.as_bytes(policy=email.policy.SMTP))

    def queue_with_answer(self, conn: sqlite3.Connection, question_id: int | None) -> None:
        """In an answer's write: queue a question the caseworker confirmed, when the background sender will send it
        (with SMTP; without, the hand-over after the commit makes its .eml and mailto link, as before)."""
        if question_id is not None and self.mail.smtp:
            self.queue_within(conn, question_id)

    def hand_over(self, question_id: int) -> Delivery:
        """Without SMTP the caseworker sends it: a mailto: link and an .eml copy; `handed_over`, not `sent`."""
        self.queue(question_id)
        question = star.get(self.conn, question_id) or {}
        stored = outbox.entry(self.conn, question_id) or {}
        path = self.save_eml(question_id, bytes(stored["message"]))
        star.mark_handed_over(self.conn, question_id, eml_path=str(path))
        return Delivery(question_id, "handed_over", "mailto", eml_path=path,
                        mailto=mailto_link(question["recipient"], question["subject"], question["body"]),
                        channel=question.get("channel") or "", staff_id=question.get("staff_id") or "")

    def submit(self, question_id: int) -> Delivery:
        """Confirmed in a chat that must not wait, after the commit of the answer that confirmed it: with SMTP that
        commit queued it (`queue_with_answer`) and the background sender takes it from there (`sending`); without,
        it is handed over."""
        if not self.mail.smtp:
            return self.hand_over(question_id)
        return Delivery(question_id, "sending", None)

    # -- sending -----------------------------------------------------------------------------------------------------
    async def deliver(self, held: outbox.Claim) -> Delivery:
        """One attempt for a claimed question; only the SMTP exchange leaves the event loop (a thread)."""
        error = await asyncio.to_thread(self.transport.attempt, self.mail.sender, held.recipient or self.mail.recipient,
                                        held.message)
        if error is None:
            outbox.mark_sent(self.conn, held, via="smtp")
            return Delivery(held.question_id, "sent", "smtp", attempts=held.attempts, channel=held.channel,
                            staff_id=held.staff_id)
        status = outbox.mark_failed(self.conn, held, error, self.mail.max_attempts) or "sending"
        path = self.save_eml(held.question_id, held.message) if status == "failed" else None
        if path is not None:
            star.set_eml_path(self.conn, held.question_id, str(path))
        entry = outbox.entry(self.conn, held.question_id) or {}
        return Delivery(held.question_id, status, None, error=error, eml_path=path, attempts=held.attempts,
                        next_attempt=entry.get("next_attempt_at"), channel=held.channel, staff_id=held.staff_id)

    async def send(self, question_id: int) -> Delivery:
        """Confirm and deliver now, waiting for the result (the terminal and the command line)."""
        if not self.mail.smtp:
            return self.hand_over(question_id)
        self.queue(question_id)
        held = outbox.claim(self.conn, self.mail.claim_timeout, force=True, question_id=question_id)
        if held is None:  # another sender holds it: it goes once, from there
            return Delivery(question_id, "sending", None)
        return await self.deliver(held)

    async def send_due(self, force: bool = False) -> list[Delivery]:
        """Send every question that is due (every queued one with `force`), one claim at a time, oldest first."""
        for question_id in outbox.unqueued(self.conn):
            self.queue(question_id)
        deliveries = []
        if force:  # the back-off is ignored once for each question queued now
            for question_id in [row["id"] for row in reversed(star.find(self.conn, "queued"))]:
                held = outbox.claim(self.conn, self.mail.claim_timeout, force=True, question_id=question_id)
                if held is not None:
                    deliveries.append(await self.deliver(held))
        while (held := outbox.claim(self.conn, self.mail.claim_timeout)) is not None:  # due, or a stale claim
            deliveries.append(await self.deliver(held))
        return deliveries

    # -- drafts and the municipality, for the conversation ---------------------------------------------------------
    def draft(self, question_id: int) -> dict[str, Any] | None:
        """A draft saved for later, if it is still a draft."""
        question = star.get(self.conn, question_id)
        return question if question is not None and question["status"] == "draft" else None

    def discard_draft(self, question_id: int) -> None:
        """The caseworker deleted the draft (committed)."""
        star.delete_draft(self.conn, question_id)

    def municipality(self) -> str:
        """The municipality's name as answered once in a chat ("" when never asked)."""
        return local_settings.get(self.conn, MUNICIPALITY_KEY) or ""

    def remember_municipality(self, name: str) -> None:
        """Keep the municipality's name for every later e-mail (committed)."""
        local_settings.put(self.conn, MUNICIPALITY_KEY, name)

    # -- STAR's answers ----------------------------------------------------------------------------------------------
    def for_gap(self, gap: str, programme: str | None = None) -> dict[str, Any] | None:
        """STAR's newest answer about this gap in the guide (of this programme only, when named)."""
        return star.answered_for_gap(self.conn, gap, programme)

    def search(self, words: str) -> list[dict[str, Any]]:
        """Answered questions matching the words (Danish stems, compounds), best first."""
        return faq.search(star.answered(self.conn), words)


def attach_draft(desk: StarDesk, staff: Staff, turn: Turn) -> None:
    """Store a drafted question before it is shown, and remember its id in the dialogue's pending step."""
    if turn.star_draft is not None and turn.state.pending is not None:
        replaces = turn.state.pending.pop("replaces", None)
        draft = turn.star_draft
        if replaces and star.update_draft(desk.conn, int(replaces), draft.subject, draft.body, draft.words):
            turn.state.pending["question"] = replaces  # the changed draft keeps its number
        else:
            turn.state.pending["question"] = str(desk.store_draft(staff, draft))


def delivery_replies(texts: Texts, delivery: Delivery, recipient: str, in_terminal: bool) -> list[Reply]:
    """Tell the caseworker what became of the question: being sent, sent, to be tried again, failed or handed
    over. In the terminal a handed-over question comes with its mailto: link and the place of the .eml copy."""
    from bot.desk.log import when

    later = when(delivery.next_attempt)[-5:] if delivery.next_attempt else None
    if delivery.status == "sent":
        replies = [Reply(texts.common("star_sent", id=delivery.question_id, to=recipient))]
    elif delivery.status == "sending":
        replies = [Reply(texts.common("star_sending", id=delivery.question_id, to=recipient))]
    elif delivery.status == "queued":
        replies = [Reply(texts.common("star_queued", id=delivery.question_id, attempts=delivery.attempts,
                                      at=later))]
    elif delivery.status == "failed":
        replies = [Reply(texts.common("star_failed", id=delivery.question_id, attempts=delivery.attempts))]
    else:
        replies = [Reply(texts.common("star_handed_over", id=delivery.question_id, to=recipient,
                                      link=delivery.mailto if in_terminal else None))]
    if in_terminal and delivery.eml_path:
        replies.append(Reply(texts.common("star_copy_saved", path=str(delivery.eml_path))))
    return replies
