"""Write and read the decision log and the open dialogues; each write is committed before it returns."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any


def _json_writer() -> Callable[[Any], str]:
    """json.dumps(value, ensure_ascii=False) as one function made once: the same text (tests/test_storage.py).

    json.dumps makes a JSONEncoder and then CPython's C encoder on every call, about two thirds of its time for a
    dialogue's state (~10 of ~16 µs here); this makes the C encoder once, with json.dumps's own settings (", " and
    ": ", no indent, keys in their order, NaN allowed), only without the check for circular references (our rows
    are made of fresh dicts and lists: a cycle would end in RecursionError instead of ValueError). Without the C
    encoder (another Python) it is json.dumps itself."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return partial(json.dumps, ensure_ascii=False)
    encode = make(None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ": ", ", ",
                  False, False, True)

    def to_json(value: Any) -> str:
        return "".join(encode(value, 0))

    return to_json


to_json: Callable[[Any], str] = _json_writer()


@dataclass(frozen=True)
class Staff:
    """Who is using the bot: an id and a display name for the log. Never a citizen."""

    channel: str
    staff_id: str
    name: str = ""


def utc_now() -> str:
    """Now, in UTC, as the database stores times (to the second: the text is made once a second)."""
    global _clock
    second = int(time.time())
    if second != _clock[0]:
        _clock = (second, datetime.fromtimestamp(second, timezone.utc).isoformat(timespec="seconds"))
    return _clock[1]


_clock: tuple[int, str] = (-1, "")  # the second utc_now last formatted, and its text


def append_decision(conn: sqlite3.Connection, staff: Staff, programme: str, flow: str, edition: str,
                    answers: list[dict[str, str]], outcome: dict[str, Any], decided_on: str | None = None) -> int:
    """Append one finished dialogue to the decision log (committed) and return its id.

    `decided_on` is the ISO day the dialogue used as today (a replay uses it again)."""
    with conn:
        return _insert_decision(conn, staff, programme, flow, edition, answers, outcome, decided_on)


def _insert_decision(conn: sqlite3.Connection, staff: Staff, programme: str, flow: str, edition: str,
                     answers: list[dict[str, str]], outcome: dict[str, Any], decided_on: str | None = None) -> int:
    row = {
        "time": utc_now(), "channel": staff.channel, "staff_id": staff.staff_id, "staff_name": staff.name,
        "programme": programme, "flow": flow, "rulebook_edition": edition,
        "answers": to_json(answers), "outcome": to_json(outcome), "result": outcome["result"],
        "warnings": to_json(outcome.get("warnings", [])), "sources": to_json(outcome.get("sources", [])),
        "decided_on": decided_on,
    }
    cursor = conn.execute("INSERT INTO decisions ({}) VALUES ({})".format(", ".join(row), ", ".join("?" * len(row))),
                          list(row.values()))
    return int(cursor.lastrowid or 0)


def record_turn(conn: sqlite3.Connection, staff: Staff, state: dict[str, Any],
                decision: tuple[str, str, str, list[dict[str, str]], dict[str, Any], str] | None = None) -> int | None:
    """Commit a dialogue turn in one transaction (one fsync): the decision it reached, the shown decisions it
    replaced (the state's "replaced" ids), and the new state, which remembers the decision now shown.

    `decision` is (programme, flow, rulebook edition, answers, outcome, decided_on). Returns the new decision's id."""
    with conn:
        return write_turn(conn, staff, state, decision)


def write_turn(conn: sqlite3.Connection, staff: Staff, state: dict[str, Any],
               decision: tuple[str, str, str, list[dict[str, str]], dict[str, Any], str] | None = None,
               columns: Mapping[str, Any] | None = None) -> int | None:
    """record_turn without the commit, for a caller that commits several turns at once (group commit); `columns`
    are more of the dialogue row's columns to set (a channel's own, such as Telegram's stored reply)."""
    state = dict(state)
    replaced = state.pop("replaced", None) or []
    decision_id = None
    if decision is not None:
        decision_id = _insert_decision(conn, staff, *decision)
        state["decision_id"] = decision_id
    for old in replaced:
        mark_replaced(conn, int(old), decision_id)
    _upsert_dialogue(conn, staff, state, columns or {})
    return decision_id


def mark_replaced(conn: sqlite3.Connection, decision_id: int, by: int | None = None) -> None:
    """Record that a decision the caseworker was shown was then changed (/tilbage, /ret): the log row itself is
    never updated; a row in the append-only replaced_decisions says so. Marking twice keeps the first mark."""
    conn.execute("INSERT OR IGNORE INTO replaced_decisions (decision_id, time, replaced_by) VALUES (?, ?, ?)",
                 (decision_id, utc_now(), by))


def update_dialogue(conn: sqlite3.Connection, staff: Staff, columns: Mapping[str, Any]) -> bool:
    """Set some of a dialogue row's columns (its state unchanged); False if the staff member has no row."""
    cursor = conn.execute(_update_sql(tuple(columns)), (utc_now(), *columns.values(), staff.channel, staff.staff_id))
    return cursor.rowcount > 0


def _upsert_dialogue(conn: sqlite3.Connection, staff: Staff, state: dict[str, Any], columns: Mapping[str, Any]) -> None:
    conn.execute(_upsert_sql(tuple(columns)),
                 (staff.channel, staff.staff_id, to_json(state), utc_now(), *columns.values()))


@lru_cache(maxsize=16)
def _upsert_sql(columns: tuple[str, ...]) -> str:
    """The dialogue row's upsert, with these more columns (names from our own code, never from input)."""
    names = ("channel", "staff_id", "state", "updated", *columns)
    return (f"INSERT INTO dialogues ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            "ON CONFLICT(channel, staff_id) DO UPDATE SET "
            + ", ".join(f"{name} = excluded.{name}" for name in names[2:]))


@lru_cache(maxsize=16)
def _update_sql(columns: tuple[str, ...]) -> str:
    return (f"UPDATE dialogues SET updated = ?{''.join(f', {name} = ?' for name in columns)} "
            "WHERE channel = ? AND staff_id = ?")


def load_dialogue(conn: sqlite3.Connection, staff: Staff) -> dict[str, Any] | None:
    """The stored state of this staff member's dialogue, if there is one."""
    row = conn.execute("SELECT state FROM dialogues WHERE channel = ? AND staff_id = ?",
                       (staff.channel, staff.staff_id)).fetchone()
    return json.loads(row[0]) if row else None
