"""Exactly once: two senders against a slow SMTP server on loopback, a server that drops the line after DATA, stale
claims, back-off and giving up, all against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.cli.main import main
from bot.config import read_mail_settings
from bot.desk.star import StarDesk
from storage import outbox, star
from storage.db import open_database
from storage.records import Staff

from tests.test_star import free_port


class SlowInbox:
    """Takes each message after a pause (a slow server); can drop the line after DATA instead of answering."""

    def __init__(self, pause: float = 0.0, drop_first: int = 0) -> None:
        self.pause, self.drop_first = pause, drop_first
        self.accepted: list[bytes] = []
        self.dropped: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.pause)
        with self.lock:
            if len(self.dropped) < self.drop_first:
                self.dropped.append(envelope.original_content)
                server.transport.abort()  # the data arrived, the reply never comes
                return "421 never seen"
            self.accepted.append(envelope.original_content)
        return "250 OK"

    @staticmethod
    def message_ids(contents: list[bytes]) -> list[str]:
        return [str(email.message_from_bytes(c, policy=email.policy.default)["Message-ID"]) for c in contents]


@pytest.fixture
def mail_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> int:
    port = free_port()
    for key, value in {"UNGEBOT_SMTP_HOST": "127.0.0.1", "UNGEBOT_SMTP_PORT": str(port),
                       "UNGEBOT_SMTP_FROM": "ungebot@testkommune.dk", "UNGEBOT_OUTBOX": str(tmp_path / "outbox"),
                       "UNGEBOT_STAR_MAX_ATTEMPTS": "3"}.items():
        monkeypatch.setenv(key, value)
    return port


def serve(handler: SlowInbox, port: int) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def queue_questions(path: Path, count: int) -> list[int]:
    desk = StarDesk(open_database(path), read_mail_settings())
    ids = []
    for number in range(count):
        draft = star.Draft(f"Emne {number}", f"Krop {number}", "Ord", "Situation", "course_ends", None, "ungeloeftet")
        ids.append(desk.store_draft(Staff("telegram", "111"), draft))
        desk.queue(ids[-1])
    return ids


def test_two_senders_and_a_slow_server_deliver_each_question_once(mail_env: int, private_database: Path) -> None:
    ids = queue_questions(private_database, 3)
    inbox = SlowInbox(pause=0.4)
    controller = serve(inbox, mail_env)
    results: list[list[Any]] = []

    def sender() -> None:  # each sender as a process would be: its own connection, its own event loop
        desk = StarDesk(open_database(private_database), read_mail_settings())
        results.append(asyncio.run(desk.send_due(force=True)))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        controller.stop()
    sent = SlowInbox.message_ids(inbox.accepted)
    assert len(sent) == 3 and len(set(sent)) == 3  # three questions, each delivered once
    assert sorted(d.question_id for run in results for d in run) == ids
    assert all(d.status == "sent" for run in results for d in run)
    conn = open_database(private_database)
    assert sorted(str(outbox.entry(conn, i)["message_id"]) for i in ids) == sorted(sent)  # type: ignore[index]


def test_a_server_that_drops_the_line_after_data_gets_no_duplicate(mail_env: int, private_database: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (question,) = queue_questions(private_database, 1)
    inbox = SlowInbox(drop_first=1)
    controller = serve(inbox, mail_env)
    try:
        assert main(["star", "send-queued"]) == 1
        assert "kunne ikke sendes lige nu" in capsys.readouterr().out
        conn = open_database(private_database)
        row = star.get(conn, question)
        assert row is not None and row["status"] == "queued" and row["attempts"] == 1
        assert "SMTPServerDisconnected" in row["last_error"]
        assert main(["star", "send-queued"]) == 0  # whatever the back-off
        assert "1 sendt, 0 venter stadig." in capsys.readouterr().out
    finally:
        controller.stop()
    assert len(inbox.accepted) == 1  # one delivery; the dropped copy and the retry carry the same Message-ID
    assert SlowInbox.message_ids(inbox.dropped) == SlowInbox.message_ids(inbox.accepted)
    assert star.get(open_database(private_database), question)["status"] == "sent"  # type: ignore[index]


def test_a_stale_claim_is_released_and_the_old_sender_cannot_overwrite(mail_env: int, private_database: Path) -> None:
    (question,) = queue_questions(private_database, 1)
    conn = open_database(private_database)
    first = outbox.claim(conn, timeout=600)
    assert first is not None and outbox.claim(conn, timeout=600) is None  # held: nobody else gets it
    later = datetime.now(timezone.utc) + timedelta(seconds=601)
    second = outbox.claim(conn, timeout=600, now=later)
    assert second is not None and second.message_id == first.message_id and second.attempts == 2
    assert not outbox.mark_sent(conn, first, "smtp")  # the dead sender's claim is no longer its own
    assert outbox.mark_sent(conn, second, "smtp")
    assert star.get(conn, question)["status"] == "sent"  # type: ignore[index]


def test_back_off_then_failed_shown_to_support(mail_env: int, private_database: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (question,) = queue_questions(private_database, 1)  # no server listens: every attempt fails
    conn = open_database(private_database)
    desk = StarDesk(conn, read_mail_settings())
    start = datetime.now(timezone.utc)
    waits = []
    for _ in range(3):
        held = outbox.claim(conn, 600, now=start)
        assert held is not None
        delivery = asyncio.run(desk.deliver(held))
        entry = outbox.entry(conn, question)
        assert entry is not None
        after = datetime.fromisoformat(entry["next_attempt_at"]) - datetime.now(timezone.utc)
        waits.append(round(after.total_seconds() / 60))
        assert outbox.claim(conn, 600, now=start) is None  # not due again until the back-off has passed
        start = datetime.fromisoformat(entry["next_attempt_at"])
    assert waits == [1, 5, 30] and delivery.status == "failed"
    assert main(["star", "list", "--status", "failed"]) == 0
    out = capsys.readouterr().out
    assert "opgivet" in out and "Emne 0" in out
    assert Path(str(delivery.eml_path)).is_file()  # a copy to send by hand
    assert main(["star", "retry", str(question)]) == 0
    assert star.get(conn, question)["status"] == "queued"  # type: ignore[index]


async def test_a_question_given_up_is_told_to_the_support_users(mail_env: int, private_database: Path) -> None:
    from tests.test_telegram import CASEWORKER, SUPPORT, Harness

    async with Harness(private_database) as harness:
        harness.bot._bot = harness.app.bot
        from bot.desk.star import Delivery

        await harness.bot._tell_delivery(Delivery(7, "failed", None, error="ConnectionRefusedError: [Errno 111]",
                                                  attempts=10, channel="telegram", staff_id=str(CASEWORKER)))
        to_caseworker, to_support = harness.fake.sent[-2:]
        assert to_caseworker["chat"]["id"] == CASEWORKER and "efter 10 forsøg" in to_caseworker["text"]
        assert to_support["chat"]["id"] == SUPPORT and "ungebot star retry 7" in to_support["text"]


async def test_a_slow_server_does_not_hold_up_other_caseworkers(mail_env: int, private_database: Path) -> None:
    """The sender runs beside the conversation: a reply to another user comes while the e-mail is on its way."""
    from tests.test_telegram import Harness

    inbox = SlowInbox(pause=1.5)
    controller = serve(inbox, mail_env)
    try:
        async with Harness(private_database) as harness:
            harness.bot.mail = read_mail_settings()
            harness.bot.star = harness.bot.sender.desk = StarDesk(harness.bot.db, harness.bot.mail)
            queue_questions(private_database, 1)
            task = asyncio.create_task(harness.bot.sender.run_once())
            await asyncio.sleep(0.2)
            reply = await harness.send("/start", user_id=111)
            assert reply and not task.done()  # answered while the e-mail is still with the server
            (delivery,) = await task
        assert delivery.status == "sent" and len(inbox.accepted) == 1
    finally:
        controller.stop()
