"""One request at a time per key (a session, a user), any number across keys; a key's lock lives while it is used."""

from __future__ import annotations

import asyncio
from types import TracebackType


class KeyedLocks:
    """asyncio locks by key, made on first use and dropped when no request holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # key -> lock, [requests holding or waiting]

    def hold(self, key: str) -> _Hold:
        """`async with locks.hold(key)`: wait for the key's turn, and keep it for the block."""
        return _Hold(self, key)

    def _enter(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        return lock

    def _leave(self, key: str) -> None:
        users = self._locks[key][1]
        users[0] -= 1
        if not users[0]:
            del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class _Hold:
    """The key's turn, as an async context manager (a class, not a generator: it is on every request's path)."""

    __slots__ = ("locks", "key", "lock")

    def __init__(self, locks: KeyedLocks, key: str) -> None:
        self.locks, self.key = locks, key

    async def __aenter__(self) -> None:
        self.lock = self.locks._enter(self.key)
        try:
            await self.lock.acquire()
        except BaseException:  # cancelled while waiting: no longer waiting
            self.locks._leave(self.key)
            raise

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        self.lock.release()
        self.locks._leave(self.key)
