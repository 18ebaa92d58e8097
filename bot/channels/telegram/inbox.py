"""Durable receipt of Telegram updates, and replies that survive a crash.

PTB's Updater confirms a batch of updates to Telegram (the `offset` of the next getUpdates) as soon as it has put
them on the Application's queue; a crash then loses what was fetched and not yet handled. `InboxBot.get_updates`
therefore has each batch committed before it asks for the next one, so nothing is confirmed that is not on disk. The
bookkeeping that keeps this at one row per answer, and the replies a restart sends again, are `Receipts`
(bot/channels/telegram/receipts.py); `replay` finishes at start what a crash interrupted.

Telegram numbers its updates afresh after a week without any ("chosen randomly instead of sequentially"), maybe far
below the old numbers, and an offset beyond its numbering confirms nothing: asked from the old offset, it sends the
new updates again and again. `InboxBot` therefore asks from the offset its last batch gave (not the highest ever),
and sees a batch below that offset as a new numbering (`Receipts.renumbered`; each dialogue's newest applied update
then counts only within its numbering). After six quiet days the bot asks without an offset, for whatever Telegram
has: an old offset could otherwise confirm the new numbering's updates unseen (as the Bot API's text reads). Nothing
is handled twice that way: Telegram keeps an update 24 hours at most, so all it still has after six days came since.

`UserOrder` handles updates concurrently across users but one at a time, in order, for each user.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ExtBot
from telegram.request import BaseRequest

from bot.channels.telegram.receipts import Receipts
from bot.channels.telegram.send import Outgoing, deliver
from storage import inbox
from storage.records import to_json

log = logging.getLogger("ungebot.telegram")
# Telegram numbers updates afresh after a week without any; after this long without one, getUpdates is asked without
# an offset (a day's margin).
ASK_AFRESH_AFTER = 6 * 24 * 3600.0


class RawUpdates(BaseRequest):
    """The getUpdates request, keeping each update's JSON exactly as Telegram sent it (PTB's documented hook
    parse_json_payload), so the inbox stores it without serialising PTB objects back."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.raw: dict[int, str] = {}

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        data: dict[str, Any] = self.inner.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            for item in result:
                if isinstance(item, dict) and "update_id" in item:
                    self.raw[item["update_id"]] = to_json(item)
        return data

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return await self.inner.do_request(*args, **kwargs)


class InboxBot(ExtBot):  # type: ignore[type-arg]
    """An ExtBot whose getUpdates returns only updates already committed (see the module docstring)."""

    def __init__(self, receipts: Receipts, token: str, get_updates_request: BaseRequest,
                 clock: Callable[[], float] = time.time, **kwargs: Any) -> None:
        self._raw = RawUpdates(get_updates_request)
        super().__init__(token, get_updates_request=self._raw, **kwargs)
        self._receipts = receipts
        self._next_offset = receipts.newest + 1 if receipts.newest else 0
        self._receipt: asyncio.Future[Any] | None = None
        self._clock = clock
        self._heard = datetime.fromisoformat(receipts.heard).timestamp() if receipts.heard else clock()

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        # This call confirms the previous batch to Telegram: that batch must be on disk first. Its write rides
        # with the commit of the first answers it carries, so a lone answer costs one fsync, not two.
        if self._receipt is not None:
            await self._receipts.flushed(self._receipt)
            self._receipt = None
        # Never ask again for what is on disk: after a restart the Updater starts from offset 0. After six quiet days,
        # no offset (see the module docstring).
        if self._next_offset:
            offset = self._next_offset if self._clock() - self._heard < ASK_AFRESH_AFTER else None
        updates = await super().get_updates(offset, *args, **kwargs)
        if updates:
            self._heard = self._clock()
            if updates[0].update_id < self._next_offset:  # below what was confirmed: a new numbering
                log.warning("Telegram numbers its updates afresh (update %d, where %d was next): following the new "
                            "numbering", updates[0].update_id, self._next_offset)
                self._receipts.renumbered()
            bodies = [(update.update_id, self._raw.raw.pop(update.update_id, None) or update.to_json())
                      for update in updates]
            self._raw.raw.clear()
            self._receipt = self._receipts.receive(bodies)
            self._next_offset = updates[-1].update_id + 1
        return updates


class UserOrder(BaseUpdateProcessor):
    """Concurrent across users; one at a time and in arrival order for each user (a dialogue is a sequence)."""

    def __init__(self, receipts: Receipts, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._receipts = receipts
        self._locks: dict[int | None, tuple[asyncio.Lock, list[int]]] = {}  # per user: lock, [users of it]

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        key = user.id if user is not None else None
        lock, holders = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock:
                await coroutine
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._locks[key]
        if isinstance(update, Update):  # handled and answered (PTB's error handler has seen any failure)
            self._receipts.done(update.update_id)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def replay(application: Application, receipts: Receipts) -> int:  # type: ignore[type-arg]
    """Finish what a crash interrupted, before anything new: the replies not known to be sent are sent again as
    stored (an edit again is a no-op), in the order they were committed; an update not yet handled is queued first.
    How many there were."""
    conn = receipts.journal.conn
    waiting = inbox.unreplied(conn)
    for update_id, _, reply in waiting:  # kept in the inbox by an ungebot before m022
        if reply is not None:
            await deliver(application.bot, Outgoing.from_json(reply))
            receipts.journal.soon(partial(inbox.mark_replied, update_ids=[update_id]))
    unsent = inbox.unsent(conn, receipts.written)
    for _, reply in unsent:
        await deliver(application.bot, Outgoing.from_json(reply))
    if unsent:
        receipts.resent()
    queued = [(update_id, body) for update_id, body, reply in waiting if reply is None]
    receipts.pending([update_id for update_id, _ in queued])
    for _, body in queued:
        application.update_queue.put_nowait(Update.de_json(json.loads(body), application.bot))
    if waiting or unsent:
        log.info("after the restart: %d reply(s) sent again, %d update(s) handled first",
                 len(unsent) + len(waiting) - len(queued), len(queued))
    return len(waiting) + len(unsent)


def polling_bot(receipts: Receipts, token: str, base_url: str | None, request: Any = None,
                updates_request: Any = None, rate_limiter: Any = None) -> InboxBot:
    """An InboxBot with the request pools ApplicationBuilder would give it (256 connections; 1 for polling)."""
    from telegram.request import HTTPXRequest

    kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
    return InboxBot(receipts, token, request=request or HTTPXRequest(connection_pool_size=256),
                    get_updates_request=updates_request or HTTPXRequest(), rate_limiter=rate_limiter, **kwargs)
