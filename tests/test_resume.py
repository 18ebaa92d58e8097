"""Resume exactly, in the terminal: a restart at every kind of pending step shows the recap and that very step,
and the next answer acts on what is on the screen. Also: an empty line asks again; only /slut or end of input ends."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from bot.channels.terminal import run_chat

SWITCH_TO_DATE = "2\nFlere unge skal med\nja\n12.10.2025\n"


@pytest.fixture(autouse=True)
def fixed_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    monkeypatch.setenv("UNGEBOT_MUNICIPALITY", "Testkommune")
    monkeypatch.delenv("UNGEBOT_SMTP_HOST", raising=False)


def chat(typed: str) -> str:
    """One terminal session (a process start) with the typed lines; its whole transcript."""
    out = io.StringIO()
    assert run_chat(io.StringIO(typed), out) == 0
    return out.getvalue()


def decisions(path: Path) -> list[tuple[int, str]]:
    return sqlite3.connect(path).execute("select id, result from decisions order by id").fetchall()


def test_a_pending_far_date_is_asked_again_with_its_date(private_database: Path) -> None:
    first = chat(SWITCH_TO_DATE + "1.3.2027\n")
    assert "1. marts 2027 ligger mere end et år frem" in first
    second = chat("ja\n")
    recap, _, rest = second.partition("> ja")
    assert "Du fortsætter sagen fra sidst: Den unge skifter målgruppe" in recap
    assert "• Hvilken startdato har den nuværende markør »Ungeløftet – Flere unge skal med«? – 12. oktober 2025" in recap
    assert recap.rstrip().endswith("2. Nej") and "1. marts 2027 ligger mere end et år frem" in recap
    # "ja" confirmed the date on the screen: the switch is dated 1 March 2027, not some other date.
    assert "Sæt slutdato 28. februar 2027" in rest and "Opret markøren »Ungeløftet – IPS« med startdato 1. marts 2027" in rest


def test_a_pending_star_draft_is_shown_in_full_before_it_can_be_sent(private_database: Path) -> None:
    first = chat("10\nEn ung på døgnophold – hvad gælder?\n")
    assert "Udkast til spørgsmål" in first
    second = chat("ret\nHvilken markør gælder ved døgnophold?\n")
    before, _, after = second.partition("> ret")
    assert "Du fortsætter sagen fra sidst" in before
    assert "Udkast til spørgsmål" in before and "En ung på døgnophold – hvad gælder?" in before
    assert "Send til STAR" in before
    assert "Skriv dit spørgsmål til STAR" in after  # "ret" at the draft means: change the text
    rows = sqlite3.connect(private_database).execute("select status from star_questions").fetchall()
    assert all(status != "sent" for (status,) in rows)


def test_a_pending_restart_question_is_asked_again(private_database: Path) -> None:
    chat(SWITCH_TO_DATE + "/forfra\n")
    second = chat("nej\n")
    before, _, after = second.partition("> nej")
    assert before.rstrip().endswith("2. Nej") and "Vil du starte forfra?" in before
    assert "vi fortsætter" in after and "Fra hvilken dag hører den unge til den nye målgruppe?" in after


def test_a_pending_change_is_asked_again(private_database: Path) -> None:
    chat(SWITCH_TO_DATE + "/ret\n")
    second = chat("3\nnej\n")
    assert "Hvilket svar vil du ændre?" in second.partition("> 3")[0]
    assert "Nu står der: Ja" in second and "Har den unge nu et forløb i psykiatrien?" in second
    assert "Jeg har ændret dit svar på »Har den unge nu et forløb i psykiatrien?« til Nej" in second
    assert "Intet skift" in second  # FUSM without psychiatry stays FUSM
    assert "Jeg har fjernet dit svar på »Hvilken startdato har den nuværende markør" in second


def test_a_pending_question_and_a_shown_outcome_resume_too(private_database: Path) -> None:
    chat(SWITCH_TO_DATE)
    second = chat("1.2.2026\n")
    assert "Fra hvilken dag hører den unge til den nye målgruppe?" in second.partition("> 1.2.2026")[0]
    third = chat("1\n")
    before, _, after = third.partition("> 1")
    assert "Skift markøren til »Ungeløftet – IPS«" in before and "1. Hvorfor?" in before
    assert "ny startdato 1. februar 2026 − 1 dag = slutdato 31. januar 2026" in after


def test_an_empty_line_asks_again_and_only_slut_or_the_end_stops(private_database: Path) -> None:
    out = chat("2\n\n   \nFlere unge skal med\n/slut\nja\n")
    assert out.count("Har den unge nu et forløb i psykiatrien?") == 1
    assert out.count("Hvilken markør har den unge nu?") == 3  # asked, then asked again after each empty line
    assert "> ja" not in out and "Farvel" in out


def test_back_and_change_after_an_outcome_mark_the_shown_decision_replaced(private_database: Path) -> None:
    chat(SWITCH_TO_DATE + "1.2.2026\n/tilbage\n1.3.2026\n")
    assert decisions(private_database) == [(1, "register"), (2, "register")]
    replaced = sqlite3.connect(private_database).execute(
        "select decision_id, replaced_by from replaced_decisions").fetchall()
    assert replaced == [(1, None)]  # marked when /tilbage took it off the screen, before a new one was reached
    chat("/ret\n2\n1\n")  # the marker was IPS all along: in psychiatry, nothing to switch
    assert decisions(private_database)[-1] == (3, "no_change")
    assert sqlite3.connect(private_database).execute(
        "select decision_id, replaced_by from replaced_decisions order by decision_id").fetchall() == [(1, None), (2, 3)]
