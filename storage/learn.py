"""Onboarding's own tables: a trainee's session, lessons done, graded answers, review cards and tests.

Nothing here touches the decision log: training answers are never decisions and never in its statistics."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.records import Staff, utc_now


@dataclass(frozen=True)
class GradedPart:
    """One graded part of a practice case or test case, as stored."""

    kind: str  # "case" or "test"
    seed: int
    flow: str
    outcome: str
    part: str
    rule: str
    given: str
    expected: str
    correct: bool


def load_session(conn: sqlite3.Connection, staff: Staff) -> dict[str, Any] | None:
    """The trainee's stored learning session, if any."""
    row = conn.execute("SELECT state FROM learn_sessions WHERE channel = ? AND staff_id = ?",
                       (staff.channel, staff.staff_id)).fetchone()
    return dict(json.loads(row[0])) if row else None


def save_turn(conn: sqlite3.Connection, staff: Staff, state: dict[str, Any], parts: Iterable[GradedPart] = (),
              cards: Iterable[tuple[str, str, str]] = (), lesson: tuple[str, int, int] | None = None,
              test: tuple[int, int, int, bool] | None = None) -> None:
    """Commit one learning turn in one transaction: the session, graded parts, reviewed cards (card, state, due),
    a lesson finished (id, correct, total), a test finished (seed, score, total, passed)."""
    now = utc_now()
    with conn:
        conn.execute(
            "INSERT INTO learn_sessions (channel, staff_id, state, updated) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(channel, staff_id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
            (staff.channel, staff.staff_id, json.dumps(state, ensure_ascii=False), now))
        conn.executemany(
            "INSERT INTO learn_answers (time, channel, staff_id, kind, seed, flow, outcome, part, rule, given, "
            "expected, correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(now, staff.channel, staff.staff_id, p.kind, p.seed, p.flow, p.outcome, p.part, p.rule, p.given,
              p.expected, int(p.correct)) for p in parts])
        conn.executemany(
            "INSERT INTO learn_cards (channel, staff_id, card, state, due, updated) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(channel, staff_id, card) DO UPDATE SET state = excluded.state, due = excluded.due, "
            "updated = excluded.updated",
            [(staff.channel, staff.staff_id, card, state_json, due, now) for card, state_json, due in cards])
        if lesson is not None:
            conn.execute(
                "INSERT INTO learn_lessons (channel, staff_id, lesson, completed, correct, total) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(channel, staff_id, lesson) DO UPDATE SET "
                "completed = excluded.completed, correct = excluded.correct, total = excluded.total",
                (staff.channel, staff.staff_id, lesson[0], now, lesson[1], lesson[2]))
        if test is not None:
            conn.execute(
                "INSERT INTO learn_tests (time, channel, staff_id, seed, score, total, passed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", (now, staff.channel, staff.staff_id, test[0], test[1], test[2],
                                                 int(test[3])))


def lessons_done(conn: sqlite3.Connection, staff: Staff) -> dict[str, tuple[int, int]]:
    """Lesson id → (check questions right, asked) for every lesson the trainee has finished."""
    rows = conn.execute("SELECT lesson, correct, total FROM learn_lessons WHERE channel = ? AND staff_id = ?",
                        (staff.channel, staff.staff_id)).fetchall()
    return {str(row[0]): (int(row[1]), int(row[2])) for row in rows}


def cards(conn: sqlite3.Connection, staff: Staff) -> dict[str, str]:
    """Card id → the stored card (JSON) for the trainee."""
    rows = conn.execute("SELECT card, state FROM learn_cards WHERE channel = ? AND staff_id = ?",
                        (staff.channel, staff.staff_id)).fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def accuracy(conn: sqlite3.Connection, staff: Staff | None = None, by: str = "flow") -> list[tuple[str, int, int]]:
    """(key, right, asked) per flow (by="flow") or per flow and part (by="part"); one trainee's or everyone's."""
    key = "flow" if by == "flow" else "flow || ' · ' || part"
    where, params = ("WHERE channel = ? AND staff_id = ?", [staff.channel, staff.staff_id]) if staff else ("", [])
    rows = conn.execute(f"SELECT {key} AS k, SUM(correct), COUNT(*) FROM learn_answers {where} "
                        "GROUP BY k ORDER BY k", params).fetchall()
    return [(str(row[0]), int(row[1]), int(row[2])) for row in rows]


def mistakes(conn: sqlite3.Connection, staff: Staff, limit: int = 10) -> list[GradedPart]:
    """The trainee's latest wrong answers, newest first."""
    rows = conn.execute("SELECT kind, seed, flow, outcome, part, rule, given, expected FROM learn_answers "
                        "WHERE channel = ? AND staff_id = ? AND correct = 0 ORDER BY id DESC LIMIT ?",
                        (staff.channel, staff.staff_id, limit)).fetchall()
    return [GradedPart(str(r[0]), int(r[1] or 0), str(r[2]), str(r[3] or ""), str(r[4]), str(r[5] or ""),
                       str(r[6] or ""), str(r[7] or ""), False) for r in rows]


def tests(conn: sqlite3.Connection, staff: Staff) -> list[tuple[str, int, int, bool]]:
    """The trainee's tests, newest first: (time, score, total, passed)."""
    rows = conn.execute("SELECT time, score, total, passed FROM learn_tests WHERE channel = ? AND staff_id = ? "
                        "ORDER BY id DESC", (staff.channel, staff.staff_id)).fetchall()
    return [(str(r[0]), int(r[1]), int(r[2]), bool(r[3])) for r in rows]


def trainees(conn: sqlite3.Connection) -> int:
    """How many trainees have answered a case."""
    return int(conn.execute("SELECT COUNT(DISTINCT channel || ':' || staff_id) FROM learn_answers").fetchone()[0])
