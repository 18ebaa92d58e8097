"""Data kept no longer than needed: `ungebot log purge` and the running bot, once a day, apply every setting."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from storage import retention

log = logging.getLogger("ungebot.retention")
DAY = 24 * 3600


def purge_all(conn: sqlite3.Connection, keep: dict[str, int | None]) -> dict[str, int]:
    """Delete what is older than its setting (None: kept); the number of rows deleted per kind."""
    counts = {}
    for kind in retention.KINDS:
        days = keep.get(kind)
        if days is None:
            continue
        if kind == "outbox":
            for path in retention.expired_eml(conn, days):
                Path(path).unlink(missing_ok=True)
        counts[kind] = retention.purge(conn, kind, days)
    return counts


async def run_daily(conn: sqlite3.Connection, keep: dict[str, int | None], every: float = DAY) -> None:
    """Until cancelled: purge now, then once a day."""
    while True:
        try:
            counts = purge_all(conn, keep)
            if any(counts.values()):
                log.info("retention: deleted %s", ", ".join(f"{n} {kind}" for kind, n in counts.items() if n))
        except sqlite3.Error as exc:
            log.error("retention failed: %s", type(exc).__name__)
        await asyncio.sleep(every)
