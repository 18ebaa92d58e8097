"""Queries over the decision log for the support team: filter, fetch, count, purge."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

MAX_ROWID = 2**63 - 1  # the largest id SQLite stores; a bigger Python int cannot even be bound


@dataclass(frozen=True)
class Filters:
    """Which decisions to take: Danish calendar days (inclusive), flow, staff member, warning code."""

    since: date | None = None
    until: date | None = None
    flow: str | None = None
    user: str | None = None
    warning: str | None = None
    with_replaced: bool = False  # replaced decisions (changed by /tilbage or /ret after they were shown) too


def _utc_start_of(day: date) -> str:
    """Midnight in Denmark at the start of `day`, as the UTC text the log stores."""
    return datetime.combine(day, time(), COPENHAGEN).astimezone(timezone.utc).isoformat(timespec="seconds")


def _where(conn: sqlite3.Connection, filters: Filters) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if filters.since:
        clauses.append("time >= ?")
        params.append(_utc_start_of(filters.since))
    if filters.until:
        clauses.append("time < ?")
        params.append(_utc_start_of(filters.until + timedelta(days=1)))
    if filters.flow:
        clauses.append("flow = ?")
        params.append(filters.flow)
    if filters.user:
        # One column, so one index answers "newest first" without sorting: the id if any row has it, else the name.
        by_id = conn.execute("SELECT 1 FROM decisions WHERE staff_id = ? LIMIT 1", (filters.user,)).fetchone()
        clauses.append("staff_id = ?" if by_id else "staff_name = ?")
        params.append(filters.user)
    if filters.warning:
        clauses.append("EXISTS (SELECT 1 FROM json_each(decisions.warnings) WHERE value = ?)")
        params.append(filters.warning)
    if not filters.with_replaced:
        clauses.append(_NOT_REPLACED)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


_NOT_REPLACED = "NOT EXISTS (SELECT 1 FROM replaced_decisions WHERE decision_id = decisions.id)"
_COLUMNS = ("decisions.*, (SELECT time FROM replaced_decisions WHERE decision_id = decisions.id) AS replaced_at, "
            "(SELECT replaced_by FROM replaced_decisions WHERE decision_id = decisions.id) AS replaced_by")


_JSON_COLUMNS = frozenset({"answers", "outcome", "warnings", "sources"})


class Record(dict[str, Any]):
    """A log row. Its JSON columns are decoded the first time they are read: a list of 50 rows needs one or two
    of the four, and decoding all of them costs five times the query."""

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if key in _JSON_COLUMNS and isinstance(value, str):
            value = json.loads(value) if value else []
            super().__setitem__(key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def decoded(self) -> dict[str, Any]:
        """A plain dict with every column decoded (for JSON export)."""
        return {key: self[key] for key in self}


def decode(row: sqlite3.Row | dict[str, Any]) -> Record:
    """A log row as a Record."""
    return Record(dict(row))


def find(conn: sqlite3.Connection, filters: Filters = Filters(), limit: int | None = None) -> list[Record]:
    """Decisions matching the filters, newest first."""
    where, params = _where(conn, filters)
    sql = f"SELECT {_COLUMNS} FROM decisions{where} ORDER BY time DESC, id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [decode(row) for row in conn.execute(sql, params)]


def get(conn: sqlite3.Connection, decision_id: int) -> Record | None:
    """One decision by id (None for an id no SQLite row can have)."""
    if not 0 < decision_id <= MAX_ROWID:
        return None
    row = conn.execute(f"SELECT {_COLUMNS} FROM decisions WHERE id = ?", (decision_id,)).fetchone()
    return decode(row) if row else None


def user_known(conn: sqlite3.Connection, user: str) -> bool:
    """True when some decision names this staff id or display name."""
    return conn.execute("SELECT 1 FROM decisions WHERE staff_id = ? OR staff_name = ? LIMIT 1",
                        (user, user)).fetchone() is not None


def local_time(stored: str) -> datetime:
    """A stored UTC time in Danish local time."""
    return datetime.fromisoformat(stored).astimezone(COPENHAGEN)


def stats(conn: sqlite3.Connection, with_replaced: bool = False) -> dict[str, Any]:
    """Decisions per ISO week and flow, per result, per warning; replaced decisions only when asked for."""
    weeks: dict[str, dict[str, int]] = {}
    results: dict[str, int] = {}
    warnings: dict[str, int] = {}
    where = "" if with_replaced else f" WHERE {_NOT_REPLACED}"
    for stored, flow, result, warning_list in conn.execute(f"SELECT time, flow, result, warnings FROM decisions{where}"):
        year, week, _ = local_time(stored).isocalendar()
        per_flow = weeks.setdefault(f"{year}-U{week:02d}", {})
        per_flow[flow] = per_flow.get(flow, 0) + 1
        results[result] = results.get(result, 0) + 1
        for code in json.loads(warning_list or "[]"):
            warnings[code] = warnings.get(code, 0) + 1
    return {"weeks": dict(sorted(weeks.items())), "results": results, "warnings": warnings}


def purge(conn: sqlite3.Connection, older_than_days: int, now: datetime | None = None) -> int:
    """Delete decisions older than the given number of days (retention); the number removed."""
    moment = (now or datetime.now(timezone.utc)) - timedelta(days=older_than_days)
    cutoff = moment.isoformat(timespec="seconds")
    with conn:
        conn.execute("DELETE FROM replaced_decisions WHERE decision_id IN (SELECT id FROM decisions WHERE time < ?)",
                     (cutoff,))
        cursor = conn.execute("DELETE FROM decisions WHERE time < ?", (cutoff,))
    return cursor.rowcount
