"""One request at a time per key (a session, a user), any number across keys; nothing is kept for a key no request
holds or waits for."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType


class KeyedLocks:
    """Keys held by one request at a time, the others waiting in order of arrival. A key no request waits for is
    taken without a lock object or a future (every request takes one or two keys: this is on its path)."""

    def __init__(self) -> None:
        self._held: dict[str, deque[asyncio.Future[None]]] = {}  # key held -> the requests waiting for it

    def hold(self, key: str) -> _Hold:
        """`async with locks.hold(key)`: wait for the key's turn, and keep it for the block."""
        return _Hold(self, key)

    async def _wait(self, key: str, waiting: deque[asyncio.Future[None]]) -> None:
        """Wait in line for a held key; it is ours when the future is done."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting.append(future)
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():  # handed the key just as we were cancelled: hand it on
                self._release(key)
            elif future in waiting:  # cancelled while waiting: no longer waiting
                waiting.remove(future)
            raise

    def _release(self, key: str) -> None:
        """The key passes to the first request still waiting for it, or is free."""
        waiting = self._held[key]
        while waiting:
            future = waiting.popleft()
            if not future.done():
                future.set_result(None)
                return
        del self._held[key]

    def __len__(self) -> int:
        return len(self._held)


class _Hold:
    """The key's turn, as an async context manager (a class, not a generator: it is on every request's path)."""

    __slots__ = ("locks", "key")

    def __init__(self, locks: KeyedLocks, key: str) -> None:
        self.locks, self.key = locks, key

    async def __aenter__(self) -> None:
        waiting = self.locks._held.get(self.key)
        if waiting is None:
            self.locks._held[self.key] = deque()
        else:
            await self.locks._wait(self.key, waiting)

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        self.locks._release(self.key)
