"""storage/journal.py's timing promises: a `ride(within=…)` write is committed with the next write's commit when
one comes in time, and alone once the time is up; a durable write never waits for it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import inbox
from storage.db import open_database
from storage.journal import Journal


async def test_a_mark_rides_with_the_next_answer_and_commits_alone_when_none_comes(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: inbox.receive(conn, [(1, "{}"), (2, "{}"), (3, "{}")]))
    assert journal.commits == 1

    journal.ride(lambda conn: inbox.mark_replied(conn, [1]), within=0.05)
    await journal.durable(lambda conn: inbox.store_reply(conn, 2, '{"text": "svar"}'))
    assert journal.commits == 2  # the mark went with the answer's commit: no commit of its own
    assert [row[0] for row in inbox.unreplied(journal.conn)] == [2, 3]

    journal.ride(lambda conn: inbox.mark_replied(conn, [2]), within=0.05)
    await asyncio.sleep(0.01)
    assert journal.commits == 2 and [row[0] for row in inbox.unreplied(journal.conn)] == [2, 3]  # not yet
    await asyncio.sleep(0.1)
    assert journal.commits == 3 and [row[0] for row in inbox.unreplied(journal.conn)] == [3]  # alone, in time


async def test_a_stored_reply_replaces_the_update_it_answers(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: inbox.receive(conn, [(5, '{"update_id": 5}'), (6, '{"update_id": 6}')]))
    await journal.durable(lambda conn: (inbox.store_reply(conn, 5, '{"text": "svar"}'),
                                        inbox.store_reply(conn, 6, None)))
    # 5 is answered (its reply is what a restart sends); 6 waits for a reply composed after the commit, so a
    # restart must still be able to handle it.
    assert inbox.unreplied(journal.conn) == [(5, "", '{"text": "svar"}'), (6, '{"update_id": 6}', None)]


async def test_a_reply_stored_before_compression_is_still_sent_as_it_was(private_database: Path) -> None:
    journal = Journal(open_database(private_database))
    await journal.durable(lambda conn: (inbox.receive(conn, [(7, "{}"), (8, "{}")]),
                                        conn.execute("UPDATE telegram_inbox SET reply = ? WHERE update_id = 7",
                                                     ('{"text": "gammelt svar"}',)),
                                        inbox.store_reply(conn, 8, '{"text": "nyt svar æøå"}')))
    stored = journal.conn.execute("SELECT typeof(reply) FROM telegram_inbox WHERE update_id = 8").fetchone()[0]
    assert stored == "blob"
    assert [reply for _, _, reply in inbox.unreplied(journal.conn)] == ['{"text": "gammelt svar"}',
                                                                        '{"text": "nyt svar æøå"}']
