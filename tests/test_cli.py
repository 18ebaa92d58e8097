"""The command line as a script and a person use it: decide, flows, diagram, chat over a pipe, resuming."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def run(*args: str, stdin: str = "", today: str = "2026-01-15") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UNGEBOT_TODAY": today}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_decide_json_guide_example(private_database: Path) -> None:
    result = run("decide", "switch", "--answer", "current_marker=fusm", "-a", "psychiatry_course=ja",
                 "-a", "current_start_date=12. oktober 2025", "-a", "new_start_date=1/2-26", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["flow"] == "switch" and data["rulebook_edition"] == "ungeloeftet-2025.2"
    assert data["result"] == "register" and data["effect"] == "counts"
    assert [(a["do"], a["marker"], a["marker_key"], a["date"], a["other_person"]) for a in data["actions"]] == [
        ("end", "Ungeløftet – Flere unge skal med", "fusm", "2026-01-31", False),
        ("create", "Ungeløftet – IPS", "ips", "2026-02-01", False)]
    assert "31. januar 2026" in data["text"] and "1. februar 2026" in data["text"]
    assert [(s["kind"], s.get("question") or s.get("node"), s.get("days")) for s in data["trace"]][-4:] == [
        ("answer", "new_start_date", None), ("outcome", "switched", None), ("date", None, -1), ("date", None, 0)]
    row = sqlite3.connect(private_database).execute("select channel, flow, result from decisions").fetchone()
    assert row == ("cli", "switch", "register")


def test_decide_text_output() -> None:
    result = run("decide", "error", "-a", "wrong_marker=fusm", "-a", "wrong_start_date=23.9.2025",
                 "-a", "correct_registration_needed=nej")
    assert result.returncode == 0
    assert "Sæt slutdato 23. september 2025 på markøren »Ungeløftet – Flere unge skal med«" in result.stdout


def test_decide_missing_answer_names_the_next_question(private_database: Path) -> None:
    result = run("decide", "switch", "-a", "current_marker=ips")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "psychiatry_course" in result.stderr and "yes (Ja) | no (Nej)" in result.stderr
    data = json.loads(run("decide", "switch", "-a", "current_marker=ips", "--json").stdout)
    assert data["error"] == "missing_answer" and data["question"] == "psychiatry_course"
    assert not private_database.exists() or sqlite3.connect(private_database).execute(
        "select count(*) from decisions").fetchone()[0] == 0


@pytest.mark.parametrize("args, words", [
    (["decide", "switch", "-a", "current_marker=begge"], "Jeg forstod ikke »begge«"),
    (["decide", "leave", "-a", "phase=1", "-a", "current_marker=1", "-a", "current_start_date=30/2-26"], "har kun 28 dage"),
    (["decide", "switch", "-a", "current_marker=ips", "-a", "psychiatry_course=nej", "-a", "benefits_from_effort=ja",
      "-a", "current_start_date=1.2.2026", "-a", "new_start_date=1.1.2026"], "kan ikke begynde før"),
    (["decide", "nowhere"], "Ukendt situation »nowhere«"),
    (["decide", "switch", "-a", "colour=blue"], "har ikke spørgsmålet colour"),
    (["decide", "switch", "-a", "no-equals-sign"], "ID=TEKST"),
    (["diagram", "nowhere"], "Ukendt situation"),
])
def test_bad_input_exits_2_with_a_danish_message(args: list[str], words: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_flows_lists_every_flow_router_first() -> None:
    lines = run("flows").stdout.splitlines()
    assert lines[0].startswith("situation") and len(lines) == 10


def test_chat_over_a_pipe_and_resume_after_restart(private_database: Path) -> None:
    first = run("chat", stdin="2\nFlere unge skal med\nja\n12.10.2025\n")
    assert first.returncode == 0 and "Traceback" not in first.stderr
    assert "Fra hvilken dag hører den unge til den nye målgruppe?" in first.stdout
    second = run("chat", stdin="1. februar 2026\n")
    assert "Du fortsætter sagen fra sidst: Den unge skifter målgruppe" in second.stdout
    assert "• Hvilken markør har den unge nu? – Ungeløftet – Flere unge skal med" in second.stdout
    assert "Sæt slutdato 31. januar 2026 på markøren »Ungeløftet – Flere unge skal med«" in second.stdout
    assert "Opret markøren »Ungeløftet – IPS« med startdato 1. februar 2026" in second.stdout
    rows = sqlite3.connect(private_database).execute("select channel, flow, answers from decisions").fetchall()
    assert len(rows) == 1 and rows[0][:2] == ("terminal", "switch")
    assert [a["question"] for a in json.loads(rows[0][2])] == [
        "situation", "current_marker", "psychiatry_course", "current_start_date", "new_start_date"]


def test_chat_never_echoes_a_cpr_number() -> None:
    result = run("chat", stdin="1\n2902001234\n")
    assert "2902001234" not in result.stdout and "CPR-nummer" in result.stdout


def test_help_lists_the_commands() -> None:
    result = run("--help")
    for command in ("chat", "decide", "flows", "diagram"):
        assert command in result.stdout


MOVE_IN_OTHER = ["-a", "still_benefits=ja", "-a", "psychiatry_course=nej", "-a", "marker_from_other_municipality=ja",
                 "-a", "other_marker=ips"]


def test_decide_names_the_other_markers_start_date_and_warns_on_end_equals_start(private_database: Path) -> None:
    missing = json.loads(run("decide", "move_in", *MOVE_IN_OTHER, "-a", "effort_start_date=6.1.2026", "--json").stdout)
    assert missing["error"] == "missing_answer" and missing["question"] == "other_marker_start_date"
    result = run("decide", "move_in", *MOVE_IN_OTHER, "-a", "other_marker_start_date=5.1.2026",
                 "-a", "effort_start_date=6.1.2026", "--json")
    data = json.loads(result.stdout)
    assert data["warnings"] == ["end_equals_start"] and data["actions"][0]["date"] == "2026-01-05"


def test_decide_refuses_an_identical_error_correction() -> None:
    result = run("decide", "error", "-a", "wrong_marker=ips", "-a", "wrong_start_date=1.12.2025",
                 "-a", "correct_registration_needed=ja", "-a", "wrong_person=nej", "-a", "correct_marker=ips",
                 "-a", "correct_start_date=1.12.2025", "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 2 and data["error"] == "bad_answer" and data["question"] == "correct_start_date"


@pytest.mark.parametrize("args, as_json", [
    (["decide", "switch", "-a", "current_marker=010190-1234"], True),
    (["decide", "switch", "-a", "010190 - 1234"], False),
    (["decide", "0101-90-1234"], True),
    (["decide", "leave", "-a", "phase=1", "-a", "current_marker=1", "-a", "current_start_date=cpr 01.01.90\u20131234"],
     False),
])
def test_decide_refuses_a_cpr_number_without_printing_it(args: list[str], as_json: bool,
                                                         private_database: Path) -> None:
    result = run(*args, *(["--json"] if as_json else []))
    assert result.returncode == 2 and "CPR-nummer" in result.stderr
    for digits in ("1234", "0101", "90"):
        assert digits not in result.stdout + result.stderr
    if as_json:
        assert json.loads(result.stdout)["error"] == "cpr_refused"
    assert not private_database.exists() or sqlite3.connect(private_database).execute(
        "select count(*) from decisions").fetchone()[0] == 0
