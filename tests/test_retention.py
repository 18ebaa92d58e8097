"""Data kept no longer than needed: one setting per kind of row, applied by `ungebot log purge` and daily by the bot;
deleted rows are overwritten in the file (secure_delete)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.config import ConfigError, read_retention
from bot.desk.retention import purge_all, run_daily
from bot.desk.star import StarDesk
from bot.config import read_mail_settings
from storage import star
from storage.db import open_database
from storage.records import Staff

OLD = (datetime.now(timezone.utc) - timedelta(days=400)).isoformat(timespec="seconds")
SECRET_WORDS = "Markant-gammel-formulering-ABC"


def fill(path: Path, tmp_path: Path) -> StarDesk:
    """One old and one new row of every kind."""
    conn = open_database(path)
    desk = StarDesk(conn, read_mail_settings(environ={"UNGEBOT_OUTBOX": str(tmp_path / "outbox")}))
    for stamp in (OLD, datetime.now(timezone.utc).isoformat(timespec="seconds")):
        with conn:
            conn.execute("INSERT INTO decisions (time, channel, staff_id, flow, rulebook_edition, answers, outcome) "
                         "VALUES (?, 'cli', 'u', 'leave', 'x', '[]', '{}')", (stamp,))
            conn.execute("INSERT INTO dialogues (channel, staff_id, state, updated) VALUES ('cli', ?, '{}', ?)",
                         (stamp, stamp))
        for status in ("draft", "handed_over", "answered", "queued"):
            words = SECRET_WORDS if stamp == OLD else "ny"
            question = desk.store_draft(Staff("cli", "u"), star.Draft("Emne", "Krop", words, "S", "leave", None, "u"))
            if status != "draft":
                desk.hand_over(question)
            if status == "answered":
                star.record_answer(conn, question, "Svar", "support")
            if status == "queued":
                with conn:
                    conn.execute("UPDATE star_questions SET status = 'queued' WHERE id = ?", (question,))
            with conn:
                conn.execute("UPDATE star_questions SET created = ?, updated = ?, answered_at = "
                             "CASE WHEN answer IS NULL THEN NULL ELSE ? END WHERE id = ?",
                             (stamp, stamp, stamp, question))
                conn.execute("UPDATE star_outbox SET queued_at = ? WHERE question_id = ?", (stamp, question))
    return desk


def counts(desk: StarDesk) -> dict[str, int]:
    conn = desk.conn
    return {"decisions": conn.execute("select count(*) from decisions").fetchone()[0],
            "dialogues": conn.execute("select count(*) from dialogues").fetchone()[0],
            "outbox": conn.execute("select count(*) from star_outbox").fetchone()[0],
            **{status: conn.execute("select count(*) from star_questions where status = ?", (status,)).fetchone()[0]
               for status in ("draft", "handed_over", "answered", "queued")}}


def test_each_kind_has_its_own_setting(private_database: Path, tmp_path: Path) -> None:
    desk = fill(private_database, tmp_path)
    emls = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(emls) == 6
    keep = read_retention(environ={"UNGEBOT_KEEP_FAQ_DAYS": "altid"})
    assert keep == {"decisions": 1825, "dialogues": 90, "star": 730, "outbox": 90, "faq": None, "drafts": 14}
    deleted = purge_all(desk.conn, keep)
    assert deleted == {"decisions": 0, "dialogues": 1, "outbox": 2, "star": 0, "drafts": 1}
    # the old queued question is still on its way: never deleted; the answered one is the FAQ, kept
    assert counts(desk) == {"decisions": 2, "dialogues": 1, "outbox": 4, "draft": 1, "handed_over": 2,
                            "answered": 2, "queued": 2}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 4  # the old copies went with their outbox rows
    deleted = purge_all(desk.conn, {**keep, "decisions": 30, "star": 30, "faq": 30})
    assert deleted["decisions"] == 1 and deleted["star"] == 1 and deleted["faq"] == 1


def test_deleted_rows_are_not_left_in_the_file(private_database: Path, tmp_path: Path) -> None:
    desk = fill(private_database, tmp_path)
    purge_all(desk.conn, {kind: 30 for kind in ("decisions", "dialogues", "outbox", "star", "drafts", "faq")})
    with desk.conn:
        desk.conn.execute("DELETE FROM star_outbox WHERE question_id IN "
                          "(SELECT id FROM star_questions WHERE status = 'queued')")
        desk.conn.execute("DELETE FROM star_questions WHERE status = 'queued'")
    desk.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    desk.conn.close()
    for path in private_database.parent.glob("ungebot.db*"):
        assert SECRET_WORDS.encode() not in path.read_bytes(), path


def test_log_purge_applies_every_setting(private_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fill(private_database, tmp_path)
    monkeypatch.setenv("UNGEBOT_KEEP_DECISIONS_DAYS", "365")
    assert main(["log", "purge"]) == 0
    out = capsys.readouterr().out
    assert "resultater: 1 slettet (ældre end 365 dage)" in out and "svar fra STAR: gemmes altid" in out
    assert "udkast: 1 slettet (ældre end 14 dage)" in out
    monkeypatch.setenv("UNGEBOT_KEEP_DIALOGUES_DAYS", "nul")
    assert main(["log", "purge"]) == 2
    assert "UNGEBOT_KEEP_DIALOGUES_DAYS" in capsys.readouterr().err


def test_a_bad_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="UNGEBOT_KEEP_OUTBOX_DAYS"):
        read_retention(environ={"UNGEBOT_KEEP_OUTBOX_DAYS": "-3"})


async def test_the_running_bot_purges_daily(private_database: Path, tmp_path: Path) -> None:
    desk = fill(private_database, tmp_path)
    task = asyncio.create_task(run_daily(desk.conn, read_retention(environ={}), every=3600))
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert counts(desk)["dialogues"] == 1 and counts(desk)["draft"] == 1
