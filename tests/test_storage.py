"""Storage: migrations once, decisions appended, dialogue state replaced and read back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import SCHEMA, StorageError, open_database
from storage import log
from storage.records import Staff, append_decision, load_dialogue, record_turn

STAFF = Staff("terminal", "kbh-sagsb-7", "Sagsbehandler 7")


def test_migrations_apply_once(private_database: Path) -> None:
    db = open_database(private_database)
    db2 = open_database(private_database)
    tables = {row[0] for row in db2.execute("select name from sqlite_master where type = 'table'")}
    assert {"decisions", "dialogues", "_sqlite_migrations"} <= tables
    assert db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == len(SCHEMA)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_schema_names_match_the_migrations() -> None:
    from storage import migrations
    from storage.db import SCHEMA

    assert migrations.names() == SCHEMA


def test_a_database_from_a_newer_version_is_refused(private_database: Path) -> None:
    db = open_database(private_database)
    with db:
        db.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('ungebot', 'm999_future', 'x')")
    with pytest.raises(StorageError, match="nyere udgave af ungebot"):
        open_database(private_database)


def test_decisions_are_appended(private_database: Path) -> None:
    db = open_database(private_database)
    first = append_decision(db, STAFF, "ungeloeftet", "start", "e1", [{"flow": "start", "question": "q", "value": "yes"}],
                            {"result": "register", "warnings": ["far_past"], "sources": ["000: Formål"]})
    second = append_decision(db, STAFF, "ungeloeftet", "leave", "e1", [], {"result": "no_change"})
    rows = log.find(open_database(private_database))
    assert [row["id"] for row in rows] == [second, first]
    assert rows[1]["warnings"] == ["far_past"] and rows[1]["staff_id"] == "kbh-sagsb-7"


def test_dialogue_state_is_replaced(private_database: Path) -> None:
    db = open_database(private_database)
    assert load_dialogue(db, STAFF) is None
    record_turn(db, STAFF, {"step": 1})
    record_turn(db, STAFF, {"step": 2})
    assert load_dialogue(open_database(private_database), STAFF) == {"step": 2}
    assert load_dialogue(db, Staff("telegram", "kbh-sagsb-7")) is None


def test_unusable_path_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError):
        open_database(blocker / "sub" / "ungebot.db")


def test_the_decision_log_refuses_updates(private_database: Path) -> None:
    db = open_database(private_database)
    append_decision(db, STAFF, "ungeloeftet", "start", "e1", [], {"result": "register"})
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        with db:
            db.execute("update decisions set result = 'no_change'")
    assert db.execute("select result from decisions").fetchone()[0] == "register"


JSON_VALUES = [
    {"v": 1, "step": 7, "pending": None, "last_update": 25, "programme": None, "star_drafts": [],
     "segments": [{"flow": "situation", "answers": [("situation", "switch")]}, {"flow": "switch", "answers": []}]},
    {"pending": {"kind": "star_text", "text": "Æbler, øl & «citat» \"x\" \\ \n\t\x00\x1f \u202e عربي 😀 <b>"}},
    [1.5, -0.0, 1e300, float("nan"), float("inf"), True, False, None, 10 ** 30, "", [], {}],
    {"1": {"2": [{"3": ["dyb"]}]}}, "bare tekst", 42, None,
]


@pytest.mark.parametrize("value", JSON_VALUES)
def test_to_json_writes_what_json_dumps_writes(value: object) -> None:
    """The stored text is byte for byte json.dumps(..., ensure_ascii=False)'s, with and without the C encoder."""
    import json

    from storage.records import _json_writer, to_json

    assert to_json(value) == json.dumps(value, ensure_ascii=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(json.encoder, "c_make_encoder", None)
        assert _json_writer()(value) == json.dumps(value, ensure_ascii=False)


def test_to_json_refuses_what_json_refuses() -> None:
    from datetime import date

    from storage.records import to_json

    with pytest.raises(TypeError):
        to_json({"day": date(2026, 1, 15)})
    assert to_json({"after": "an error, the next value is written as before"}) == \
        '{"after": "an error, the next value is written as before"}'
