"""Questions for STAR: stored first, then queued and sent; STAR's answers make a searchable FAQ."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from storage.records import Staff, utc_now

# draft: shown, not confirmed · queued/sending: in the outbox · sent: the SMTP server took it · handed_over: given to
# the caseworker's own mail program (mailto:/.eml), nobody knows if it went · failed: gave up, support told · answered
STATUSES = ("draft", "queued", "sending", "sent", "handed_over", "failed", "answered")

MAX_ROWID = 2**63 - 1  # the largest id SQLite stores; a bigger Python int cannot even be bound


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


def mark_handed_over(conn: sqlite3.Connection, question_id: int, eml_path: str) -> None:
    """Handed to the caseworker's own mail program (mailto: link and .eml file): not known to be sent."""
    _set(conn, question_id, status="handed_over", sent_via="mailto", eml_path=eml_path, last_error=None)


def set_eml_path(conn: sqlite3.Connection, question_id: int, eml_path: str) -> None:
    """Where the .eml copy of the question's e-mail was saved."""
    _set(conn, question_id, eml_path=eml_path)


def update_draft(conn: sqlite3.Connection, question_id: int, subject: str, body: str, words: str) -> bool:
    """A draft the caseworker changed (committed); False when it is no longer a draft."""
    with conn:
        return bool(conn.execute("UPDATE star_questions SET subject = ?, body = ?, words = ?, updated = ? "
                                 "WHERE id = ? AND status = 'draft'",
                                 (subject, body, words, utc_now(), question_id)).rowcount)


def delete_draft(conn: sqlite3.Connection, question_id: int) -> bool:
    """Delete a draft that was never sent (committed); False when it is not a draft."""
    with conn:
        return bool(conn.execute("DELETE FROM star_questions WHERE id = ? AND status = 'draft'",
                                 (question_id,)).rowcount)


def drafts(conn: sqlite3.Connection, staff: Staff) -> list[dict[str, Any]]:
    """A staff member's unsent drafts, newest first."""
    return [dict(row) for row in conn.execute(
        "SELECT * FROM star_questions WHERE status = 'draft' AND channel = ? AND staff_id = ? ORDER BY id DESC",
        (staff.channel, staff.staff_id))]


def record_answer(conn: sqlite3.Connection, question_id: int, answer: str, by: str) -> None:
    """STAR's reply, as the support team records it."""
    _set(conn, question_id, status="answered", answer=answer, answered_at=utc_now(), answered_by=by)


def get(conn: sqlite3.Connection, question_id: int) -> dict[str, Any] | None:
    """One question (None for an id no SQLite row can have)."""
    if not 0 < question_id <= MAX_ROWID:
        return None
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


def answered(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every answered question (the FAQ), newest answer first."""
    return [dict(row) for row in conn.execute(
        "SELECT * FROM star_questions WHERE status = 'answered' ORDER BY answered_at DESC, id DESC")]


def answered_for_gap(conn: sqlite3.Connection, gap: str, programme: str | None = None) -> dict[str, Any] | None:
    """STAR's newest answer to a question about this gap (in this programme only, when named: no answer is carried
    between programmes, and both have a gap called 'other')."""
    only = " AND programme = ?" if programme else ""
    row = conn.execute(f"SELECT * FROM star_questions WHERE gap = ?{only} AND status = 'answered' "
                       "ORDER BY answered_at DESC, id DESC LIMIT 1", (gap, programme) if programme else (gap,)).fetchone()
    return dict(row) if row else None
