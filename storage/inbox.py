"""The Telegram inbox: each update as received, on disk before Telegram is told it arrived, until it is answered.

The functions write without committing: the caller (the bot's group commit) wraps them in one transaction."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable

from storage.records import utc_now


def receive(conn: sqlite3.Connection, updates: Iterable[tuple[int, str]]) -> list[int]:
    """Store (update_id, JSON body) pairs not stored before; the ids that were new."""
    received, fresh = utc_now(), []
    for update_id, body in updates:
        cursor = conn.execute("INSERT OR IGNORE INTO telegram_inbox (update_id, received, body, replied) "
                              "VALUES (?, ?, ?, 0)", (update_id, received, body))
        if cursor.rowcount:
            fresh.append(update_id)
    return fresh


def store_reply(conn: sqlite3.Connection, update_id: int, reply: str | None) -> None:
    """Keep the reply to an update (JSON) with the answer it acknowledges, so a restart can send exactly it. The
    update itself is handled now and is dropped, and the reply is stored compressed: rows a third of the size fill a
    page a third as often, and a full page costs every answer's commit two or three pages more."""
    if reply is None:  # a reply composed only after the commit (a question sent to STAR): the update is kept
        conn.execute("UPDATE telegram_inbox SET reply = NULL WHERE update_id = ?", (update_id,))
    else:
        conn.execute("UPDATE telegram_inbox SET reply = ?, body = '' WHERE update_id = ?",
                     (zlib.compress(reply.encode("utf-8"), 1), update_id))


def _reply(stored: str | bytes | None) -> str | None:
    """A stored reply as JSON text: compressed (bytes), or as text (rows written before replies were compressed)."""
    if isinstance(stored, bytes):
        return zlib.decompress(stored).decode("utf-8")
    return stored


def mark_replied(conn: sqlite3.Connection, update_ids: Iterable[int]) -> None:
    """These updates have been answered; a restart must not handle them again."""
    for update_id in update_ids:  # mostly one: a plain statement is quicker than executemany's setup
        conn.execute("UPDATE telegram_inbox SET replied = 1 WHERE update_id = ?", (update_id,))


def prune(conn: sqlite3.Connection) -> None:
    """Forget answered updates, keeping the newest row: it tells a restart where Telegram's offset stands."""
    conn.execute("DELETE FROM telegram_inbox WHERE replied = 1 "
                 "AND update_id < (SELECT max(update_id) FROM telegram_inbox)")


def unreplied(conn: sqlite3.Connection) -> list[tuple[int, str, str | None]]:
    """(update_id, JSON body, stored reply or None) of every update received and not yet answered, oldest first."""
    rows = conn.execute("SELECT update_id, body, reply FROM telegram_inbox WHERE replied = 0 ORDER BY update_id")
    return [(int(row[0]), str(row[1]), _reply(row[2])) for row in rows]


def newest(conn: sqlite3.Connection) -> int:
    """The highest update id ever received (0 if none): the next getUpdates offset is one past it."""
    row = conn.execute("SELECT max(update_id) FROM telegram_inbox").fetchone()
    return int(row[0] or 0)
