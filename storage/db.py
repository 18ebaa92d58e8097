"""Open the SQLite database, durable and migrated: WAL with full sync, so a commit is on disk when it returns."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

DEFAULT_PATH = Path("data") / "ungebot.db"
MIGRATION_SET = "ungebot"
# The names of storage.migrations' steps, in order (a test keeps the two equal). Knowing them here lets a
# process whose database is up to date skip importing sqlite-utils, which costs more than the rest of `decide`.
SCHEMA = ("m001_decisions", "m002_dialogues", "m003_decisions_append_only", "m004_decided_on",
          "m005_staff_name_index", "m006_star_questions", "m007_replaced_decisions", "m009_telegram_inbox",
          "m011_star_outbox", "m012_local_settings", "m017_learn", "m019_web_sessions")


class StorageError(RuntimeError):
    """The database cannot be used (no rights, locked, corrupt, from a newer version); the message says which."""


def database_path() -> Path:
    """$UNGEBOT_DB, or ./data/ungebot.db."""
    return Path(os.environ.get("UNGEBOT_DB") or DEFAULT_PATH)


def open_database(path: Path | str | None = None) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database; ':memory:' gives a throwaway one for tests."""
    target = str(database_path() if path is None else path)
    try:
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA secure_delete=ON")  # deleted rows (retention) are overwritten, not left readable in the file
        if target != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: in WAL mode each commit is fsynced, so an answer we acknowledged survives a crash.
            conn.execute("PRAGMA synchronous=FULL")
        applied = _applied(conn)
        newer = [name for name in applied if name not in SCHEMA]
        if newer:
            raise StorageError(f"{target}: the database is from a newer ungebot (it has {', '.join(newer)}); "
                               "update ungebot before using it")
        if set(applied) != set(SCHEMA):  # steps merged in number order may have been applied in another
            from storage import migrations

            migrations.apply(conn)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(f"{target}: {exc}") from exc
    return conn


def open_existing(path: Path | str | None = None) -> sqlite3.Connection:
    """Open a database that must already exist (the support commands never create one)."""
    target = database_path() if path is None else Path(path)
    if not target.is_file():
        raise StorageError(f"{target}: databasen findes ikke (sæt UNGEBOT_DB, eller kør først botten)")
    return open_database(target)


def _applied(conn: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                            (MIGRATION_SET,)).fetchall()
    except sqlite3.OperationalError:
        return ()
    return tuple(row[0] for row in rows)
