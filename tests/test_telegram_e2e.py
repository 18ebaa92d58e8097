"""End to end: a real Application long-polls a fake Bot API server on 127.0.0.1 through its base URL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.config import Settings
from bot.channels.telegram.app import TelegramBot
from storage.db import open_database

from tests.conftest import ROOT
from tests.fake_telegram import FakeBotApiServer, FakeTelegram, buttons, callback_update, message_update, press

TOKEN = "123456:E2E-TEST"
CASEWORKER, STRANGER = 111, 555


async def start_bot(api_url: str, db_path: Path) -> Application:  # type: ignore[type-arg]
    settings = Settings(token=TOKEN, api_url=api_url, allowed_users=frozenset({CASEWORKER}),
                        support_users=frozenset(), database=db_path, municipality="Testkommune")
    application = TelegramBot(settings, db=open_database(db_path)).build()
    await application.initialize()
    await application.post_init(application)  # type: ignore[misc]
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    return application


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()
    await application.post_stop(application)  # type: ignore[misc]
    await application.shutdown()


async def reply(fake: FakeTelegram, after: int, match: Callable[[dict[str, Any]], bool] | str,
                timeout: float = 10.0) -> dict[str, Any]:
    """The first message sent after index `after` that matches (a predicate or a text fragment)."""
    test = match if callable(match) else (lambda message: match in message["text"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in fake.outbox[after:]:
            if test(message):
                return message
        await asyncio.sleep(0.02)
    raise AssertionError(f"no reply matching {match!r}; sent: {[m['text'][:60] for m in fake.outbox[after:]]}")


async def say(fake: FakeTelegram, text: str, expect: str, user_id: int = CASEWORKER,
              timeout: float = 10.0) -> dict[str, Any]:
    mark = len(fake.outbox)
    fake.push(message_update(user_id, text))
    return await reply(fake, mark, expect, timeout)


async def click(fake: FakeTelegram, message: dict[str, Any], label: str, expect: str) -> dict[str, Any]:
    mark = len(fake.outbox)
    fake.push(callback_update(CASEWORKER, press(message, label), message))
    return await reply(fake, mark, expect)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # loopback only, whatever the machine's proxy
    fake = FakeTelegram()
    with FakeBotApiServer(fake, TOKEN) as running:
        yield running


async def test_whole_dialogue_stale_button_restart_stranger_and_cpr(server: FakeBotApiServer, private_database: Path) -> None:
    fake = server.fake
    application = await start_bot(server.base_url, private_database)
    try:
        assert fake.called("getMe") and fake.called("setMyCommands")
        menu = await say(fake, "/start", "Hvad er der sket med den unge?")
        stale = press(menu, "Går på barsel")
        question = await click(fake, menu, "Skifter målgruppe", "Hvilken markør har den unge nu?")
        question = await click(fake, question, "Ungeløftet – Flere unge skal med", "nu et forløb i psykiatrien")
        # A stale button from the first menu: told, shown the current question, nothing changed.
        mark = len(fake.outbox)
        fake.push(callback_update(CASEWORKER, stale, menu))
        await reply(fake, mark, "gået videre")
        await reply(fake, mark, "nu et forløb i psykiatrien")
        await click(fake, question, "Ja", "startdato har den nuværende markør")
        await say(fake, "12. oktober 2025", "Fra hvilken dag hører den unge til den nye målgruppe?")
    finally:
        await stop_bot(application)

    # Restart in the middle of the dialogue: a new process-equivalent resumes at the last acknowledged answer.
    application = await start_bot(server.base_url, private_database)
    try:
        outcome = await say(fake, "1/2-26", "Skift markøren")
        assert "Sæt slutdato <b>31. januar 2026</b> på markøren »Ungeløftet – Flere unge skal med«" in outcome["text"]
        assert "Opret markøren »Ungeløftet – IPS« med startdato <b>1. februar 2026</b>" in outcome["text"]
        row = sqlite3.connect(private_database).execute("select channel, flow, outcome from decisions").fetchone()
        assert row[:2] == ("telegram", "switch")
        assert [a["date"] for a in json.loads(row[2])["actions"]] == ["2026-01-31", "2026-02-01"]

        # A stranger is refused once; nothing about them is stored.
        await say(fake, "/start", "kun for kommunens sagsbehandlere", user_id=STRANGER)
        # A CPR number is refused and never echoed.
        await say(fake, "/forfra", "Hvad er der sket")
        refusal = await say(fake, "310199-1234", "CPR-nummer")
        assert "310199" not in refusal["text"]
        db = sqlite3.connect(private_database)
        assert db.execute("select count(*) from dialogues where staff_id = ?", (str(STRANGER),)).fetchone()[0] == 0
        assert "310199" not in str(db.execute("select state from dialogues").fetchall())
        answered = {params["callback_query_id"] for params in fake.called("answerCallbackQuery")}
        pressed = {update["callback_query"]["id"] for update in fake.pushed if "callback_query" in update}
        assert pressed and answered == pressed
    finally:
        await stop_bot(application)


async def test_killing_the_bot_process_mid_dialogue_loses_no_acknowledged_answer(
        server: FakeBotApiServer, private_database: Path) -> None:
    fake = server.fake
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "UNGEBOT_TELEGRAM_API_URL": server.base_url,
           "UNGEBOT_ALLOWED_USERS": str(CASEWORKER), "UNGEBOT_SUPPORT_USERS": "", "UNGEBOT_DB": str(private_database),
           "UNGEBOT_CONFIG": str(private_database.parent / "none.toml")}

    def launch() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "telegram"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    process = launch()
    try:
        menu = await say(fake, "/start", "Hvad er der sket", timeout=30)
        question = await click(fake, menu, "Går på barsel", "Går den unge på barsel")
        question = await click(fake, question, "Går på barsel", "Hvilken markør")
        await click(fake, question, "Ungeløftet – IPS", "Hvilken startdato")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    process = launch()
    try:
        await say(fake, "1.12.2025", "Hvilken dag begynder barselsperioden", timeout=30)
        outcome = await say(fake, "1. marts 2026", "Sæt slutdato")
        assert "Sæt slutdato <b>28. februar 2026</b> på markøren »Ungeløftet – IPS«" in outcome["text"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert TOKEN not in stderr.decode(), "the token must never reach the log"
    assert "Traceback" not in stderr.decode()


async def test_asking_star_from_telegram_end_to_end(server: FakeBotApiServer, private_database: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_star import SmtpServer, free_port

    port = free_port()
    monkeypatch.setenv("UNGEBOT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("UNGEBOT_SMTP_PORT", str(port))
    monkeypatch.setenv("UNGEBOT_SMTP_FROM", "ungebot@testkommune.dk")
    smtp = SmtpServer(port)
    smtp.start()
    fake = server.fake
    application = await start_bot(server.base_url, private_database)
    try:
        menu = await say(fake, "/start", "Hvad er der sket")
        outcome = await click(fake, menu, "Får førtidspension", "Vejledningen giver ingen regel")
        await click(fake, outcome, "Spørg STAR", "Skriv dit spørgsmål til STAR")
        draft = await say(fake, "Skal markøren have en slutdato ved førtidspension?", "Udkast til spørgsmål")
        assert [label for label, _ in buttons(draft)] == ["Send til STAR", "Ret teksten", "Gem til senere",
                                                          "Slet udkastet"]
        await click(fake, draft, "Send til STAR", "er sendt til star@star.dk")  # from the background sender
        (message,) = smtp.inbox.messages()
        assert "Skal markøren have en slutdato ved førtidspension?" in message.get_content()
        assert sqlite3.connect(private_database).execute(
            "select status, channel, staff_id from star_questions").fetchall() == [("sent", "telegram", str(CASEWORKER))]
    finally:
        await stop_bot(application)
        smtp.stop()



async def test_updates_polled_together_share_a_commit_and_a_lone_one_commits_at_once(
        server: FakeBotApiServer, private_database: Path) -> None:
    """Through real polling: a getUpdates batch's answers are grouped into one commit (each waits for the others);
    an update polled alone is committed in its handler (Journal.durable(alone=True)), without a pass of the loop.
    Pinned by which commit each answer's write ran in, not by counting commits: receipts' marks and the "sent
    through" mark are committed in the background, whenever their time comes."""
    fake, users = server.fake, [CASEWORKER + n for n in range(5)]
    for user in users:
        fake.push(message_update(user, "/start"))  # waiting before the bot polls: one batch
    settings = Settings(token=TOKEN, api_url=server.base_url, allowed_users=frozenset(users), support_users=frozenset(),
                        database=private_database, municipality="Testkommune")
    bot = TelegramBot(settings, db=open_database(private_database))
    journal, durable = bot.journal, bot.journal.durable
    answers: list[tuple[bool, int, bool]] = []  # per answer: the hint, the commit its write ran in, done at once

    async def noted(write: Any, alone: bool = False) -> Any:
        ran_in: list[int] = []

        def counted(conn: sqlite3.Connection) -> Any:
            ran_in.append(journal.commits)  # the number of commits before the one this write is in
            return write(conn)

        coroutine, suspended = durable(counted, alone), False
        while True:  # drive it by hand, to see whether it waited for the loop
            try:
                waiting = coroutine.send(None)
            except StopIteration as done:
                answers.append((alone, ran_in[0], not suspended))
                return done.value
            suspended = True
            waiting._asyncio_future_blocking = False  # as a Task does with a future its coroutine yields
            with contextlib.suppress(BaseException):  # the coroutine takes the future's outcome, error or not,
                await waiting  # when it is sent on (a cancelled wait cancels the future, so it sees that too)

    journal.durable = noted  # type: ignore[method-assign]
    application = bot.build()
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        await reply(fake, 0, lambda message: len({m["chat"]["id"] for m in fake.outbox}) == len(users))
        assert [(alone, at_once) for alone, _, at_once in answers] == [(False, False)] * len(users)
        assert len({commit for _, commit, _ in answers}) == 1  # the five in one commit
        await say(fake, "/hjaelp", "", user_id=users[0])
        assert answers[-1][0::2] == (True, True)  # hinted alone, and committed before the handler went on
    finally:
        await stop_bot(application)


async def test_updates_numbered_afresh_after_a_quiet_week_are_each_applied_once_also_after_a_restart(
        server: FakeBotApiServer, private_database: Path) -> None:
    """Telegram numbers updates afresh after a week without any, maybe far below the old numbers. The bot follows
    the new numbering: each update is applied to its dialogue (not taken for one redelivered) and answered once, and
    a restart asks Telegram from the new numbering."""
    fake = server.fake
    fake.renumber(5000)
    application = await start_bot(server.base_url, private_database)
    try:
        menu = await say(fake, "/start", "Hvad er der sket med den unge?")
        question = await click(fake, menu, "Skifter målgruppe", "Hvilken markør har den unge nu?")
        fake.renumber(7)  # the quiet week
        question = await click(fake, question, "Ungeløftet – Flere unge skal med", "nu et forløb i psykiatrien")
        await click(fake, question, "Ja", "startdato har den nuværende markør")
        await say(fake, "12. oktober 2025", "Fra hvilken dag hører den unge til den nye målgruppe?")
        polls = len(fake.called("getUpdates"))
        while len(fake.called("getUpdates")) < polls + 2:  # the bot polls on after the last answer
            await asyncio.sleep(0.02)
        assert int(fake.called("getUpdates")[-1]["offset"]) == 10  # updates 7, 8 and 9, each confirmed
        shown = [params["text"] for name, params in fake.calls if name in ("sendMessage", "editMessageText")]
        for text in ("nu et forløb i psykiatrien", "startdato har den nuværende markør", "til den nye målgruppe"):
            assert sum(text in message for message in shown) == 1, (text, shown)
    finally:
        await stop_bot(application)

    polls = len(fake.called("getUpdates"))
    application = await start_bot(server.base_url, private_database)
    try:
        outcome = await say(fake, "1/2-26", "Skift markøren")  # update 10: applied, the case goes on
        assert "Opret markøren »Ungeløftet – IPS« med startdato <b>1. februar 2026</b>" in outcome["text"]
        assert int(fake.called("getUpdates")[polls]["offset"]) == 10  # the restart asks from the new numbering
    finally:
        await stop_bot(application)
