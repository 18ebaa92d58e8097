"""The bookkeeping of durable receipt (see bot/channels/telegram/inbox.py), at one row per answer.

An answer is committed with its reply in the dialogue's own row (`storage.records.write_turn`'s columns), so the
ordinary answer is one row in one durable commit. `Receipts` keeps the bookkeeping in memory:

- A batch's inbox rows ride with the next commit; an update answered in that same commit needs no row (its
  dialogue row holds its update id, which keeps the offset), and one handled before it without an answer of ours
  (a stranger refused, a lesson, an answer that failed) is stored as already replied. Only an update still waiting
  when its batch is committed gets a row to handle after a crash: marked replied in its answer's commit, or, when
  handled otherwise, in the next commit (within MARK_WITHIN).
- Each stored reply gets the next number (`reply_seq`) when its commit is queued, so numbers follow the commits.
  "Sent through N" means every reply numbered up to N has been sent: the lowest number still open, less one. Each
  answer's row carries that figure at its commit, and after MARK_WITHIN seconds without a commit it is written on
  its own (cheaply, synchronous=NORMAL). A restart sends again the stored replies numbered above the highest such
  figure on disk: exactly those a crash may have interrupted (a send in flight, or one sent in the last moments),
  never one it cannot know was sent.
- Telegram's numberings of its updates (it numbers afresh after a quiet week; see inbox.py) are counted on disk, and
  each inbox row keeps the one it came in; when a new one begins (`renumbered`), the old numbering's ids kept only
  for the offset are let go, so a restart asks from the new one, and an update of an older numbering still to be
  handled keeps its own (`numbering_of`, `kept_id`).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from storage import inbox
from storage.journal import Journal

log = logging.getLogger("ungebot.telegram")
PRUNE_EVERY = 500  # updates handled between two clean-ups of the inbox
# How long "sent through" may wait for the next answer's commit to carry it before it is written alone. A kill in
# that window makes the restart send those replies again, as it would a send in flight at the kill (the Bot API
# has no idempotent send); a crash bench counts both as "sent again at a kill".
MARK_WITHIN = 0.005


@dataclass
class Batch:
    """Updates from one getUpdates, waiting for (or past) the commit of their inbox rows."""

    bodies: list[tuple[int, str]]
    numbering: int = 0  # Telegram's numbering they came in (see the module docstring)
    future: asyncio.Future[Any] | None = None  # done once the rows are committed
    answered: set[int] = field(default_factory=set)  # answered in the rows' own commit: no row
    handled: set[int] = field(default_factory=set)  # handled before that commit without a reply of ours

    def write(self, conn: sqlite3.Connection) -> list[int]:
        rows = [(i, body) for i, body in self.bodies if i not in self.answered]
        fresh = inbox.receive(conn, rows, self.handled, self.numbering) if rows else []
        if len(fresh) < len(rows):  # only when a new numbering of Telegram's meets an older update still waiting
            log.warning("update(s) %s already on disk from an older numbering: not stored again",
                        sorted({i for i, _ in rows} - set(fresh)))
        return fresh

    @property
    def committed(self) -> bool:
        return self.future is None or self.future.done()


class Receipts:
    """The in-memory side of the inbox and of the stored replies (see the module docstring)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._waiting: dict[int, Batch] = {}  # update id -> its batch, until answered or handled
        start = inbox.progress(journal.conn)
        self.newest = start.newest  # at start: the next getUpdates offset is one past it
        self._next_seq = start.last_seq + 1
        self._open: dict[int, None] = {}  # reply numbers not yet sent, ascending (numbers are given in order)
        self.written = start.sent_through  # the highest "sent through" handed to a write (at start: on disk)
        self._quiet: asyncio.TimerHandle | None = None
        self._carried = 0.0  # the loop's time of the last write that carried "sent through"
        self._handled = 0
        self.numbering = start.numbering  # Telegram's numbering of the updates now coming (see the module docstring)
        self._older = dict(start.older)  # update id -> its older numbering, until handled (a restart's too)
        self.heard = start.heard  # when the newest update on disk was received (UTC, ISO text; "" if never)

    # -- receipt --------------------------------------------------------------------------------------------------------
    def receive(self, bodies: list[tuple[int, str]]) -> asyncio.Future[Any]:
        """A batch as fetched: its rows ride with the next commit; the future is done once they are on disk."""
        batch = Batch(bodies, self.numbering)
        batch.future = self.journal.later(batch.write)
        for update_id, _ in bodies:
            self._waiting[update_id] = batch
        return batch.future

    def renumbered(self) -> None:
        """Telegram has numbered its updates afresh. The old numbering's ids kept only for the offset are let go in
        the next commit, before the new batch's rows (queue this first); the updates still waiting to be handled
        keep their numbering (`numbering_of`), on disk too (their inbox rows)."""
        for update_id in self._waiting:
            self._older.setdefault(update_id, self.numbering)
        self.numbering += 1
        self.journal.soon(partial(inbox.renumber, numbering=self.numbering))

    def numbering_of(self, update_id: int) -> int:
        """The numbering of Telegram's updates that an update being handled came in."""
        return self._older.get(update_id, self.numbering) if self._older else self.numbering

    def kept_id(self, update_id: int) -> int | None:
        """The update id an answer's row keeps for a restart's offset (dialogues.reply_update): none for an update of
        an older numbering."""
        return None if self._older and update_id in self._older else update_id

    def pending(self, update_ids: list[int]) -> None:
        """Updates whose rows are on disk already (a restart's unanswered ones): answered as any other."""
        for update_id in update_ids:
            self._waiting[update_id] = Batch([], self.numbering_of(update_id))

    def claim(self, update_id: int) -> bool:
        """This update's answer is being queued with its reply: True if its inbox row must be marked replied in that
        same write; False if it has none, or its row is not yet written (then the row is left out: the batch is in
        the same commit as the answer, queued before it). Once the answer is on disk, call `answered`."""
        batch = self._waiting.get(update_id)
        if batch is None:
            return False
        if batch.committed:
            return True
        batch.answered.add(update_id)
        return False

    def alone(self, update_id: int) -> bool:
        """No update but this one is waiting for its answer: its commit can be made at once (Journal.durable)."""
        return self._waiting.keys() <= {update_id}

    def answered(self, update_id: int) -> None:
        """The answer taking this update is on disk, with its reply and, where the update had one, its row marked."""
        self._waiting.pop(update_id, None)
        self._older.pop(update_id, None)

    def done(self, update_id: int) -> None:
        """The update has been handled (the Application's handlers and error handler are through with it). One
        whose answer did not reach the disk (it failed, and the caseworker was told) is kept as replied: it must
        not be handled again after a restart, nor its offset forgotten."""
        batch = self._waiting.pop(update_id, None)
        if batch is not None and not batch.committed:
            batch.answered.discard(update_id)
            batch.handled.add(update_id)
        elif batch is not None and update_id in batch.answered:  # its row was left out for an answer that failed
            self.journal.soon(partial(inbox.receive, updates=[(update_id, "")], handled={update_id},
                                      numbering=batch.numbering))
        elif batch is not None:
            self.journal.ride(partial(inbox.mark_replied, update_ids=[update_id]), within=MARK_WITHIN)
        self._older.pop(update_id, None)
        self._handled += 1
        if self._handled % PRUNE_EVERY == 0:
            self.journal.soon(partial(inbox.prune, numbering=self.numbering))

    async def flushed(self, future: asyncio.Future[Any]) -> None:
        """Wait for a batch's rows to be on disk (see Journal.flushed)."""
        await self.journal.flushed(future)

    # -- replies --------------------------------------------------------------------------------------------------------
    def open(self) -> int:
        """The number of a reply whose answer is about to be queued; `close` it once sent (or given up)."""
        seq, self._next_seq = self._next_seq, self._next_seq + 1
        self._open[seq] = None
        return seq

    def close(self, seq: int) -> None:
        """Reply `seq` has been sent (or its answer failed): "sent through" may move on."""
        self._open.pop(seq, None)
        if self._quiet is None and self.sent_through() > self.written:
            self._quiet = asyncio.get_running_loop().call_later(MARK_WITHIN, self._write_quietly)

    def resent(self) -> None:
        """A restart sent the stored replies not known to be sent again (all numbered below the next): they are."""
        self._mark_sent()

    def sent_through(self) -> int:
        """Every reply numbered up to this has been sent."""
        return next(iter(self._open)) - 1 if self._open else self._next_seq - 1

    def carry(self) -> int:
        """"Sent through", for a write being committed now (its row carries the figure)."""
        self.written = self.sent_through()
        self._carried = asyncio.get_running_loop().time()
        return self.written

    def _mark_sent(self) -> None:
        self.journal.soon(lambda conn: inbox.set_sent_through(conn, self.carry()))

    def settle(self) -> None:
        """At a stop: what is known sent is written with the last commit (the caller flushes the journal)."""
        if self._quiet is not None:
            self._quiet.cancel()
            self._quiet = None
        if self.sent_through() > self.written:
            self._mark_sent()

    def _write_quietly(self) -> None:
        """MARK_WITHIN after a reply was sent: if no commit has carried the figure since it changed, write it."""
        loop = asyncio.get_running_loop()
        wait = self._carried + MARK_WITHIN - loop.time()
        if wait > 0 and self.sent_through() > self.written:  # answers are still coming: the next may carry it
            self._quiet = loop.call_later(wait, self._write_quietly)
            return
        self._quiet = None
        if self.sent_through() > self.written:
            self._mark_sent()
