"""The support team's desk: every `ungebot log` command, bad input, `/log` in Telegram, `ungebot review`."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.cli.decide import decide
from bot.chat.texts import Texts
from flows.engine import Rulebook
from flows.loader import FLOWS_DIR
from storage.db import open_database

from tests.conftest import ROOT

ROWS: list[tuple[str, str, str, str, dict[str, str]]] = [
    # time (UTC), staff id, staff name, flow, answers
    ("2026-01-05T09:00:00+00:00", "111", "Anna Æbelø", "switch",
     {"current_marker": "fusm", "psychiatry_course": "ja", "current_start_date": "12.10.2025", "new_start_date": "1.2.2026"}),
    ("2026-01-12T23:30:00+00:00", "222", "Bo Ørsted", "leave",
     {"phase": "1", "current_marker": "ips", "current_start_date": "10.1.2026", "leave_start_date": "11.1.2026"}),
    ("2026-01-20T10:00:00+00:00", "111", "Anna Æbelø", "move_out", {"in_job_or_education": "ja"}),
]


@pytest.fixture
def logbook(private_database: Path, rulebook: Rulebook, texts: Texts, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log of three decisions at known times (appended with SQL, as the log only ever is)."""
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    conn = open_database(private_database)
    for stamp, staff_id, name, flow_id, raw in ROWS:
        flow, outcome, answers = decide(rulebook, texts, flow_id, raw)
        with conn:
            conn.execute(
                "INSERT INTO decisions (time, channel, staff_id, staff_name, programme, flow, rulebook_edition, "
                "answers, outcome, result, warnings, sources, decided_on) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (stamp, "telegram", staff_id, name, "ungeloeftet", flow.id, rulebook.edition,
                 json.dumps([{"flow": flow.id, "question": q, "value": v} for q, v in answers.items()]),
                 json.dumps(outcome.to_dict(), ensure_ascii=False), outcome.result, json.dumps(list(outcome.warnings)),
                 json.dumps(list(outcome.sources), ensure_ascii=False), stamp[:10]))
    return private_database


def dump(path: Path) -> str:
    """The database's content as SQL: equal dumps mean nothing changed (file bytes move between WAL and main file)."""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_newest_first_with_danish_dates(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["nr.", "tid", "kanal"]
    assert "Den unge skifter målgruppe" in out and "registrér" in out and "switch" not in out
    assert [line.split()[0] for line in lines[1:] if line[:1].isdigit()] == ["3", "2", "1"]
    assert "20. jan 2026 11:00" in out  # 10:00 UTC is 11:00 in Copenhagen
    assert "slutdato 31. januar 2026 på »Ungeløftet – Flere unge skal med«" in out


def test_a_replaced_decision_is_marked_and_left_out_unless_asked_for(
        logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from storage.records import mark_replaced

    conn = open_database(logbook)
    with conn:
        mark_replaced(conn, 2, 3)
    with pytest.raises(sqlite3.DatabaseError):  # the marks are append-only too
        with conn:
            conn.execute("UPDATE replaced_decisions SET replaced_by = 1")
    _, out, _ = run(capsys, "log", "list")
    assert [line.split()[0] for line in out.splitlines()[1:] if line[:1].isdigit()] == ["3", "1"]
    _, out, _ = run(capsys, "log", "list", "--with-replaced")
    assert [line.split()[0] for line in out.splitlines()[1:] if line[:1].isdigit()] == ["3", "2*", "1"]
    assert "* erstattet" in out
    _, out, _ = run(capsys, "log", "stats")
    assert "slutdato = startdato" not in out and "registrér 1" in out
    _, out, _ = run(capsys, "log", "stats", "--with-replaced")
    assert "slutdato = startdato 1" in out
    _, out, _ = run(capsys, "log", "export", "--format", "json")
    assert [row["id"] for row in json.loads(out)] == [3, 1]
    _, out, _ = run(capsys, "log", "export", "--format", "json", "--with-replaced")
    assert [row["id"] for row in json.loads(out)] == [3, 2, 1]
    _, out, _ = run(capsys, "log", "show", "2")
    assert "Erstattet" in out and "se nr. 3" in out


def test_show_gives_the_trace_with_each_date_computed(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "log", "show", "1")
    assert "Vejledningen: Målgruppekriterier" in out
    assert "ny startdato 1. februar 2026 − 1 dag = slutdato 31. januar 2026" in out


@pytest.mark.parametrize("args, ids", [
    (["--since", "13. januar 2026"], ["3", "2"]),  # 23:30 UTC on the 12th is the 13th in Denmark
    (["--until", "12/1-26"], ["1"]),
    (["--since", "1.1.2026", "--until", "2026-01-13"], ["2", "1"]),
    (["--flow", "switch"], ["1"]),
    (["--user", "111"], ["3", "1"]),
    (["--user", "Bo Ørsted"], ["2"]),
    (["--warning", "end_equals_start"], ["2"]),
    (["--limit", "1"], ["3"]),
])
def test_list_filters(logbook: Path, capsys: pytest.CaptureFixture[str], args: list[str], ids: list[str]) -> None:
    code, out, _ = run(capsys, "log", "list", *args)
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:] if line[:1].isdigit()] == ids


def test_show_tells_the_whole_dialogue(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", "show", "1")
    assert code == 0
    assert "Hvilken startdato har den nuværende markør »Ungeløftet – Flere unge skal med«? – 12. oktober 2025" in out
    assert "Fra hvilken dag hører den unge til den nye målgruppe? – 1. februar 2026" in out
    assert "2. opret »Ungeløftet – IPS« fra 1. februar 2026" in out and "Kilder: Den unge skifter målgruppe" in out
    assert "Anna Æbelø (111)" in out


def test_export_csv_reads_back(logbook: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "log.csv"
    code, _, err = run(capsys, "log", "export", "--format", "csv", "--output", str(target))
    assert code == 0 and "3 resultater" in err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Danish Excel needs to see UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert [row["nr"] for row in rows] == ["3", "2", "1"]
    assert rows[2]["medarbejder"] == "Anna Æbelø" and rows[2]["situation"] == "Den unge skifter målgruppe"
    assert rows[1]["advarsler"] == "slutdato = startdato" and rows[2]["resultat"] == "registrér"
    assert json.loads(rows[2]["udfald"])["actions"][1]["date"] == "2026-02-01"
    assert rows[2]["handlinger"].startswith("slutdato 31. januar 2026")


def test_export_json_with_a_filter(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", "export", "--format", "json", "--flow", "leave")
    data = json.loads(out)
    assert code == 0 and len(data) == 1 and data[0]["warnings"] == ["end_equals_start"]
    assert data[0]["answers"][0] == {"flow": "leave", "question": "phase", "value": "starts"}


def test_stats(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", "stats")
    assert code == 0
    week_lines = [line.split(":")[0] for line in out.splitlines() if line.startswith("uge ")]
    assert week_lines == ["uge 2 2026", "uge 3 2026", "uge 4 2026"]
    assert "registrér 2" in out and "ingen ændring 1" in out and "slutdato = startdato 1" in out


def test_replay_with_todays_rules_changes_nothing(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "log", "replay")
    assert code == 0 and "Alle 3 resultater giver det samme" in out


def test_replay_catches_a_changed_date_rule(logbook: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    changed = tmp_path / "ungeloeftet"
    shutil.copytree(FLOWS_DIR / "ungeloeftet", changed)
    switch = changed / "switch.yaml"
    text = switch.read_text(encoding="utf-8")
    switch.write_text(text.replace("date: {day_before: new_start_date}", "date: {same_day: new_start_date}"),
                      encoding="utf-8")
    code, out, _ = run(capsys, "log", "replay", "--flows", str(changed))
    assert code == 1
    assert "nr. 1" in out and "nr. 2" not in out and "nr. 3" not in out
    before, after = [line for line in out.splitlines() if line.strip().startswith(("før:", "nu:"))]
    assert "slutdato 31. januar 2026" in before and "slutdato 1. februar 2026" in after
    assert "1 af 3 resultater ville blive anderledes" in out


def test_replay_reports_a_flow_that_no_longer_asks_enough(logbook: Path, capsys: pytest.CaptureFixture[str],
                                                          tmp_path: Path) -> None:
    changed = tmp_path / "ungeloeftet"
    shutil.copytree(FLOWS_DIR / "ungeloeftet", changed)
    move_out = changed / "move_out.yaml"
    move_out.write_text(move_out.read_text(encoding="utf-8").replace(
        'next: {"yes": counts_while_in_job_or_education,', 'next: {"yes": job_or_education_within_3_months,'),
        encoding="utf-8")
    (changed / "move_out.yaml").write_text(move_out.read_text(encoding="utf-8").replace(
        "outcomes:\n  counts_while_in_job_or_education:\n    result: no_change\n    effect: counts_while_in_job_or_education\n"
        "    source: \"000: Den unge fraflytter kommunen\"\n", "outcomes:\n"), encoding="utf-8")
    code, out, _ = run(capsys, "log", "replay", "--flows", str(changed))
    assert code == 1 and "stopper ved spørgsmålet »Har den unge fået job eller uddannelse inden for tre måneder efter fraflytningen?«" in out


def test_purge_removes_old_rows_and_says_how_many(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = (date.today() - date(2026, 1, 15)).days
    code, out, _ = run(capsys, "log", "purge", "--older-than", str(days))
    assert code == 0 and out.startswith("2 resultater")
    assert sqlite3.connect(logbook).execute("select id from decisions").fetchall() == [(3,)]


@pytest.mark.parametrize("args, words", [
    (["log", "list", "--since", "31. februar 2026"], "februar 2026 har kun 28 dage"),
    (["log", "list", "--since", "i morgen", "--until", "i går"], "--since ligger efter --until"),
    (["log", "list", "--flow", "nowhere"], "Ukendt situation »nowhere«"),
    (["log", "list", "--user", "999"], "ingen resultater fra medarbejderen »999«"),
    (["log", "list", "--warning", "oops"], "Ukendt advarsel »oops«"),
    (["log", "list", "--limit", "mange"], "--limit skal være et helt tal"),
    (["log", "show", "42"], "intet resultat med nr. 42"),
    (["log", "show", "x"], "id skal være et helt tal"),
    (["log", "purge", "--older-than", "0"], "--older-than skal være et helt tal fra 1 til"),
    (["log", "export", "--output", "/nonexistent/dir/log.csv"], "Mappen /nonexistent/dir findes ikke"),
])
def test_bad_input_gives_a_message_and_changes_nothing(logbook: Path, capsys: pytest.CaptureFixture[str],
                                                      args: list[str], words: str) -> None:
    before = dump(logbook)
    code, _, err = run(capsys, *args)
    assert code == 2 and words in err
    assert dump(logbook) == before


def test_missing_database_is_not_created(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("UNGEBOT_DB", str(missing))
    code, _, err = run(capsys, "log", "list")
    assert code == 2 and "findes ikke" in err and not missing.exists()


def test_a_database_from_a_newer_version_is_left_alone(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with sqlite3.connect(logbook) as conn:
        conn.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('ungebot', 'm999', 'x')")
    before = dump(logbook)
    code, _, err = run(capsys, "log", "purge", "--older-than", "1")
    assert code == 2 and "nyere udgave af ungebot" in err
    assert dump(logbook) == before


def test_a_corrupt_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("UNGEBOT_DB", str(junk))
    code, _, err = run(capsys, "log", "list")
    assert code == 2 and "ikke en ungebot-database" in err and "Traceback" not in err


def test_a_locked_database_is_reported(logbook: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = sqlite3.connect(logbook, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(capsys, "log", "purge", "--older-than", "1")
    finally:
        blocker.execute("ROLLBACK")
    assert code == 2 and "optaget af et andet program" in err
    assert sqlite3.connect(logbook).execute("select count(*) from decisions").fetchone()[0] == 3


async def test_log_in_telegram_for_support_staff_only(logbook: Path) -> None:
    from tests.test_telegram import CASEWORKER, SUPPORT, Harness

    async with Harness(logbook) as harness:
        sent = await harness.send("/log", user_id=SUPPORT)
        assert "De seneste resultater" in sent[-1]["text"] and "nr. 3" in sent[-1]["text"]
        sent = await harness.send("/log 1", user_id=SUPPORT)
        assert "Resultat nr. 1" in sent[-1]["text"] and "1. februar 2026" in sent[-1]["text"]
        sent = await harness.send("/log 77", user_id=SUPPORT)
        assert "intet resultat med nr. 77" in sent[-1]["text"]
        sent = await harness.send("/log 0102031234", user_id=SUPPORT)
        assert "CPR-nummer" in sent[-1]["text"] and "0102031234" not in sent[-1]["text"]
        sent = await harness.send("/log", user_id=CASEWORKER)
        assert "kun for supportteamet" in sent[-1]["text"] and "#3" not in sent[-1]["text"]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_review_refuses_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_DB", str(tmp_path / "none.db"))
    code, _, err = run(capsys, "review", "--port", "9")
    assert code == 2 and "findes ikke" in err


