"""Questions for STAR: stored first, then queued and sent; STAR's answers make a searchable FAQ."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from storage.records import Staff, utc_now

STATUSES = ("draft", "queued", "sent", "answered")


@dataclass(frozen=True)
class Draft:
    """A drafted question: what the e-mail says and what it is about."""

    subject: str
    body: str
    words: str
    situation: str
    flow: str
    gap: str | None
    programme: str


def store_draft(conn: sqlite3.Connection, staff: Staff, draft: Draft, recipient: str) -> int:
    """Store a draft (committed) and return its id."""
    now = utc_now()
    with conn:
        cursor = conn.execute(
            "INSERT INTO star_questions (created, updated, status, channel, staff_id, staff_name, programme, flow, gap, "
            "situation, subject, body, words, recipient) VALUES (?,?,'draft',?,?,?,?,?,?,?,?,?,?,?)",
            (now, now, staff.channel, staff.staff_id, staff.name, draft.programme, draft.flow, draft.gap,
             draft.situation, draft.subject, draft.body, draft.words, recipient))
    return int(cursor.lastrowid or 0)


def _set(conn: sqlite3.Connection, question_id: int, **columns: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with conn:
        conn.execute(f"UPDATE star_questions SET {assignments}, updated = ? WHERE id = ?",
                     [*columns.values(), utc_now(), question_id])


def queue(conn: sqlite3.Connection, question_id: int) -> None:
    """The caseworker confirmed: the question is to be sent (committed before any attempt)."""
    _set(conn, question_id, status="queued")


def mark_sent(conn: sqlite3.Connection, question_id: int, via: str, eml_path: str | None = None) -> None:
    """Sent by SMTP, or handed to the caseworker's own mail program (via 'mailto')."""
    _set(conn, question_id, status="sent", sent_at=utc_now(), sent_via=via, eml_path=eml_path, last_error=None)


def mark_failed(conn: sqlite3.Connection, question_id: int, error: str, eml_path: str | None = None) -> None:
    """A send that failed: the question stays queued, the attempt is counted."""
    with conn:
        conn.execute("UPDATE star_questions SET attempts = attempts + 1, last_error = ?, eml_path = COALESCE(?, eml_path), "
                     "updated = ? WHERE id = ?", (error[:500], eml_path, utc_now(), question_id))


def record_answer(conn: sqlite3.Connection, question_id: int, answer: str, by: str) -> None:
    """STAR's reply, as the support team records it."""
    _set(conn, question_id, status="answered", answer=answer, answered_at=utc_now(), answered_by=by)


def get(conn: sqlite3.Connection, question_id: int) -> dict[str, Any] | None:
    """One question."""
    row = conn.execute("SELECT * FROM star_questions WHERE id = ?", (question_id,)).fetchone()
    return dict(row) if row else None


def find(conn: sqlite3.Connection, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Questions, newest first, optionally of one status."""
    sql, params = "SELECT * FROM star_questions", list[Any]()
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    sql += " ORDER BY id DESC"
    if limit:
        sql += " LIMIT ?"
        params.append(limit)
    return [dict(row) for row in conn.execute(sql, params)]


def queued(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Questions waiting to be sent, oldest first."""
    return [dict(row) for row in conn.execute("SELECT * FROM star_questions WHERE status = 'queued' ORDER BY id")]


def answered_for_gap(conn: sqlite3.Connection, gap: str) -> dict[str, Any] | None:
    """STAR's newest answer to a question about this gap in the guide."""
    row = conn.execute("SELECT * FROM star_questions WHERE gap = ? AND status = 'answered' ORDER BY answered_at DESC, "
                       "id DESC LIMIT 1", (gap,)).fetchone()
    return dict(row) if row else None


_WORD = re.compile(r"\w+", re.UNICODE)


def search(conn: sqlite3.Connection, words: str, limit: int = 5) -> list[dict[str, Any]]:
    """Answered questions matching any of the words (full-text, best first); the newest when no words."""
    terms = [term for term in _WORD.findall(words.lower()) if len(term) > 1]
    if not terms:
        rows = conn.execute("SELECT * FROM star_questions WHERE status = 'answered' ORDER BY answered_at DESC LIMIT ?",
                            (limit,))
        return [dict(row) for row in rows]
    query = " OR ".join(f'"{term}"*' for term in terms)  # each word quoted: no FTS syntax from the user gets through
    rows = conn.execute(
        "SELECT q.* FROM star_questions_fts f JOIN star_questions q ON q.id = f.rowid "
        "WHERE star_questions_fts MATCH ? AND q.status = 'answered' ORDER BY bm25(star_questions_fts) LIMIT ?",
        (query, limit))
    return [dict(row) for row in rows]
