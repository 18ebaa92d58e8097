"""Receipts (bot/channels/telegram/receipts.py): an answer is one row, a batch's inbox rows are written only for updates
still waiting at its commit, and "sent through" tells a restart exactly which stored replies may not have gone out."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest

from bot.channels.telegram.inbox import InboxBot
from bot.channels.telegram.receipts import MARK_WITHIN, Receipts
from bot.channels.telegram.send import Outgoing
from storage import inbox
from storage.db import open_database
from storage.journal import Journal
from storage.records import Staff, write_turn
from tests.fake_telegram import FakeTelegram, OfflineRequest, message_update


CASEWORKER_CHAT = 4711


def _receipts(path: Path) -> Receipts:
    return Receipts(Journal(open_database(path)))


async def _answer(receipts: Receipts, update_id: int, staff: str = "1") -> int:
    """As TelegramBot._commit does: claim, number the reply, write the row (marking an inbox row in the same write)."""
    row = receipts.claim(update_id)
    seq = receipts.open()
    kept_id = receipts.kept_id(update_id)

    def write(conn: sqlite3.Connection) -> None:
        write_turn(conn, Staff("telegram", staff), {"answers": []}, None, {
            "reply": inbox.compress('{"text": "svar"}'), "reply_update": kept_id, "reply_seq": seq,
            "sent_through": receipts.carry()})
        if row:
            inbox.mark_replied(conn, [update_id])

    await receipts.journal.durable(write)
    receipts.answered(update_id)
    return seq


def _inbox(receipts: Receipts) -> list[tuple[int, int, str]]:
    return [tuple(row) for row in receipts.journal.conn.execute(  # type: ignore[misc]
        "SELECT update_id, replied, body FROM telegram_inbox ORDER BY update_id")]


async def test_an_update_answered_in_its_batchs_commit_is_one_row_and_keeps_the_offset(private_database: Path) -> None:
    receipts = _receipts(private_database)
    receipts.receive([(10, "{}")])
    await _answer(receipts, 10)
    assert receipts.journal.commits == 1 and receipts.journal.writes == 2
    assert _inbox(receipts) == []  # no inbox row: the dialogue's row holds the update id
    assert inbox.progress(receipts.journal.conn).newest == 10
    assert _receipts(private_database).newest == 10  # what a restart asks Telegram from (offset 11)


async def test_an_update_still_waiting_at_its_batchs_commit_keeps_a_row_until_answered(private_database: Path) -> None:
    receipts = _receipts(private_database)
    receipts.receive([(10, '{"a": 1}'), (11, '{"b": 2}')])
    await _answer(receipts, 10)
    assert _inbox(receipts) == [(11, 0, '{"b": 2}')]  # a crash now: the restart handles 11
    await _answer(receipts, 11, staff="2")
    assert _inbox(receipts) == [(11, 1, "")]  # marked in the answer's own commit
    assert receipts.journal.commits == 2


async def test_an_update_handled_without_a_reply_of_ours_is_kept_as_replied(private_database: Path) -> None:
    receipts = _receipts(private_database)
    receipts.receive([(20, '{"c": 3}')])
    receipts.done(20)  # e.g. a stranger refused, before the batch was committed
    receipts.journal.flush()
    assert _inbox(receipts) == [(20, 1, "")]
    future = receipts.receive([(21, '{"d": 4}')])
    await receipts.flushed(future)  # committed while still waiting
    receipts.done(21)
    assert _inbox(receipts) == [(20, 1, ""), (21, 0, '{"d": 4}')]
    await asyncio.sleep(MARK_WITHIN * 4)
    assert _inbox(receipts) == [(20, 1, ""), (21, 1, "")]  # the mark's own cheap commit


async def test_an_update_whose_answer_failed_is_kept_as_replied_with_its_offset(private_database: Path) -> None:
    receipts = _receipts(private_database)

    def fails(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    # The batch and a failing answer in one commit: the batch leaves the row out for the answer, which fails.
    receipts.receive([(30, '{"e": 5}'), (31, '{"f": 6}')])
    assert receipts.claim(30) is False
    answer = asyncio.ensure_future(receipts.journal.durable(fails))
    await _answer(receipts, 31, staff="2")  # another user's answer, in the same commit: it stands
    assert isinstance((await asyncio.gather(answer, return_exceptions=True))[0], sqlite3.OperationalError)
    receipts.done(30)  # the error handler has told the caseworker
    receipts.journal.flush()
    assert _inbox(receipts) == [(30, 1, "")]  # replied: not handled again after a restart; 30 stays received
    # A row already committed, then an answer that fails: the row is marked replied, not left to be handled again.
    future = receipts.receive([(32, '{"g": 7}')])
    await receipts.flushed(future)
    assert receipts.claim(32) is True
    receipts.done(32)
    await asyncio.sleep(MARK_WITHIN * 4)
    assert _inbox(receipts) == [(30, 1, ""), (32, 1, "")]
    assert _receipts(private_database).newest == 32


async def test_a_batch_and_the_answers_taking_it_stay_together_when_another_write_fails(
        private_database: Path) -> None:
    receipts = _receipts(private_database)

    def fails(conn: sqlite3.Connection) -> None:
        raise sqlite3.IntegrityError("no")

    receipts.receive([(40, "{}"), (41, '{"h": 8}')])
    failing = asyncio.ensure_future(receipts.journal.durable(fails))
    await _answer(receipts, 40)  # in the same commit as its batch, with a failing write between
    assert isinstance((await asyncio.gather(failing, return_exceptions=True))[0], sqlite3.IntegrityError)
    assert receipts.journal.commits == 1  # not one commit per write: a crash cannot fall between them
    assert _inbox(receipts) == [(41, 0, '{"h": 8}')]  # 41 waits for its answer; 40 is answered in its row
    assert inbox.progress(receipts.journal.conn).newest == 41


async def test_sent_through_is_the_lowest_open_reply_less_one_and_never_goes_back(private_database: Path) -> None:
    receipts = _receipts(private_database)
    first, second, third = receipts.open(), receipts.open(), receipts.open()
    assert (first, second, third) == (1, 2, 3) and receipts.sent_through() == 0
    receipts.close(second)
    assert receipts.sent_through() == 0  # 1 may still be unsent: a restart must send it (and so 2 and 3) again
    receipts.close(first)
    assert receipts.sent_through() == 2
    fourth = receipts.open()
    assert receipts.sent_through() == 2
    receipts.close(fourth)
    assert receipts.sent_through() == 2
    receipts.close(third)
    assert receipts.sent_through() == 4
    receipts.settle()
    receipts.journal.flush()
    assert inbox.progress(receipts.journal.conn).sent_through == 4


async def test_sent_through_rides_with_the_next_answer_or_alone_when_the_bot_goes_quiet(private_database: Path) -> None:
    receipts = _receipts(private_database)
    for update_id in range(1, 6):  # answers one after another, each sent before the next comes
        receipts.receive([(update_id, "{}")])
        receipts.close(await _answer(receipts, update_id, staff=str(update_id)))
    conn = receipts.journal.conn
    assert receipts.journal.commits == 5  # no commit of its own while answers keep coming
    assert conn.execute("SELECT max(sent_through) FROM dialogues").fetchone()[0] == 4  # the last answer knew 1-4
    await asyncio.sleep(MARK_WITHIN * 4)
    assert receipts.journal.commits == 6 and inbox.progress(conn).sent_through == 5
    assert inbox.unsent(conn, inbox.progress(conn).sent_through) == []


async def test_a_restart_continues_the_numbers_and_sends_again_only_what_was_not_known_sent(
        private_database: Path) -> None:
    receipts = _receipts(private_database)
    sent = await _answer(receipts, 1, staff="1")
    receipts.close(sent)
    await _answer(receipts, 2, staff="2")  # committed; the process dies before it is sent
    again = _receipts(private_database)
    assert again.written == 1 and [seq for seq, _ in inbox.unsent(again.journal.conn, again.written)] == [2]
    assert again.open() == 3  # never a number a stored reply already has


@pytest.mark.parametrize("text", ["Svar", 'Citat "x" og \\ skråstreg', "Linje\nlinje\t<b>fed</b> ✓ æøå 🙂",
                                  "\x00\x1f\u202e", "</script>" * 3])
@pytest.mark.parametrize("edit", [None, 41])
def test_a_reply_is_stored_as_json_that_reads_back_exactly(text: str, edit: int | None) -> None:
    markup = {"inline_keyboard": [[{"text": f"Ja {text}", "callback_data": "1:3:a:0"}],
                                  [{"text": "↩ Tilbage", "callback_data": "1:3:b:"}]]}
    for keyboard in (markup, None):
        outgoing = Outgoing(CASEWORKER_CHAT, text, keyboard, edit)
        assert json.loads(outgoing.to_json()) == {"chat": CASEWORKER_CHAT, "edit": edit, "markup": keyboard,
                                                  "text": text}
        assert Outgoing.from_json(outgoing.to_json()) == outgoing
        assert outgoing.keyboard == (None if keyboard is None else json.dumps(keyboard, ensure_ascii=False))


def _bot(receipts: Receipts, fake: FakeTelegram, clock: list[float]) -> InboxBot:
    return InboxBot(receipts, "123:QUIET", get_updates_request=OfflineRequest(fake), request=OfflineRequest(fake),
                    clock=lambda: clock[0])


async def _poll(bot: InboxBot, receipts: Receipts, fake: FakeTelegram) -> list[int]:
    """One getUpdates as the Updater makes it (no offset of its own: the bot's decides), the batch then put on disk;
    the ids it brought (_offsets tells the offset the bot sent)."""
    updates = await bot.get_updates(offset=None, timeout=0)
    await receipts.journal.flushed(receipts.journal.later(lambda conn: None), grace=0)
    return [update.update_id for update in updates]


def _offsets(fake: FakeTelegram) -> list[int | None]:
    return [params.get("offset") for params in fake.called("getUpdates")]


async def test_after_six_quiet_days_getupdates_is_asked_without_an_offset_also_after_a_restart(
        private_database: Path) -> None:
    """After six days without an update the bot asks for whatever Telegram has: an old offset might confirm a new
    numbering's updates unseen (as the Bot API's text reads). Until then, and once one has come, from its offset."""
    fake, clock = FakeTelegram(), [1_000_000.0]
    fake.renumber(5000, offsets_beyond_confirm=True)
    receipts = _receipts(private_database)
    bot = _bot(receipts, fake, clock)
    fake.push(message_update(CASEWORKER_CHAT, "a"))
    assert await _poll(bot, receipts, fake) == [5000]
    clock[0] += 5 * 24 * 3600
    assert await _poll(bot, receipts, fake) == [] and _offsets(fake)[-1] == 5001
    fake.renumber(7, offsets_beyond_confirm=True)  # the week is up: Telegram numbers afresh
    fake.push(message_update(CASEWORKER_CHAT, "b"))
    clock[0] += 2 * 24 * 3600
    assert await _poll(bot, receipts, fake) == [7] and _offsets(fake)[-1] is None
    assert receipts.numbering == 1
    assert await _poll(bot, receipts, fake) == [] and _offsets(fake)[-1] == 8

    # A restart a week later reads when the newest update came, from the disk.
    receipts.done(5000)
    receipts.done(7)
    await receipts.journal.flushed(receipts.journal.later(lambda conn: None), grace=0)
    heard = datetime.fromisoformat(inbox.progress(receipts.journal.conn).heard).timestamp()
    again = _receipts(private_database)
    assert again.numbering == 1 and again.newest == 7
    clock[0] = heard + 24 * 3600  # a day later: from the offset on disk
    assert await _poll(_bot(again, fake, clock), again, fake) == [] and _offsets(fake)[-1] == 8
    again = _receipts(private_database)
    clock[0] = heard + 7 * 24 * 3600  # a week later
    fake.renumber(3, offsets_beyond_confirm=True)
    fake.push(message_update(CASEWORKER_CHAT, "c"))
    assert await _poll(_bot(again, fake, clock), again, fake) == [3] and _offsets(fake)[-1] is None
    assert (again.numbering, inbox.progress(again.journal.conn).newest) == (2, 3)


async def test_an_update_of_the_old_numbering_still_being_handled_keeps_its_numbering_also_after_a_restart(
        private_database: Path) -> None:
    """When Telegram numbers afresh, the old numbering's ids kept only for the offset go; an update of it still
    being handled keeps its numbering (in memory and in its inbox row, so a restart knows it too) and leaves no id
    that the offset is read from: a restart asks from the new numbering."""
    receipts = _receipts(private_database)
    receipts.receive([(900, "{}"), (901, "{}")])
    await _answer(receipts, 900)
    await receipts.journal.flushed(receipts.journal.later(lambda conn: None), grace=0)
    receipts.done(900)
    assert inbox.progress(receipts.journal.conn).newest == 901
    receipts.renumbered()  # 901 is still being handled
    receipts.receive([(7, "{}"), (8, "{}")])
    assert (receipts.numbering_of(901), receipts.kept_id(901), receipts.numbering_of(7), receipts.kept_id(7)) == (
        0, None, 1, 7)
    await _answer(receipts, 7, staff="2")
    receipts.done(7)
    await receipts.journal.flushed(receipts.journal.later(lambda conn: None), grace=0)

    # The process dies with 901 unanswered: the restart reads the offset from the new numbering, and 901's own.
    again = _receipts(private_database)
    assert (again.newest, again.numbering) == (8, 1)
    assert (again.numbering_of(901), again.kept_id(901), again.numbering_of(8)) == (0, None, 1)
    again.pending([901, 8])
    await _answer(again, 901, staff="3")
    again.done(901)
    again.done(8)  # handled without a reply of ours
    await again.journal.flushed(again.journal.later(lambda conn: None), grace=0)
    assert (again.numbering_of(901), again.kept_id(901)) == (1, 901)  # handled: forgotten
    on_disk = inbox.progress(again.journal.conn)
    assert (on_disk.newest, on_disk.numbering, on_disk.older) == (8, 1, ())
    again.journal.soon(partial(inbox.prune, numbering=1))
    await again.journal.flushed(again.journal.later(lambda conn: None), grace=0)
    assert [row[0] for row in _inbox(again)] == [8]  # the newest row of the numbering stays, for the offset
