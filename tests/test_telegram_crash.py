"""Durable receipt under crashes: bench/crash.py's trial, small (10 caseworkers, 2 SIGKILLs), and the inbox's
parts one by one."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from storage import inbox
from storage.db import open_database
from storage.journal import Journal
from storage.records import Staff, write_turn

from tests.conftest import ROOT
from tests.test_telegram import Harness, CASEWORKER
from tests.fake_telegram import message_update


def _crash_bench() -> Any:
    spec = importlib.util.spec_from_file_location("crash_bench", ROOT / "bench" / "crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_bench"] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def test_ten_dialogues_two_kills_nothing_lost_nothing_twice() -> None:
    result = _crash_bench().run(dialogues=10, kills=2, seed=20261201, kill_after=(0.05, 0.4))
    assert result.kills == 2 and result.cases >= 10
    # Only a send in flight at the very moment of a kill may arrive twice (counted apart, not here).
    assert result.failures() == dict.fromkeys(result.failures(), 0), result.notes
    assert not result.notes


async def test_group_commit_shares_one_transaction_and_isolates_a_failing_write(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    body = json.dumps({"update_id": 1})

    def boom(conn: sqlite3.Connection) -> None:
        raise sqlite3.IntegrityError("no")

    results = await asyncio.gather(
        journal.durable(lambda conn: inbox.receive(conn, [(1, body)])),
        journal.durable(lambda conn: inbox.receive(conn, [(1, body), (2, body)])),
        journal.durable(boom), return_exceptions=True)
    assert results[:2] == [[1], [2]] and isinstance(results[2], sqlite3.IntegrityError)
    assert journal.commits == 1  # the shared transaction failed; the good writes were committed together again
    journal.soon(lambda conn: inbox.mark_replied(conn, [1]))
    journal.flush()
    assert inbox.unreplied(journal.conn) == [(2, body, None)] and inbox.progress(journal.conn).newest == 2
    journal.ride(lambda conn: inbox.mark_replied(conn, [2]), within=60)
    journal.soon(inbox.prune)
    journal.flush()
    assert inbox.unreplied(journal.conn) == [] and inbox.progress(journal.conn).newest == 2  # the newest row stays


async def test_a_restart_sends_the_replies_not_known_sent_and_handles_the_rest_first(private_database: Path,
                                                                                      monkeypatch: Any) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    first = message_update(CASEWORKER, "/start", update_id=7)
    second = message_update(CASEWORKER, "2", update_id=8)

    def reply(text: str) -> bytes:
        return inbox.compress(json.dumps({"chat": CASEWORKER, "text": text, "edit": None, "markup": None}))

    # Before the crash: replies 1-3 were committed with their answers (2 users' rows hold 2 and 3), and the last
    # commit knew 1 and 2 sent; update 8 was received and not yet handled.
    conn = open_database(private_database)
    with conn:
        inbox.receive(conn, [(7, json.dumps(first)), (8, json.dumps(second))], handled={7})
        write_turn(conn, Staff("telegram", "1"), {"answers": []}, None,
                   {"reply": reply("Sendt før"), "reply_update": 5, "reply_seq": 2, "sent_through": 1})
        write_turn(conn, Staff("telegram", "2"), {"answers": []}, None,
                   {"reply": reply("Svaret fra før genstarten"), "reply_update": 7, "reply_seq": 3, "sent_through": 2})
    async with Harness(private_database) as harness:
        await harness.bot._post_init(harness.app)
        assert [m["text"] for m in harness.fake.sent] == ["Svaret fra før genstarten"]  # sent as stored, only it
        queued = harness.app.update_queue.get_nowait()
        assert queued.update_id == 8 and harness.app.update_queue.empty()
        await harness.app.process_update(queued)
        assert "Hvilken markør har den unge nu?" in harness.fake.sent[-1]["text"]  # "2": Skifter målgruppe
        assert harness.rows("SELECT replied FROM telegram_inbox WHERE update_id = 8") == [(1,)]
        await harness.bot._post_stop(harness.app)
        assert inbox.progress(harness.bot.db).sent_through >= 3  # the resent reply is known sent
        assert inbox.unsent(harness.bot.db, inbox.progress(harness.bot.db).sent_through) == []
