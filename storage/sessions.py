"""Server-side sessions of the web chat: one row per session, keyed by the SHA-256 of the cookie's random token."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from typing import Any


def session_key(token: str) -> str:
    """The key a cookie's token is stored under: a leaked database holds no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def load_session(conn: sqlite3.Connection, token: str, now: datetime) -> dict[str, Any] | None:
    """The session's data, or None if there is none or it has expired."""
    row = conn.execute("SELECT data FROM web_sessions WHERE key = ? AND expires > ?",
                       (session_key(token), _stamp(now))).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return data if isinstance(data, dict) else None


def save_session(conn: sqlite3.Connection, token: str, data: dict[str, Any], now: datetime, lifetime: timedelta,
                 commit: bool = True) -> None:
    """Write the session (its idle lifetime starts again). With commit=False the caller's next commit takes it, so a
    turn and its session land in one transaction."""
    conn.execute(
        "INSERT INTO web_sessions (key, data, created, expires) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
        (session_key(token), json.dumps(data, ensure_ascii=False), _stamp(now), _stamp(now + lifetime)))
    if commit:
        conn.commit()


def delete_session(conn: sqlite3.Connection, token: str) -> None:
    """End a session (log-out, or a new session at login)."""
    with conn:
        conn.execute("DELETE FROM web_sessions WHERE key = ?", (session_key(token),))


def purge_expired(conn: sqlite3.Connection, now: datetime) -> int:
    """Delete expired sessions; how many."""
    with conn:
        return conn.execute("DELETE FROM web_sessions WHERE expires <= ?", (_stamp(now),)).rowcount
