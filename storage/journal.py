"""Group commit for an asyncio server: writes queued during one pass of the event loop share one transaction.

An awaited write is durable (synchronous=FULL: fsynced) when the await returns, so a reply sent after it never
acknowledges what a crash could lose. Bookkeeping (such as "this update was answered") rides along with the next
commit: `soon` asks for that commit now, and `ride(within=…)` waits up to that long for another write's commit and
only then makes a cheap one of its own (synchronous=NORMAL: it survives the process being killed, not a power cut).
Everything runs on the event loop's thread: a commit blocks it for one fsync, and whatever the loop handled meanwhile
queues up for the next commit. A write that raises is rolled back alone; the others still commit together. A caller
that knows no other durable write is on its way (`durable(…, alone=True)`) has its commit made at once, with whatever
is queued, instead of a pass of the loop later: a hint about company only, never about durability.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

Write = Callable[[sqlite3.Connection], Any]


class _Failed:
    """A write's exception, kept as its result."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class Journal:
    """The one writer of a connection's hot-path writes; see the module docstring."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._queued: list[tuple[Write, asyncio.Future[Any] | None]] = []
        self._scheduled = False
        self._deadline: asyncio.TimerHandle | None = None  # a commit promised to a `ride(within=…)` write
        self._synchronous = "FULL"
        self.commits = 0  # for benchmarks: transactions made
        self.writes = 0  # ... and writes they carried

    async def durable(self, write: Write, alone: bool = False) -> Any:
        """Run `write(conn)` in the next group commit; return its result once it is on disk. With `alone` (the
        caller knows that no other durable write is on its way) the commit is made at once, with whatever is queued
        already, instead of a pass of the event loop later: no company would come, and the pass costs time. A wrong
        `alone` costs only the sharing of a commit, never durability."""
        if not alone:
            return await self._queue(write, durable=True)
        future = self._queue(write, durable=True, schedule=False)
        try:
            self.flush()
        except BaseException:
            if future.done() and not future.cancelled():
                future.exception()  # the error raised here: marked as seen, not logged as never retrieved
            raise
        return future.result()

    def later(self, write: Write) -> asyncio.Future[Any]:
        """Run `write(conn)` with whatever is committed next, durably, without asking for a commit of its own;
        the future is done once it is on disk (await `flushed(future)` to insist)."""
        return self._queue(write, durable=True, schedule=False)

    def ride(self, write: Write, within: float) -> None:
        """Run `write(conn)` with whatever is committed next, or in a commit of its own if nothing else is committed
        for `within` seconds (not durable: a power cut may lose it)."""
        self._queue(write, durable=False, schedule=False)
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(within, self.flush)

    def soon(self, write: Write) -> None:
        """Run `write(conn)` in the next commit without waiting for it (and without an fsync of its own)."""
        self._queue(write, durable=False)

    async def flushed(self, future: asyncio.Future[Any], grace: float = 0.005) -> Any:
        """Wait for a `later` write: let it ride with the next commit for up to `grace` seconds, then commit."""
        if not future.done():
            try:
                await asyncio.wait_for(asyncio.shield(future), grace)
            except asyncio.TimeoutError:
                self.flush()
        return await future

    def _queue(self, write: Write, durable: bool, schedule: bool = True) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queued.append((write, future if durable else None))
        if schedule and not self._scheduled:
            self._scheduled = True
            # After the callbacks already ready: handlers woken in this pass of the loop join the same commit.
            loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        """Commit everything queued now (called by the loop; tests and shutdown may call it directly)."""
        self._scheduled = False
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        batch, self._queued = self._queued, []
        if not batch:
            return
        try:
            results = self._commit(batch)
        except BaseException as exc:  # the pragma failed, or the process is stopping: no write is known committed
            error = exc if isinstance(exc, Exception) else sqlite3.OperationalError("the commit was interrupted")
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(error)
            raise
        for (_, future), result in zip(batch, results):
            if future is None or future.done():
                continue
            if isinstance(result, _Failed):
                future.set_exception(result.error)
            else:
                future.set_result(result)

    def _commit(self, batch: list[tuple[Write, asyncio.Future[Any] | None]]) -> list[Any]:
        """The batch in one transaction; each write's result, or its error as a _Failed."""
        self._set_synchronous("FULL" if any(future is not None for _, future in batch) else "NORMAL")
        try:
            with self.conn:
                results: list[Any] = [write(self.conn) for write, _ in batch]
        except Exception:  # one bad write must not fail the others: the batch again, each write in a savepoint
            return self._commit_apart(batch)
        self.commits += 1
        self.writes += len(batch)
        return results

    def _commit_apart(self, batch: list[tuple[Write, asyncio.Future[Any] | None]]) -> list[Any]:
        """The batch in one transaction still, each write under a savepoint of its own: a write that raises is rolled
        back alone and the others are committed together (commits made one by one could be cut by a crash between
        them, and writes that belong together, such as a batch of receipts and the answers taking some of them, must
        not be). If the commit itself fails, every write has failed."""
        results: list[Any] = []
        try:
            with self.conn:
                self.conn.execute("BEGIN")
                for write, _ in batch:
                    self.conn.execute("SAVEPOINT journal_write")
                    try:
                        results.append(write(self.conn))
                    except Exception as exc:
                        self.conn.execute("ROLLBACK TO journal_write")
                        results.append(_Failed(exc))
                    self.conn.execute("RELEASE journal_write")
        except Exception as exc:
            return [_Failed(exc)] * len(batch)
        written = sum(not isinstance(result, _Failed) for result in results)
        self.commits += written > 0
        self.writes += written
        return results

    def _set_synchronous(self, level: str) -> None:
        if level != self._synchronous:
            self.conn.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level
