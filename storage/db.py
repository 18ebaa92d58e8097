"""Open the SQLite database, durable and migrated: WAL with full sync, so a commit is on disk when it returns."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

DEFAULT_PATH = Path("data") / "ungebot.db"
MIGRATION_SET = "ungebot"
# The names of storage.migrations' steps, in order (a test keeps the two equal). Knowing them here lets a
# process whose database is up to date skip importing sqlite-utils, which costs more than the rest of `decide`.
SCHEMA = ("m001_decisions", "m002_dialogues", "m003_decisions_append_only", "m004_decided_on",
          "m005_staff_name_index", "m006_star_questions", "m007_replaced_decisions", "m009_telegram_inbox",
          "m011_star_outbox", "m012_local_settings", "m017_learn", "m019_web_sessions",
          "m020_inbox_lean", "m021_web_transcript", "m022_telegram_reply_in_dialogue", "m024_web_turns",
          "m025_telegram_numbering", "m026_telegram_inbox_numbering")


BUSY_TIMEOUT_MS = 5000  # how long a write waits for another process's lock before giving up
PAGE_CACHE_KIB = 32_768  # SQLite's page cache per connection, at most (the default is 2,000 KiB)


class StorageError(RuntimeError):
    """The database cannot be used (no rights, locked, corrupt, from a newer version); the message says which, in
    one Danish sentence for the caseworker or operator."""


# SQLite's primary result codes (sqlite3.Error.sqlite_errorcode & 0xFF) and what they mean to whoever runs ungebot.
_SQLITE_TEXTS = {
    3: "{db}: adgang nægtet. {nothing}",
    5: "{db} er optaget af et andet program. {nothing} Prøv igen om lidt.",
    6: "{db} er optaget af et andet program. {nothing} Prøv igen om lidt.",
    8: "{db} er skrivebeskyttet, så intet kan gemmes. {nothing} Giv skriveadgang, eller sæt UNGEBOT_DB til en anden fil.",
    10: "{db} kunne ikke læses eller skrives (fejl på disken). {nothing} Tjek disken.",
    11: "{db} er beskadiget (måske afkortet eller delvist overskrevet). {nothing} Gendan den fra en sikkerhedskopi.",
    13: "Disken med {db} er fuld. {nothing} Frigør plads, og prøv igen.",
    14: "{db} kan ikke åbnes: findes mappen, og har du adgang til den? {nothing}",
    26: "{db} er ikke en ungebot-database (filen er ikke SQLite). {nothing} Tjek UNGEBOT_DB.",
}
_OS_TEXTS = {
    errno.ENOSPC: 13, errno.EDQUOT: 13, errno.EROFS: 8, errno.EACCES: 3, errno.EPERM: 3, errno.EIO: 10,
    errno.ENOENT: 14, errno.ENOTDIR: 14, errno.EISDIR: 14, errno.EEXIST: 14,
}
_NOTHING = "Intet er ændret, og det, der var gemt, er uskadt."


def explain(exc: BaseException, path: Path | str | None = None) -> str:
    """One Danish sentence (or two) for a database that cannot be used, without SQLite's or the OS's English."""
    db = f"Databasen {path if path is not None else database_path()}"
    if isinstance(exc, StorageError):
        return str(exc)
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        if code == 0 and "malformed" in str(exc):
            code = 11
        name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    else:
        code = _OS_TEXTS.get(getattr(exc, "errno", None) or 0, 0)
        name = errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)
    template = _SQLITE_TEXTS.get(code, "{db} kunne ikke bruges (" + name + "). {nothing}")
    return template.format(db=db, nothing=_NOTHING)


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
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_MS)}")
        conn.execute("PRAGMA secure_delete=ON")  # deleted rows (retention) are overwritten, not left readable in the file
        # Pages kept in memory: SQLite's default (2 MB) no longer holds 10,000 open dialogues' rows, and each answer
        # to a dialogue not in it read its pages again (bench/memory.py: +33 % per answer at 10,000 open). Allocated
        # as used, so a short command pays nothing.
        conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        applied = _ours(conn, target)  # before anything is written: a file that is not ours stays as it was
        if target != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: in WAL mode each commit is fsynced, so an answer we acknowledged survives a crash.
            conn.execute("PRAGMA synchronous=FULL")
        # As a set: steps merged in number order may have been applied in another order in an existing database.
        if set(applied) != set(SCHEMA):
            from storage import migrations

            migrations.apply(conn)
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(explain(exc, target)) from exc
    return conn


def _ours(conn: sqlite3.Connection, target: str) -> tuple[str, ...]:
    """The migrations applied; StorageError for a database of a newer ungebot or of another program."""
    applied = _applied(conn)
    newer = [name for name in applied if name not in SCHEMA]
    if newer:
        conn.close()
        raise StorageError(f"Databasen {target} er lavet af en nyere udgave af ungebot (den har {', '.join(newer)}). "
                           "Opdatér ungebot, før du bruger den; intet er ændret.")
    if not applied and conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]:
        conn.close()
        raise StorageError(f"Databasen {target} tilhører et andet program (den har tabeller, men ikke ungebots). "
                           "Intet er ændret; sæt UNGEBOT_DB til en anden fil.")
    return applied


def open_existing(path: Path | str | None = None) -> sqlite3.Connection:
    """Open a database that must already exist (the support commands never create one)."""
    target = database_path() if path is None else Path(path)
    if not target.is_file():
        raise StorageError(f"Databasen {target} findes ikke. Sæt UNGEBOT_DB, eller start først botten (fx make chat).")
    return open_database(target)


def _applied(conn: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY id",
                            (MIGRATION_SET,)).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):  # anything else (a corrupt file) is not "a new database"
            raise
        return ()
    return tuple(row[0] for row in rows)
