"""The background sender: a task on the bot's event loop that sends what is queued, off the conversation path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from bot.desk.star.desk import Delivery, StarDesk
from storage import outbox

log = logging.getLogger("ungebot.star")
Notify = Callable[[Delivery], Awaitable[None]]


class Sender:
    """Wakes when a question is queued (or when the next back-off is due) and sends everything that is due."""

    def __init__(self, desk: StarDesk, notify: Notify | None = None, poll_seconds: int | None = None) -> None:
        self.desk, self.notify = desk, notify
        self.poll_seconds = poll_seconds or desk.mail.retry_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was queued: send it now."""
        self._wake.set()

    async def run_once(self) -> list[Delivery]:
        """Send what is due and tell whom it concerns; a notice that fails is logged, never lost work."""
        deliveries = await self.desk.send_due()
        for delivery in deliveries:
            if self.notify is not None:
                try:
                    await self.notify(delivery)
                except Exception as exc:  # noqa: BLE001 - a notice must not stop the sender
                    log.warning("notice for question %s failed: %s", delivery.question_id, type(exc).__name__)
        return deliveries

    def _pause(self) -> float:
        due = outbox.next_due(self.desk.conn)
        if due is None:
            return float(self.poll_seconds)
        wait = (datetime.fromisoformat(due) - datetime.now(timezone.utc)).total_seconds()
        return max(0.5, min(float(self.poll_seconds), wait))

    async def run(self) -> None:
        """Until cancelled: send what is due, then sleep until woken or the next attempt is due."""
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - the database was busy or the like: try again later
                log.error("sending queued questions failed: %s", type(exc).__name__)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._pause())
            except asyncio.TimeoutError:
                pass
