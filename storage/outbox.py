"""The outbox for questions to STAR: each e-mail made once, claimed atomically by one sender, retried with back-off.

Exactly once, as far as SMTP allows: a sender claims a question in one transaction (status `sending`, its claim token
and time), so two senders (the bot and `ungebot star send-queued`, or two of those) never hold the same question. A
claim older than the timeout is released (its sender died). The e-mail, Message-ID included, is made when the
question is queued and the same bytes go out on every attempt, so a copy that did reach STAR before an error carries
the same Message-ID and can be recognised as one.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

# Seconds to wait after the 1st, 2nd, 3rd failed attempt; hourly after that, until the limit of attempts.
BACKOFF = (60, 300, 1800)
LATER = 3600


def stamp(moment: datetime) -> str:
    """A time as the database stores it (UTC, ISO, seconds)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def now_utc() -> datetime:
    """Now, in UTC."""
    return datetime.now(timezone.utc)


def backoff(attempts: int) -> int:
    """Seconds before the next attempt after this many failed attempts."""
    return BACKOFF[attempts - 1] if 0 < attempts <= len(BACKOFF) else LATER


@dataclass(frozen=True)
class Claim:
    """A question a sender holds: the stored e-mail, and the token that proves the claim is still its own."""

    question_id: int
    token: str
    message: bytes
    message_id: str
    attempts: int
    recipient: str
    channel: str
    staff_id: str


def write_queued(conn: sqlite3.Connection, question_id: int, message_id: str, message: bytes,
                 now: datetime | None = None) -> None:
    """Queue a question with its e-mail, in the caller's transaction (not committed here). Queuing again keeps the
    first e-mail and its Message-ID."""
    moment = stamp(now or now_utc())
    conn.execute("INSERT OR IGNORE INTO star_outbox (question_id, message_id, message, queued_at, attempts, "
                 "next_attempt_at) VALUES (?,?,?,?,0,?)", (question_id, message_id, message, moment, moment))
    conn.execute("UPDATE star_questions SET status = 'queued', updated = ? WHERE id = ? AND status = 'draft'",
                 (moment, question_id))


def claim(conn: sqlite3.Connection, timeout: int, force: bool = False, question_id: int | None = None,
          now: datetime | None = None) -> Claim | None:
    """Take the oldest question that is due (any queued one with `force`; this one with `question_id`), or one whose
    claim is older than `timeout` seconds; None when there is nothing. One transaction: no other sender gets it."""
    moment = now or now_utc()
    token = secrets.token_hex(8)
    due = "1" if force else "o.next_attempt_at <= :now"
    only = "AND q.id = :id" if question_id is not None else ""
    with conn:
        rows = conn.execute(
            "UPDATE star_outbox SET claim = :token, claimed_at = :now, attempts = attempts + 1 WHERE question_id = ("
            "SELECT q.id FROM star_questions q JOIN star_outbox o ON o.question_id = q.id "
            f"WHERE ((q.status = 'queued' AND {due}) OR (q.status = 'sending' AND o.claimed_at <= :stale)) {only} "
            "ORDER BY q.id LIMIT 1) RETURNING question_id, message, message_id, attempts",
            {"token": token, "now": stamp(moment), "stale": stamp(moment - timedelta(seconds=timeout)),
             "id": question_id}).fetchall()
        if not rows:
            return None
        row = rows[0]
        conn.execute("UPDATE star_questions SET status = 'sending', updated = ? WHERE id = ?", (stamp(moment), row[0]))
        question = conn.execute("SELECT recipient, channel, staff_id FROM star_questions WHERE id = ?",
                                (row[0],)).fetchone()
    return Claim(int(row[0]), token, bytes(row[1]), str(row[2]), int(row[3]), str(question[0] or ""),
                 str(question[1] or ""), str(question[2] or ""))


def _holds(conn: sqlite3.Connection, held: Claim) -> bool:
    row = conn.execute("SELECT claim FROM star_outbox WHERE question_id = ?", (held.question_id,)).fetchone()
    return row is not None and row[0] == held.token


def mark_sent(conn: sqlite3.Connection, held: Claim, via: str, now: datetime | None = None) -> bool:
    """The server took the e-mail: sent (committed). False when the claim was no longer ours (nothing changed)."""
    moment = stamp(now or now_utc())
    with conn:
        if not _holds(conn, held):
            return False
        conn.execute("UPDATE star_outbox SET claim = NULL, sent_at = ?, last_error = NULL WHERE question_id = ?",
                     (moment, held.question_id))
        conn.execute("UPDATE star_questions SET status = CASE status WHEN 'answered' THEN status ELSE 'sent' END, "
                     "sent_at = ?, sent_via = ?, attempts = ?, last_error = NULL, updated = ? WHERE id = ?",
                     (moment, via, held.attempts, moment, held.question_id))
    return True


def mark_failed(conn: sqlite3.Connection, held: Claim, error: str, max_attempts: int,
                now: datetime | None = None) -> str | None:
    """An attempt failed: back to `queued` with the next attempt put off, or `failed` at the limit (committed).
    The new status, or None when the claim was no longer ours."""
    moment = now or now_utc()
    status = "failed" if held.attempts >= max_attempts else "queued"
    later = stamp(moment + timedelta(seconds=backoff(held.attempts)))
    with conn:
        if not _holds(conn, held):
            return None
        conn.execute("UPDATE star_outbox SET claim = NULL, last_error = ?, next_attempt_at = ? WHERE question_id = ?",
                     (error[:500], later, held.question_id))
        conn.execute("UPDATE star_questions SET status = ?, attempts = ?, last_error = ?, updated = ? WHERE id = ?",
                     (status, held.attempts, error[:500], stamp(moment), held.question_id))
    return status


def requeue(conn: sqlite3.Connection, question_id: int, now: datetime | None = None) -> bool:
    """Put a failed question back in the queue, due now, its attempts counted afresh (committed)."""
    moment = stamp(now or now_utc())
    with conn:
        changed = conn.execute("UPDATE star_questions SET status = 'queued', attempts = 0, updated = ? "
                               "WHERE id = ? AND status = 'failed'", (moment, question_id)).rowcount
        conn.execute("UPDATE star_outbox SET attempts = 0, next_attempt_at = ? WHERE question_id = ?",
                     (moment, question_id))
    return bool(changed)


def entry(conn: sqlite3.Connection, question_id: int) -> dict[str, Any] | None:
    """A question's outbox row."""
    row = conn.execute("SELECT * FROM star_outbox WHERE question_id = ?", (question_id,)).fetchone()
    return dict(row) if row else None


def unqueued(conn: sqlite3.Connection) -> list[int]:
    """Queued questions without an outbox row (queued by an older ungebot)."""
    return [int(row[0]) for row in conn.execute(
        "SELECT id FROM star_questions q WHERE status IN ('queued', 'sending') "
        "AND NOT EXISTS (SELECT 1 FROM star_outbox o WHERE o.question_id = q.id) ORDER BY id")]


def next_due(conn: sqlite3.Connection) -> str | None:
    """When the next queued question is due (stored time), if any."""
    row = conn.execute("SELECT min(o.next_attempt_at) FROM star_outbox o JOIN star_questions q "
                       "ON q.id = o.question_id WHERE q.status = 'queued'").fetchone()
    return str(row[0]) if row and row[0] else None


def awaiting_reply(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """Questions that went out (sent or handed over) without a recorded answer: (id, Message-ID)."""
    return [(int(row[0]), str(row[1])) for row in conn.execute(
        "SELECT q.id, o.message_id FROM star_questions q JOIN star_outbox o ON o.question_id = q.id "
        "WHERE q.status IN ('sent', 'handed_over') ORDER BY q.id")]
