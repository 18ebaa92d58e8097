"""Questions for STAR: stored first, sent by SMTP to a real server on 127.0.0.1, never lost, answers become a FAQ."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import socket
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.cli.main import main
from bot.config import read_mail_settings
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment
from bot.desk.star import StarDesk
from bot.chat.texts import Texts, to_plain
from flows.engine import Rulebook
from storage import star
from storage.db import open_database
from storage.records import Staff

TODAY = date(2026, 1, 15)


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be started late (to play a server that was down)."""

    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()


@pytest.fixture
def smtp_port(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    port = free_port()
    monkeypatch.setenv("UNGEBOT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("UNGEBOT_SMTP_PORT", str(port))
    monkeypatch.setenv("UNGEBOT_SMTP_FROM", "ungebot@testkommune.dk")
    monkeypatch.setenv("UNGEBOT_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("UNGEBOT_MUNICIPALITY", "Æbeltoft Kommune")
    monkeypatch.setenv("UNGEBOT_TODAY", TODAY.isoformat())
    return port


@pytest.fixture
def smtp(smtp_port: int) -> Iterator[SmtpServer]:
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    return sqlite3.connect(path).execute(sql).fetchall()


def test_ask_sends_by_smtp_in_utf8(smtp: SmtpServer, private_database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "star", "ask", "leave", "-a", "phase=går på barsel", "-a", "current_marker=ips",
                       "-a", "current_start_date=10.1.2026", "-a", "leave_start_date=10.1.2026",
                       "--text", "Hvad gør vi, når barslen begynder på markørens første dag? Hilsen Søren Ærø",
                       "--yes")
    assert code == 0 and "er sendt til star@star.dk" in out
    (message,) = smtp.inbox.messages()
    assert smtp.inbox.envelopes[0].rcpt_tos == ["star@star.dk"]
    assert message["From"] == "ungebot@testkommune.dk"
    assert message["Subject"].startswith("Spørgsmål om registrering i Ungeløftet (IPS / Flere unge skal med): "
                                         "Den unge går på barsel eller kommer tilbage")
    body = message.get_content()
    assert "Hvad gør vi, når barslen begynder på markørens første dag? Hilsen Søren Ærø" in body
    assert "Hvilken dag begynder barselsperioden? 10. januar 2026" in body
    assert "Det siger den ikke:" in body and "Æbeltoft Kommune" in body
    assert rows(private_database, "select status, sent_via, gap, channel from star_questions") == [
        ("sent", "smtp", "X-11", "cli")]


def test_a_configured_recipient_is_used(smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("UNGEBOT_STAR_EMAIL", "test-star@example.org")
    code, _, _ = run(capsys, "star", "ask", "course_ends", "--text", "Forløbet slutter, hvad nu?", "--yes")
    assert code == 0 and smtp.inbox.envelopes[0].rcpt_tos == ["test-star@example.org"]


def test_server_down_leaves_it_queued_and_send_queued_sends_it(smtp_port: int, private_database: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "star", "ask", "early_pension", "--text", "Skal markøren have slutdato?", "--yes")
    assert code == 1 and "kunne ikke sendes lige nu" in out and "sendes automatisk" in out
    assert rows(private_database, "select status, attempts from star_questions") == [("queued", 1)]
    (message_id,) = rows(private_database, "select message_id from star_outbox")[0]
    server = SmtpServer(smtp_port)
    server.start()
    try:
        code, out, _ = run(capsys, "star", "send-queued")
    finally:
        server.stop()
    assert code == 0 and "1 sendt, 0 venter" in out
    assert rows(private_database, "select status, sent_via from star_questions") == [("sent", "smtp")]
    assert "førtidspension" in server.inbox.messages()[0]["Subject"]
    assert server.inbox.messages()[0]["Message-ID"] == message_id  # made once, when it was queued


def test_a_cpr_number_stores_nothing(smtp: SmtpServer, private_database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "star", "ask", "early_pension", "--text", "Borgeren 0102031234 har fået pension", "--yes")
    assert code == 2 and "CPR-nummer" in err and "0102031234" not in err
    assert not private_database.exists() or rows(private_database, "select count(*) from star_questions") == [(0,)]
    assert smtp.inbox.envelopes == []


def test_without_smtp_a_mailto_link_and_an_eml_file(private_database: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("UNGEBOT_SMTP_HOST", raising=False)
    monkeypatch.setenv("UNGEBOT_OUTBOX", str(tmp_path / "outbox"))
    monkeypatch.setenv("UNGEBOT_MUNICIPALITY", "Testkommune")
    code, out, _ = run(capsys, "star", "ask", "course_ends", "--text", "Hvad når forløbet er slut?", "--yes")
    assert code == 0 and "mailto:star@star.dk?subject=Sp%C3%B8rgsm%C3%A5l" in out and "&body=K%C3%A6re%20STAR" in out
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert "Hvad når forløbet er slut?" in parsed.get_content()  # type: ignore[attr-defined]
    # Handed over is not sent: nobody knows whether the caseworker sent it.
    assert rows(private_database, "select status, sent_via, sent_at from star_questions") == [
        ("handed_over", "mailto", None)]


def test_list_show_answer_and_the_faq(smtp: SmtpServer, private_database: Path, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path) -> None:
    run(capsys, "star", "ask", "early_pension", "--text", "Skal markøren have slutdato ved førtidspension?", "--yes")
    code, out, _ = run(capsys, "star", "list", "--status", "sent")
    assert code == 0 and "early_pension" in out and "Den unge får førtidspension" in out
    assert "situation" in out.splitlines()[0] and "forløb" not in out.splitlines()[0]  # the bot's flow is a situation
    answer = tmp_path / "svar.txt"
    answer.write_text("Ja: sæt slutdato dagen før pensionen begynder.", encoding="utf-8")
    code, out, _ = run(capsys, "star", "answer", "1", "--file", str(answer), "--by", "support-anna")
    assert code == 0
    code, out, _ = run(capsys, "star", "show", "1")
    assert "Ja: sæt slutdato dagen før pensionen begynder." in out and "support-anna" in out
    desk = StarDesk(open_database(private_database), read_mail_settings())
    assert desk.search("pensionen slutdato")[0]["id"] == 1
    assert desk.search("udlandet") == [] and desk.for_gap("X-1")["id"] == 1  # type: ignore[index]


@pytest.mark.parametrize("args, stdin, words", [
    (["star", "show", "9"], "", "intet spørgsmål med id 9"),
    (["star", "answer", "abc"], "", "id skal være et helt tal"),
    (["star", "answer", "1"], "   ", "Svaret er tomt"),
    (["star", "answer", "1"], "Borgeren 010203-1234 ...", "CPR-nummer"),
    (["star", "ask", "nowhere", "--text", "x", "--yes"], "", "Ukendt situation"),
    (["star", "ask", "switch", "-a", "colour=red", "--text", "x", "--yes"], "", "har ikke spørgsmålet colour"),
    (["star", "ask", "switch", "-a", "current_marker=begge", "--text", "x", "--yes"], "", "Jeg forstod ikke »begge«"),
])
def test_bad_input(smtp: SmtpServer, private_database: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch, args: list[str], stdin: str, words: str) -> None:
    run(capsys, "star", "ask", "early_pension", "--text", "Første spørgsmål", "--yes")
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code, _, err = run(capsys, *args)
    assert code == 2 and words in err
    assert rows(private_database, "select count(*), max(status) from star_questions") == [(1, "sent")]


def test_a_draft_cannot_be_answered(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("UNGEBOT_MUNICIPALITY", "Testkommune")
    monkeypatch.setattr("sys.stdin", io.StringIO("nej\n"))
    code, out, _ = run(capsys, "star", "ask", "course_ends", "--text", "Et spørgsmål")
    assert code == 0 and "Ikke sendt" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("Svar"))
    code, _, err = run(capsys, "star", "answer", "1")
    assert code == 2 and "aldrig sendt" in err


def test_the_chat_asks_confirms_and_sends(smtp: SmtpServer, private_database: Path, rulebook: Rulebook,
                                          texts: Texts) -> None:
    from tests.test_cli import run as run_cli

    result = run_cli("chat", stdin="9\n/star\nHvad gør vi, når den unge har fået job?\n1\n")
    assert "Spørgsmål nr. 1 er sendt til star@star.dk" in result.stdout
    assert "Kære STAR" in smtp.inbox.messages()[0].get_content()


def test_an_answered_gap_is_shown_first_at_the_outcome(private_database: Path, rulebook: Rulebook,
                                                       texts: Texts) -> None:
    conn = open_database(private_database)
    desk = StarDesk(conn, read_mail_settings())
    draft = star.Draft("Emne", "Krop", "Ord", "Den unge får førtidspension", "early_pension", "X-1", "ungeloeftet")
    question = desk.store_draft(Staff("terminal", "u"), draft)
    desk.hand_over(question)
    conversation = Conversation(rulebook, texts, "Testkommune", answers=desk)
    before = to_plain(conversation.accept(conversation.new_state(), "early_pension", TODAY).replies[0].text)
    assert "STAR har allerede svaret" not in before
    star.record_answer(conn, question, "Sæt slutdato dagen før pensionen.", "support")
    after = to_plain(conversation.accept(conversation.new_state(), "early_pension", TODAY).replies[0].text)
    assert after.startswith("STAR har allerede svaret på det her")
    assert "Sæt slutdato dagen før pensionen." in after and "Vejledningen giver ingen regel" in after
    assert "jeg gætter ikke" not in after.lower() and "STAR har svaret på netop det" in after
    assert "Jeg gætter ikke her" in before
    faq = conversation.handle(DialogueState([Segment("situation")]), "/faq pensionen", TODAY)
    assert "Sæt slutdato dagen før pensionen." in to_plain(faq.replies[0].text)
    nothing = conversation.handle(DialogueState([Segment("situation")]), "/faq udrejse", TODAY)
    assert "ingen svar fra STAR om »udrejse«" in to_plain(nothing.replies[0].text)


async def test_telegram_says_sendes_at_once_and_sendt_when_the_background_sender_is_done(
        smtp_port: int, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.desk.star import StarDesk as Desk
    from tests.test_telegram import Harness

    async with Harness(private_database) as harness:
        harness.bot.mail = read_mail_settings()
        harness.bot.star = harness.bot.sender.desk = Desk(harness.bot.db, harness.bot.mail)
        harness.bot._bot = harness.app.bot
        sent = await harness.click((await harness.send("/start"))[-1], "Forløbet slutter")
        sent = await harness.click(sent[-1], "Spørg STAR")
        sent = await harness.send("Hvad gør vi, når den unge får job?")
        sent = await harness.click(sent[0], "Send til STAR")
        assert "sendes nu til star@star.dk" in sent[-1]["text"]  # told at once; nothing has been tried yet
        assert harness.rows("select status from star_questions") == [("queued",)]
        (delivery,) = await harness.bot.sender.run_once()  # the server is not up yet
        assert delivery.status == "queued" and "kunne ikke sendes lige nu" in harness.fake.sent[-1]["text"]
        assert harness.rows("select status, attempts from star_questions") == [("queued", 1)]
        server = SmtpServer(smtp_port)
        server.start()
        try:
            deliveries = await harness.bot.sender.run_once()  # back-off: not due yet
            assert deliveries == []
            monkeypatch.setattr("storage.outbox.now_utc", lambda: datetime.now(timezone.utc) + timedelta(minutes=2))
            (delivery,) = await harness.bot.sender.run_once()
        finally:
            server.stop()
        assert delivery.status == "sent" and "er sendt til star@star.dk" in harness.fake.sent[-1]["text"]
        assert harness.rows("select status, sent_via, attempts from star_questions") == [("sent", "smtp", 2)]
        assert "Hvad gør vi, når den unge får job?" in server.inbox.messages()[0].get_content()
