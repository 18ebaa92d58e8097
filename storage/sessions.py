"""Server-side sessions of the web chat: one row per session, keyed by the SHA-256 of the cookie's random token."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any


PRUNE_EVERY = 20  # rows appended to a pane between deletions of its oldest


@functools.lru_cache(maxsize=4096)
def session_key(token: str) -> str:
    """The key a cookie's token is stored under: a leaked database holds no usable cookie. (Remembered for recent
    tokens: a request asks for it up to three times.)"""
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def encode(data: dict[str, Any]) -> str:
    """A session's data as stored: the same data always gives the same text (so a change shows as a new text)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def load_session(conn: sqlite3.Connection, token: str, now: datetime) -> tuple[dict[str, Any], str] | None:
    """The session's data and its text as stored, or None if there is none or it has expired."""
    row = conn.execute("SELECT data FROM web_sessions WHERE key = ? AND expires > ?",
                       (session_key(token), _stamp(now))).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return (data, str(row[0])) if isinstance(data, dict) else None


def save_session(conn: sqlite3.Connection, token: str, data: dict[str, Any] | str, now: datetime, lifetime: timedelta,
                 commit: bool = True) -> None:
    """Write the session (its idle lifetime starts again); `data` may be given as its `encode`d text. With
    commit=False the caller's next commit takes it, so a turn and its session land in one transaction."""
    conn.execute(
        "INSERT INTO web_sessions (key, data, created, expires) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
        (session_key(token), data if isinstance(data, str) else encode(data), _stamp(now), _stamp(now + lifetime)))
    if commit:
        conn.commit()


def delete_session(conn: sqlite3.Connection, token: str) -> None:
    """End a session (log-out, or a new session at login), its messages with it."""
    key = session_key(token)
    with conn:
        conn.execute("DELETE FROM web_sessions WHERE key = ?", (key,))
        conn.execute("DELETE FROM web_transcript WHERE key = ?", (key,))


def purge_expired(conn: sqlite3.Connection, now: datetime) -> int:
    """Delete expired sessions and the messages of sessions that are gone; how many sessions."""
    with conn:
        count = conn.execute("DELETE FROM web_sessions WHERE expires <= ?", (_stamp(now),)).rowcount
        conn.execute("DELETE FROM web_transcript WHERE key NOT IN (SELECT key FROM web_sessions)")
        return count


def append_entries(conn: sqlite3.Connection, token: str, pane: str, first: int, entries: list[dict[str, Any]],
                   keep: int) -> None:
    """Append a turn's messages to a pane of the session's transcript as rows `first`, `first + 1`, ... and forget
    all but the last `keep` (now and then: up to PRUNE_EVERY more may stay a while; load_entries reads `keep`).
    Not committed: the caller's commit (the turn's own) takes them."""
    key = session_key(token)
    conn.executemany("INSERT OR REPLACE INTO web_transcript (key, pane, seq, entry) VALUES (?, ?, ?, ?)",
                     [(key, pane, first + index, json.dumps(entry, ensure_ascii=False))
                      for index, entry in enumerate(entries)])
    end = first + len(entries)
    if end // PRUNE_EVERY != first // PRUNE_EVERY:
        conn.execute("DELETE FROM web_transcript WHERE key = ? AND pane = ? AND seq < ?", (key, pane, end - keep))


def load_entries(conn: sqlite3.Connection, token: str, pane: str, keep: int) -> list[dict[str, Any]]:
    """A pane's last `keep` messages, oldest first."""
    rows = conn.execute("SELECT entry FROM web_transcript WHERE key = ? AND pane = ? ORDER BY seq DESC LIMIT ?",
                        (session_key(token), pane, keep)).fetchall()
    return [json.loads(row[0]) for row in reversed(rows)]
