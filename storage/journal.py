"""Group commit for an asyncio server: writes queued during one pass of the event loop share one transaction.

An awaited write is durable (synchronous=FULL: fsynced) when the await returns, so a reply sent after it never
acknowledges what a crash could lose. Bookkeeping (such as "this update was answered") rides along with the next
commit: `soon` asks for that commit now, `ride(within=…)` waits up to that long for another write's commit and only
then makes a cheap one of its own (synchronous=NORMAL: it survives the process being killed, not a power cut), and
plain `ride` waits for whatever comes. Everything runs on the event loop's thread: a commit blocks it for one fsync,
and whatever the loop handled meanwhile queues up for the next commit.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

Write = Callable[[sqlite3.Connection], Any]


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

    async def durable(self, write: Write) -> Any:
        """Run `write(conn)` in the next group commit; return its result once it is on disk."""
        return await self._queue(write, durable=True)

    def later(self, write: Write) -> asyncio.Future[Any]:
        """Run `write(conn)` with whatever is committed next, durably, without asking for a commit of its own;
        the future is done once it is on disk (await `flushed(future)` to insist)."""
        return self._queue(write, durable=True, schedule=False)

    def ride(self, write: Write, within: float | None = None) -> None:
        """Run `write(conn)` with whatever is committed next; with `within`, in a commit of its own if nothing else
        is committed for that many seconds, else however late (a crash may lose it)."""
        self._queue(write, durable=False, schedule=False)
        if within is not None and self._deadline is None:
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
        self._set_synchronous("FULL" if any(future is not None for _, future in batch) else "NORMAL")
        try:
            with self.conn:
                results = [write(self.conn) for write, _ in batch]
        except Exception:  # one bad write must not fail the others: each alone, in its own transaction
            for write, future in batch:
                self._commit_alone(write, future)
            return
        self.commits += 1
        self.writes += len(batch)
        for (_, future), result in zip(batch, results):
            if future is not None and not future.done():
                future.set_result(result)

    def _commit_alone(self, write: Write, future: asyncio.Future[Any] | None) -> None:
        try:
            with self.conn:
                result = write(self.conn)
        except Exception as exc:
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        self.commits += 1
        self.writes += 1
        if future is not None and not future.done():
            future.set_result(result)

    def _set_synchronous(self, level: str) -> None:
        if level != self._synchronous:
            self.conn.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level
