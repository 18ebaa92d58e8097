"""Open the SQLite database, durable and migrated: WAL with full sync, so a commit is on disk when it returns."""

from __future__ import annotations

import os
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

DEFAULT_PATH = Path("data") / "ungebot.db"
MIGRATIONS = Migrations("ungebot")


class StorageError(RuntimeError):
    """The database cannot be used (missing folder rights, locked, corrupt); the message says which."""


def database_path() -> Path:
    """$UNGEBOT_DB, or ./data/ungebot.db."""
    return Path(os.environ.get("UNGEBOT_DB") or DEFAULT_PATH)


def open_database(path: Path | str | None = None) -> Database:
    """Open (creating if needed) and migrate the database; ':memory:' gives a throwaway one for tests."""
    import sqlite3

    target = database_path() if path is None else path
    try:
        if str(target) == ":memory:":
            db = Database(memory=True)
        else:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            db = Database(str(target))
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: in WAL mode each commit is fsynced, so an answer we acknowledged survives a crash.
            db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA busy_timeout=5000")
        MIGRATIONS.apply(db)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"{target}: {exc}") from exc
    return db


@MIGRATIONS()
def m001_decisions(db: Database) -> None:
    """The decision log: one row per finished dialogue, never updated."""
    db["decisions"].create({
        "id": int, "time": str, "channel": str, "staff_id": str, "staff_name": str, "programme": str,
        "flow": str, "rulebook_edition": str, "answers": str, "outcome": str, "result": str,
        "warnings": str, "sources": str,
    }, pk="id", not_null={"time", "channel", "staff_id", "flow", "rulebook_edition", "answers", "outcome"})
    db["decisions"].create_index(["time"])
    db["decisions"].create_index(["staff_id", "time"])
    db["decisions"].create_index(["flow", "time"])


@MIGRATIONS()
def m002_dialogues(db: Database) -> None:
    """Open dialogues: the answers so far per channel and staff member, written before each reply."""
    db["dialogues"].create({
        "channel": str, "staff_id": str, "state": str, "updated": str,
    }, pk=("channel", "staff_id"), not_null={"state", "updated"})
