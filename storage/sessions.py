"""Server-side sessions of the web chat: one row per session, keyed by the SHA-256 of the cookie's random token, and
the page's messages as one row per turn (web_turns: the turn's messages as HTML and the answer forms after it)."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from datetime import datetime, timedelta, timezone
from json.encoder import encode_basestring
from typing import Any


PRUNE_EVERY = 20  # turns appended to a pane between deletions of its oldest


@functools.lru_cache(maxsize=4096)
def session_key(token: str) -> str:
    """The key a cookie's token is stored under: a leaked database holds no usable cookie. (Remembered for recent
    tokens: a request may ask for it more than once.)"""
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def encode(data: dict[str, Any]) -> str:
    """A session's data as stored."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def load_session(conn: sqlite3.Connection, token: str, now: datetime) -> tuple[dict[str, Any], datetime] | None:
    """The session's data and when it expires, or None if there is none or it has expired."""
    row = conn.execute("SELECT data, expires FROM web_sessions WHERE key = ? AND expires > ?",
                       (session_key(token), _stamp(now))).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return (data, datetime.fromisoformat(row[1])) if isinstance(data, dict) else None


def save_session(conn: sqlite3.Connection, token: str, data: dict[str, Any], now: datetime, lifetime: timedelta,
                 commit: bool = True) -> datetime:
    """Write the session (its idle lifetime starts again) and return when it now expires. With commit=False the
    caller's next commit takes it, so a turn and its session land in one transaction."""
    expires = (now + lifetime).astimezone(timezone.utc).replace(microsecond=0)
    conn.execute(
        "INSERT INTO web_sessions (key, data, created, expires) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET data = excluded.data, expires = excluded.expires",
        (session_key(token), encode(data), _stamp(now), _stamp(expires)))
    if commit:
        conn.commit()
    return expires


def delete_session(conn: sqlite3.Connection, token: str) -> None:
    """End a session (log-out, or a new session at login), its messages with it."""
    key = session_key(token)
    with conn:
        conn.execute("DELETE FROM web_sessions WHERE key = ?", (key,))
        conn.execute("DELETE FROM web_turns WHERE key = ?", (key,))


def purge_expired(conn: sqlite3.Connection, now: datetime) -> int:
    """Delete expired sessions and the messages of sessions that are gone; how many sessions."""
    with conn:
        count = conn.execute("DELETE FROM web_sessions WHERE expires <= ?", (_stamp(now),)).rowcount
        conn.execute("DELETE FROM web_turns WHERE key NOT IN (SELECT key FROM web_sessions)")
        return count


def append_turn(conn: sqlite3.Connection, token: str, pane: str, seq: int, messages: str, controls: str,
                keep: int) -> None:
    """Append one turn to a pane of the session's page: its messages (HTML, as a JSON array of strings) and the answer
    forms after it (JSON), in one row; now and then forget all but the last `keep` turns. Not committed: the caller's
    commit (the turn's own)."""
    key = session_key(token)
    conn.execute("INSERT OR REPLACE INTO web_turns (key, pane, seq, messages, controls) VALUES (?, ?, ?, ?, ?)",
                 (key, pane, seq, messages, controls))
    if seq % PRUNE_EVERY == PRUNE_EVERY - 1:
        conn.execute("DELETE FROM web_turns WHERE key = ? AND pane = ? AND seq <= ?", (key, pane, seq - keep))


def messages_array(messages: list[str]) -> str:
    """Messages as append_turn stores them: a JSON array of strings (json.dumps's text, with json's string encoder)."""
    return "[" + ", ".join(map(encode_basestring, messages)) + "]"


def last_turn(conn: sqlite3.Connection, token: str, pane: str) -> tuple[int, str] | None:
    """The number of a pane's last turn and the answer forms after it (as stored), or None before its first."""
    row = conn.execute("SELECT seq, controls FROM web_turns WHERE key = ? AND pane = ? ORDER BY seq DESC LIMIT 1",
                       (session_key(token), pane)).fetchone()
    return (int(row[0]), str(row[1])) if row else None


def load_messages(conn: sqlite3.Connection, token: str, pane: str, keep: int) -> list[str]:
    """A pane's last `keep` messages (HTML), oldest first."""
    found: list[str] = []
    for (messages,) in conn.execute("SELECT messages FROM web_turns WHERE key = ? AND pane = ? ORDER BY seq DESC",
                                    (session_key(token), pane)):
        found[:0] = json.loads(messages)
        if len(found) >= keep:
            break
    return found[-keep:]
