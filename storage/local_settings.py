"""Answers the bot asked for once and keeps, such as the municipality's name when it is not configured."""

from __future__ import annotations

import sqlite3

from storage.records import utc_now


def get(conn: sqlite3.Connection, key: str) -> str | None:
    """A kept value, or None."""
    row = conn.execute("SELECT value FROM local_settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def put(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Keep a value (committed)."""
    with conn:
        conn.execute("INSERT INTO local_settings (key, value, updated) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value, updated = excluded.updated", (key, value, utc_now()))
