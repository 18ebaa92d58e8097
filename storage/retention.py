"""Retention: each kind of row is deleted once it is older than its setting (secure_delete overwrites it on disk)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from storage import log

# Questions still on their way to STAR are never deleted, whatever their age.
_SETTLED = "('sent', 'handed_over', 'failed')"
KINDS = ("decisions", "dialogues", "outbox", "star", "drafts", "faq")  # outbox first: its .eml paths go with it


def _cutoff(now: datetime, days: int) -> str:
    return (now - timedelta(days=days)).astimezone(timezone.utc).isoformat(timespec="seconds")


def _delete_questions(conn: sqlite3.Connection, where: str, cutoff: str) -> int:
    with conn:
        conn.execute(f"DELETE FROM star_outbox WHERE question_id IN (SELECT id FROM star_questions WHERE {where})",
                     (cutoff,))
        return conn.execute(f"DELETE FROM star_questions WHERE {where}", (cutoff,)).rowcount


def expired_eml(conn: sqlite3.Connection, days: int, now: datetime | None = None) -> list[str]:
    """The .eml copies of settled questions whose outbox rows `purge(outbox)` would delete."""
    cutoff = _cutoff(now or datetime.now(timezone.utc), days)
    return [str(row[0]) for row in conn.execute(
        f"SELECT eml_path FROM star_questions WHERE eml_path IS NOT NULL AND status IN {_SETTLED[:-1]}, 'answered') "
        "AND updated < ?", (cutoff,))]


def purge(conn: sqlite3.Connection, kind: str, days: int, now: datetime | None = None) -> int:
    """Delete the rows of one kind older than `days`; the number deleted."""
    moment = now or datetime.now(timezone.utc)
    cutoff = _cutoff(moment, days)
    if kind == "decisions":
        return log.purge(conn, days, moment)
    if kind == "dialogues":
        with conn:
            return conn.execute("DELETE FROM dialogues WHERE updated < ?", (cutoff,)).rowcount
    if kind == "star":
        return _delete_questions(conn, f"status IN {_SETTLED} AND updated < ?", cutoff)
    if kind == "drafts":
        return _delete_questions(conn, "status = 'draft' AND updated < ?", cutoff)
    if kind == "faq":
        return _delete_questions(conn, "status = 'answered' AND answered_at < ?", cutoff)
    if kind == "outbox":
        with conn:
            conn.execute(f"UPDATE star_questions SET eml_path = NULL WHERE status IN {_SETTLED[:-1]}, 'answered') "
                         "AND updated < ?", (cutoff,))
            return conn.execute(
                "DELETE FROM star_outbox WHERE queued_at < ? AND question_id IN (SELECT id FROM star_questions "
                f"WHERE status IN {_SETTLED[:-1]}, 'answered'))", (cutoff,)).rowcount
    raise ValueError(f"unknown kind of row: {kind}")
