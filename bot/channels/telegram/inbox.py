"""Durable receipt of Telegram updates.

PTB's Updater confirms a batch of updates to Telegram (the `offset` of the next getUpdates) as soon as it has put
them on the Application's queue; a crash then loses what was fetched and not yet handled. `InboxBot.get_updates`
therefore commits each batch to the inbox table before handing it to the Updater, so nothing is confirmed that is
not on disk. `UserOrder` handles updates concurrently across users but one at a time, in order, for each user, and
marks each update replied once handled. The reply to each update is committed with the answer
it acknowledges (in the inbox row), so after a restart `replay` sends exactly the replies a crash interrupted and
queues, ahead of any new update, those not yet handled.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from functools import partial
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseUpdateProcessor, ExtBot
from telegram.request import BaseRequest

from bot.channels.telegram.send import Outgoing, deliver
from storage import inbox
from storage.journal import Journal

log = logging.getLogger("ungebot.telegram")
PRUNE_EVERY = 500  # replied updates between two clean-ups of the inbox
# A sent reply is marked in the inbox with the next answer's commit, or in a cheap commit of its own this many
# seconds later: a commit per reply cost as much as the rest of the answer. A kill inside that window makes the
# restart send the stored reply again, as it would a send in flight at the kill (the Bot API has no idempotent
# send); a crash bench counts both as "sent again at a kill".
MARK_WITHIN = 0.005


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
                    self.raw[item["update_id"]] = json.dumps(item, ensure_ascii=False)
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
    """An ExtBot whose getUpdates returns only updates already committed to the inbox."""

    def __init__(self, journal: Journal, token: str, get_updates_request: BaseRequest, **kwargs: Any) -> None:
        self._raw = RawUpdates(get_updates_request)
        super().__init__(token, get_updates_request=self._raw, **kwargs)
        self._journal = journal
        newest = inbox.newest(journal.conn)
        self._next_offset = newest + 1 if newest else 0
        self._receipt: asyncio.Future[Any] | None = None

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        # This call confirms the previous batch to Telegram: that batch must be on disk first. Its write rides
        # with the commit of the first answers it carries, so a lone answer costs one fsync, not two.
        if self._receipt is not None:
            await self._journal.flushed(self._receipt)
            self._receipt = None
        # Never ask again for what the inbox holds: after a restart the Updater starts from offset 0.
        if self._next_offset:
            offset = max(offset or 0, self._next_offset)
        updates = await super().get_updates(offset, *args, **kwargs)
        if updates:
            bodies = [(update.update_id, self._raw.raw.pop(update.update_id, None) or update.to_json())
                      for update in updates]
            self._raw.raw.clear()
            self._receipt = self._journal.later(partial(inbox.receive, updates=bodies))
            self._next_offset = max(self._next_offset, updates[-1].update_id + 1)
        return updates


class UserOrder(BaseUpdateProcessor):
    """Concurrent across users; one at a time and in arrival order for each user (a dialogue is a sequence)."""

    def __init__(self, journal: Journal, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._journal = journal
        self.edited: set[int] = set()  # updates answered by editing a message: sending that again is a no-op
        self._locks: dict[int | None, tuple[asyncio.Lock, list[int]]] = {}  # per user: lock, [users of it]
        self._replied = 0

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
            mark = partial(inbox.mark_replied, update_ids=[update.update_id])
            if update.update_id in self.edited:  # no commit of its own: a restart that edits again changes nothing
                self.edited.discard(update.update_id)
                self._journal.ride(mark)
            else:  # with the next answer's commit, or alone when the bot goes quiet (see MARK_WITHIN)
                self._journal.ride(mark, within=MARK_WITHIN)
            self._replied += 1
            if self._replied % PRUNE_EVERY == 0:
                self._journal.soon(inbox.prune)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


async def replay(application: Application, journal: Journal) -> int:  # type: ignore[type-arg]
    """Finish what a crash interrupted, before anything new: a reply stored with its answer is sent as stored (an
    edit again is a no-op); an update not yet handled is queued first. How many there were."""
    pending = inbox.unreplied(journal.conn)
    for update_id, body, reply in pending:
        if reply is not None:
            await deliver(application.bot, Outgoing.from_json(reply))
            journal.soon(partial(inbox.mark_replied, update_ids=[update_id]))
        else:
            application.update_queue.put_nowait(Update.de_json(json.loads(body), application.bot))
    if pending:
        log.info("handling %d update(s) received before the restart first", len(pending))
    return len(pending)


def polling_bot(journal: Journal, token: str, base_url: str | None, request: Any = None,
                updates_request: Any = None, rate_limiter: Any = None) -> InboxBot:
    """An InboxBot with the request pools ApplicationBuilder would give it (256 connections; 1 for polling)."""
    from telegram.request import HTTPXRequest

    kwargs: dict[str, Any] = {"base_url": base_url} if base_url else {}
    return InboxBot(journal, token, request=request or HTTPXRequest(connection_pool_size=256),
                    get_updates_request=updates_request or HTTPXRequest(), rate_limiter=rate_limiter, **kwargs)


