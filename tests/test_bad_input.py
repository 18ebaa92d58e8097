"""Bad input, bad files, bad environment: one clear Danish sentence and exit code 2, never a traceback, never SQLite's
English, and the data that was there untouched (#15)."""

from __future__ import annotations

import gc
import hashlib
import io
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import storage.db
from bot.cli.main import main
from storage.db import SCHEMA, StorageError, open_database

# Words of SQLite's and the OS's own English that must never reach the person at the keyboard.
ENGLISH = ("Traceback", "database is", "file is not", "malformed", "readonly", "disk I/O", "unable to open",
           "No such file", "Errno", "Error:", "sqlite3.")
CASE = ["decide", "switch", "-a", "current_marker=ips", "-a", "psychiatry_course=ja"]  # a whole case: logs a decision


def run(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        stdin: str = "") -> tuple[int, str]:
    """The command in-process, as the console script runs it: its exit code and everything it printed."""
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    gc.collect()  # a connection the command left open closes (and checkpoints) now, not in the middle of a check
    out, err = capsys.readouterr()
    return code, out + err


def assert_refused(code: int, output: str, *words: str) -> None:
    assert code == 2, output
    assert not any(english in output for english in ENGLISH), output
    for word in words:
        assert word in output, output


# -- arguments and environment -----------------------------------------------------------------------------------------
BAD_ARGUMENTS: list[tuple[str, list[str], dict[str, str], tuple[str, ...]]] = [
    ("a 100,000-digit answer to decide", ["decide", "situation", "-a", "situation=" + "9" * 100_000], {}, ("situation",)),
    ("a superscript digit to decide", ["decide", "situation", "-a", "situation=²"], {}, ("situation",)),
    ("UNGEBOT_TODAY as a word", ["decide", "situation"], {"UNGEBOT_TODAY": "tomorrow"}, ("UNGEBOT_TODAY", "dato")),
    ("UNGEBOT_TODAY not a day", ["chat"], {"UNGEBOT_TODAY": "31.02.2026"}, ("UNGEBOT_TODAY",)),
    ("log replay from a missing folder", ["log", "replay", "--flows", "/nonexistent"], {}, ("--flows", "mappe")),
    ("log list --limit past SQLite", ["log", "list", "--limit", "99999999999999999999999"], {}, ("--limit", "helt tal")),
    ("log list --limit ²", ["log", "list", "--limit", "²"], {}, ("--limit",)),
    ("log show a huge id", ["log", "show", "9" * 40], {}, ("id",)),
    ("star show a huge id", ["star", "show", "99999999999999999999999"], {}, ("id",)),
    ("log purge past year 1", ["log", "purge", "--older-than", "999999999999"], {}, ("--older-than", "36.525")),
    ("SMTP port past 65535", ["chat"], {"UNGEBOT_SMTP_PORT": "99999999"}, ("UNGEBOT_SMTP_PORT",)),
    ("SMTP port ²", ["chat"], {"UNGEBOT_SMTP_PORT": "²"}, ("UNGEBOT_SMTP_PORT",)),
    ("retry seconds past any wait", ["chat"], {"UNGEBOT_STAR_RETRY_SECONDS": "9" * 30}, ("UNGEBOT_STAR_RETRY_SECONDS",)),
]


@pytest.mark.parametrize("argv, env, words", [case[1:] for case in BAD_ARGUMENTS], ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_and_settings(argv: list[str], env: dict[str, str], words: tuple[str, ...],
                                    private_database: Path, capsys: Any, monkeypatch: Any) -> None:
    _with_decision(private_database)
    before = _fingerprint(private_database)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, output = run(argv, capsys, monkeypatch)
    assert_refused(code, output, *words)
    assert _fingerprint(private_database) == before


def test_a_100000_digit_answer_in_the_chat_is_asked_again(capsys: Any, monkeypatch: Any) -> None:
    code, output = run(["chat"], capsys, monkeypatch, stdin="9" * 100_000 + "\n")
    assert code == 0 and "Der er kun" in output and output.count("Hvad er der sket med den unge?") == 2


def test_a_danish_pinned_day_is_read(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "23/11-2026")
    code, output = run(["chat"], capsys, monkeypatch, stdin="1\n")
    assert code == 0 and "Traceback" not in output


def test_a_config_file_that_is_not_utf8(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    config = tmp_path / "ungebot.toml"
    config.write_bytes(b"UNGEBOT_MUNICIPALITY = \"\xff\xfe\"\n")
    monkeypatch.setenv("UNGEBOT_CONFIG", str(config))
    assert_refused(*run(["chat"], capsys, monkeypatch), "UTF-8")


# -- bad database files ------------------------------------------------------------------------------------------------
def _fingerprint(path: Path) -> str:
    """The bytes of the database and its WAL: what "untouched" means."""
    digest = hashlib.sha256()
    for part in (path, path.with_name(path.name + "-wal")):
        digest.update(part.read_bytes() if part.is_file() else b"-")
    return digest.hexdigest()


def _text_file(path: Path) -> None:
    path.write_text("Mødereferat 12. marts: ikke en database.\n" * 50, encoding="utf-8")


def _with_decision(path: Path) -> None:
    conn = open_database(path)
    conn.execute("INSERT INTO decisions (time, channel, staff_id, flow, rulebook_edition, answers, outcome) "
                 "VALUES ('2026-01-15T10:00:00+00:00', 'cli', 'x', 'switch', 'e', '[]', '{}')")
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _truncated(path: Path) -> None:
    _with_decision(path)
    path.write_bytes(path.read_bytes()[:3000])


def _corrupt(path: Path) -> None:
    _with_decision(path)
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
    path.write_bytes(bytes(data))


def _other_program(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.execute("INSERT INTO invoices (amount) VALUES (12.5)")
    conn.commit()
    conn.close()


def _newer(path: Path) -> None:
    _with_decision(path)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('ungebot', 'm999_from_the_future', '2030-01-01')")
    conn.commit()
    conn.close()


BAD_FILES: list[tuple[str, Callable[[Path], None], tuple[str, ...]]] = [
    ("not SQLite", _text_file, ("ikke en ungebot-database",)),
    ("truncated", _truncated, ("beskadiget",)),
    ("corrupt", _corrupt, ("beskadiget",)),
    ("another program's SQLite", _other_program, ("andet program",)),
    ("from a newer ungebot", _newer, ("nyere udgave", "m999_from_the_future")),
]
COMMANDS = [["chat"], ["log", "list"], CASE, ["star", "list"]]


@pytest.mark.parametrize("prepare, words", [case[1:] for case in BAD_FILES], ids=[c[0] for c in BAD_FILES])
@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_bad_database_files(argv: list[str], prepare: Callable[[Path], None], words: tuple[str, ...],
                            private_database: Path, capsys: Any, monkeypatch: Any) -> None:
    prepare(private_database)
    before = _fingerprint(private_database)
    code, output = run(argv, capsys, monkeypatch, stdin="1\n")
    assert_refused(code, output, *words)
    assert _fingerprint(private_database) == before


# -- a good database in a bad place ------------------------------------------------------------------------------------
def _locked(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def _read_only(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # As root, file modes do not stop a write; SQLite's read-only open is what a 0444 file gives anyone else.
    real = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda target, **kw: real(f"file:{target}?mode=ro", uri=True, **kw))


def _full_disk(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # What SQLite sees when the disk is full (SQLITE_FULL): the file may not grow by one page, and its pages are
    # filled to the brim first, so the next dialogue or decision needs a page it cannot have.
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA max_page_count = 1")  # clamped to the pages the file has now
    for sql in ("INSERT INTO decisions (time, channel, staff_id, flow, rulebook_edition, answers, outcome) "
                "VALUES ('2026-01-15T10:00:00+00:00', 'cli', 'filler', 'switch', 'e', '[]', '{}')",
                "INSERT INTO dialogues (channel, staff_id, state, updated) VALUES ('filler', hex(randomblob(8)), "
                "'{}', '2026-01-15T10:00:00+00:00')"):
        try:
            while True:
                conn.execute(sql)
                conn.commit()
        except sqlite3.OperationalError:
            conn.rollback()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    real = sqlite3.connect

    def connect(target: str, **kw: Any) -> sqlite3.Connection:
        conn = real(target, **kw)
        conn.execute("PRAGMA max_page_count = 1")
        return conn
    monkeypatch.setattr(sqlite3, "connect", connect)


_COUNT_CONNECT = sqlite3.connect  # the real one, whatever a test has put in its place
BAD_PLACES: list[tuple[str, Callable[[Path, Any], Any], tuple[str, ...]]] = [
    ("locked by another process", _locked, ("optaget",)),
    ("read-only", _read_only, ("skrivebeskyttet",)),
    ("on a full disk", _full_disk, ("fuld",)),
]


@pytest.mark.parametrize("prepare, words", [case[1:] for case in BAD_PLACES], ids=[c[0] for c in BAD_PLACES])
@pytest.mark.parametrize("argv", [["chat"], CASE], ids=["chat", "decide"])
def test_a_database_that_cannot_be_written(argv: list[str], prepare: Callable[[Path, Any], Any],
                                           words: tuple[str, ...], private_database: Path, capsys: Any,
                                           monkeypatch: Any) -> None:
    _with_decision(private_database)
    holder = prepare(private_database, monkeypatch)
    decisions = _COUNT_CONNECT(private_database).execute("SELECT count(*) FROM decisions").fetchone()[0]
    code, output = run(argv, capsys, monkeypatch, stdin="1\n2\n1\nja\n")
    if holder is not None:
        holder.rollback()
        holder.close()
    assert_refused(code, output, *words)
    monkeypatch.undo()
    conn = sqlite3.connect(private_database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == decisions


@pytest.mark.parametrize("where", ["missing folder", "a folder", "under a file"])
def test_a_database_path_that_is_not_a_file(where: str, tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    (tmp_path / "a file").write_text("x")
    path = {"missing folder": tmp_path / "nowhere" / "ungebot.db", "a folder": tmp_path,
            "under a file": tmp_path / "a file" / "ungebot.db"}[where]
    monkeypatch.setenv("UNGEBOT_DB", str(path))
    assert_refused(*run(["log", "list"], capsys, monkeypatch), str(path))
    if where != "missing folder":
        assert_refused(*run(["chat"], capsys, monkeypatch), str(path))


# -- versions ----------------------------------------------------------------------------------------------------------
def test_a_database_of_an_older_version_is_migrated_with_its_data(private_database: Path) -> None:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    import storage.migrations as steps

    old = Migrations("ungebot")
    for name in SCHEMA[:2]:  # the very first ungebot: the log and open dialogues only
        old()(getattr(steps, name))
    conn = sqlite3.connect(private_database)
    old.apply(Database(conn))
    conn.execute("INSERT INTO decisions (time, channel, staff_id, flow, rulebook_edition, answers, outcome) "
                 "VALUES ('2025-06-01T10:00:00+00:00', 'cli', 'x', 'switch', 'ungeloeftet-2025.1', '[]', '{}')")
    conn.commit()
    conn.close()
    migrated = open_database(private_database)
    assert storage.db._applied(migrated) == SCHEMA
    assert migrated.execute("SELECT rulebook_edition FROM decisions").fetchall()[0][0] == "ungeloeftet-2025.1"


def test_a_database_of_a_newer_version_is_refused_and_left_alone(private_database: Path) -> None:
    _newer(private_database)
    before = _fingerprint(private_database)
    with pytest.raises(StorageError, match="nyere udgave af ungebot"):
        open_database(private_database)
    assert _fingerprint(private_database) == before
