"""storage/journal.py's timing promises: a `ride(within=…)` write is committed with the next write's commit when
one comes in time, and alone once the time is up; a durable write never waits for it. And storage/inbox.py's reads
of what a restart needs."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from pathlib import Path

import pytest
from storage import inbox
from storage.db import open_database
from storage.journal import Journal
from storage.records import Staff, update_dialogue, write_turn


async def test_a_mark_rides_with_the_next_answer_and_commits_alone_when_none_comes(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: inbox.receive(conn, [(1, "{}"), (2, "{}"), (3, "{}")]))
    assert journal.commits == 1

    journal.ride(lambda conn: inbox.mark_replied(conn, [1]), within=0.05)
    await journal.durable(lambda conn: inbox.receive(conn, [(4, "{}")]))
    assert journal.commits == 2  # the mark went with the next durable write's commit: no commit of its own
    assert [row[0] for row in inbox.unreplied(journal.conn)] == [2, 3, 4]

    loop = asyncio.get_running_loop()
    committed_at: list[float] = []

    def mark(conn: sqlite3.Connection) -> None:
        committed_at.append(loop.time())
        inbox.mark_replied(conn, [2])

    before = loop.time()
    journal.ride(mark, within=0.05)
    after = loop.time()
    assert journal._deadline is not None
    when = journal._deadline.when()  # the commit promised alone (pinned by the timer, not by wall time under load)
    assert before + 0.05 <= when <= after + 0.05
    await asyncio.sleep(0)
    assert committed_at == [] and journal.commits == 2  # not at the next pass: it waits for company
    while not committed_at and loop.time() < before + 30:  # a loaded machine may only make it late
        await asyncio.sleep(0.01)
    assert committed_at and committed_at[0] >= when - loop._clock_resolution  # never before its time
    assert journal.commits == 3 and [row[0] for row in inbox.unreplied(journal.conn)] == [3, 4]  # alone, in time


async def test_a_failing_write_is_rolled_back_alone_and_the_others_commit_together(private_database: Path) -> None:
    journal = Journal(open_database(private_database))

    def half(conn: sqlite3.Connection) -> None:
        inbox.receive(conn, [(5, "{}")])  # written, then the write fails: none of it may stay
        raise sqlite3.IntegrityError("no")

    results = await asyncio.gather(journal.durable(lambda conn: inbox.receive(conn, [(4, "{}")])),
                                   journal.durable(half), journal.durable(lambda conn: inbox.receive(conn, [(6, "{}")])),
                                   return_exceptions=True)
    assert results[0] == [4] and isinstance(results[1], sqlite3.IntegrityError) and results[2] == [6]
    assert journal.commits == 1 and journal.writes == 2  # one transaction: a crash cannot fall between them
    assert [row[0] for row in inbox.unreplied(journal.conn)] == [4, 6]
    assert not journal.conn.in_transaction


async def test_when_every_write_fails_each_is_told_and_nothing_is_left_open(private_database: Path) -> None:
    journal = Journal(open_database(private_database))

    def boom(conn: sqlite3.Connection) -> None:
        raise sqlite3.IntegrityError("no")

    await journal.durable(lambda conn: inbox.receive(conn, [(1, "{}")]))
    journal.conn.execute("PRAGMA query_only = ON")  # every write now fails, as on a disk gone read-only
    results = await asyncio.gather(journal.durable(lambda conn: inbox.receive(conn, [(2, "{}")])),
                                   journal.durable(boom), return_exceptions=True)
    journal.conn.execute("PRAGMA query_only = OFF")
    assert all(isinstance(result, sqlite3.Error) for result in results) and journal.commits == 1
    assert [row[0] for row in inbox.unreplied(journal.conn)] == [1] and not journal.conn.in_transaction


async def test_a_write_with_no_company_coming_commits_at_once_with_what_is_queued(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    batch = journal.later(lambda conn: inbox.receive(conn, [(1, "{}"), (2, "{}")]))
    passes: list[str] = []
    asyncio.get_running_loop().call_soon(passes.append, "a pass of the loop")
    result = await journal.durable(lambda conn: inbox.receive(conn, [(3, "{}")]), alone=True)
    assert result == [3] and passes == [] and journal.commits == 1  # committed before the loop ran anything else
    assert batch.done() and batch.result() == [1, 2]  # the queued write went with it, and is on disk
    assert [row[0] for row in inbox.unreplied(journal.conn)] == [1, 2, 3]
    journal.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError):  # a write that fails alone is the caller's error at once
        await journal.durable(lambda conn: inbox.receive(conn, [(4, "{}")]), alone=True)
    journal.conn.execute("PRAGMA query_only = OFF")
    assert not journal.conn.in_transaction


async def test_a_commit_that_cannot_start_fails_every_write_it_took(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """No write's future is left waiting (a receipt's would stall polling for good) when the commit fails before its
    transaction, as when the disk refuses even the pragma."""
    journal = Journal(open_database(private_database))
    batch = journal.later(lambda conn: inbox.receive(conn, [(1, "{}")]))

    def refused(level: str) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(journal, "_set_synchronous", refused)
    with pytest.raises(sqlite3.OperationalError) as raised:
        await journal.durable(lambda conn: inbox.receive(conn, [(2, "{}")]), alone=True)
    assert batch.done() and isinstance(batch.exception(), sqlite3.OperationalError)
    assert inbox.unreplied(journal.conn) == [] and not journal.conn.in_transaction
    del raised, batch  # the error they hold keeps the failed write's future (through its traceback): let go
    gc.collect()
    assert "never retrieved" not in caplog.text  # that error was raised to its caller: seen, not logged as lost


async def test_a_reply_kept_in_the_inbox_by_an_older_ungebot_is_still_sent_as_it_was(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: (inbox.receive(conn, [(7, "{}"), (8, "{}"), (9, '{"update_id": 9}')]),
                                        conn.execute("UPDATE telegram_inbox SET reply = ? WHERE update_id = 7",
                                                     ('{"text": "gammelt svar"}',)),
                                        conn.execute("UPDATE telegram_inbox SET reply = ? WHERE update_id = 8",
                                                     (inbox.compress('{"text": "nyt svar æøå"}'),))))
    assert inbox.unreplied(journal.conn) == [(7, "{}", '{"text": "gammelt svar"}'), (8, "{}", '{"text": "nyt svar æøå"}'),
                                             (9, '{"update_id": 9}', None)]


def _answer(conn: sqlite3.Connection, staff: str, update_id: int, seq: int | None, sent_through: int,
            reply: str | None = '{"text": "svar"}') -> None:
    write_turn(conn, Staff("telegram", staff), {"answers": []}, None, {
        "reply": inbox.compress(reply) if reply else None, "reply_update": update_id, "reply_seq": seq,
        "sent_through": sent_through})


async def test_progress_is_read_from_the_inbox_the_dialogue_rows_and_the_quiet_mark(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    assert inbox.progress(journal.conn) == inbox.Progress(0, 0, 0)  # a new database
    await journal.durable(lambda conn: (inbox.receive(conn, [(40, "{}")]), _answer(conn, "1", 41, 5, 3),
                                        _answer(conn, "2", 39, 6, 4)))
    write_turn(journal.conn, Staff("web", "x"), {"answers": []})  # other channels' rows have none of it
    journal.conn.commit()
    read = inbox.progress(journal.conn)
    assert read[:4] == inbox.Progress(newest=41, last_seq=6, sent_through=4, numbering=0)[:4]
    assert read.heard == max(row[0] for row in journal.conn.execute(  # when the newest update was received
        "SELECT received FROM telegram_inbox UNION SELECT updated FROM dialogues WHERE reply_update IS NOT NULL"))
    assert inbox.unsent(journal.conn, 4) == [(5, '{"text": "svar"}'), (6, '{"text": "svar"}')]
    await journal.durable(lambda conn: inbox.set_sent_through(conn, 9))
    await journal.durable(lambda conn: inbox.set_sent_through(conn, 8))  # never backwards
    assert inbox.progress(journal.conn)[:3] == (41, 9, 9)
    assert inbox.unsent(journal.conn, 9) == []


def test_a_long_reply_is_kept_compressed_and_a_short_one_as_it_is(private_database: Path) -> None:
    conn = open_database(private_database)
    long = '{"text": "' + "æøå " * 400 + '"}'
    with conn:
        _answer(conn, "1", 1, 1, 0, reply=long)
        _answer(conn, "2", 2, 2, 0)
    kinds = conn.execute("SELECT typeof(reply), length(reply) FROM dialogues ORDER BY reply_seq").fetchall()
    assert [kind for kind, _ in kinds] == ["blob", "text"] and kinds[0][1] < 100
    assert inbox.unsent(conn, 0) == [(1, long), (2, '{"text": "svar"}')]


async def test_a_row_without_a_reply_to_keep_sends_nothing_again(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: (_answer(conn, "1", 10, 1, 0), _answer(conn, "2", 11, 2, 0)))
    await journal.durable(lambda conn: update_dialogue(conn, Staff("telegram", "1"), {"reply": None}))
    assert inbox.unsent(journal.conn, 0) == [(2, '{"text": "svar"}')]
    assert not update_dialogue(journal.conn, Staff("telegram", "3"), {"reply": None})  # no row: told, not made
