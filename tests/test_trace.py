"""The trace behind an outcome: each answer with where it led and why, each date step by step; pure data."""

from __future__ import annotations

from datetime import date

from flows.engine import Rulebook
from flows.trace import AnswerStep, DateStep, DeadlineStep, OutcomeStep, from_dicts, trace, trace_dicts

TODAY = date(2026, 1, 15)
SWITCH = {"current_marker": "fusm", "psychiatry_course": "yes", "current_start_date": "2025-10-12",
          "new_start_date": "2026-02-01"}


def test_the_guide_example_switch_is_traced_answer_by_answer_and_date_by_date(rulebook: Rulebook) -> None:
    steps = trace(rulebook, [("situation", {"situation": "switch"}), ("switch", SWITCH)], TODAY)
    answers = [step for step in steps if isinstance(step, AnswerStep)]
    assert [(a.flow, a.question, a.value, a.next) for a in answers] == [
        ("situation", "situation", "switch", "to_switch"),
        ("switch", "current_marker", "fusm", "psychiatry_course"),
        ("switch", "psychiatry_course", "yes", "current_start_date"),
        ("switch", "current_start_date", "2025-10-12", "new_start_date"),
        ("switch", "new_start_date", "2026-02-01", "switched"),
    ]
    assert answers[2].source == "000: Målgruppekriterier"
    outcomes = [step for step in steps if isinstance(step, OutcomeStep)]
    assert [(o.flow, o.node, o.use_flow) for o in outcomes] == [("situation", "to_switch", "switch"),
                                                               ("switch", "switched", None)]
    dates = [step for step in steps if isinstance(step, DateStep)]
    assert [(d.do, d.marker_key, d.from_question, d.from_date, d.days, d.result) for d in dates] == [
        ("end", "fusm", "new_start_date", date(2026, 2, 1), -1, date(2026, 1, 31)),
        ("create", "ips", "new_start_date", date(2026, 2, 1), 0, date(2026, 2, 1)),
    ]


def test_a_hand_over_marks_the_carried_answers(rulebook: Rulebook) -> None:
    same_day = {**SWITCH, "new_start_date": "2025-10-12"}
    error = {"wrong_marker": "fusm", "wrong_start_date": "2025-10-12", "correct_registration_needed": "no"}
    steps = trace(rulebook, [("switch", same_day), ("error", error)], TODAY)
    carried = [(s.question, s.carried) for s in steps if isinstance(s, AnswerStep) and s.flow == "error"]
    assert carried == [("wrong_marker", True), ("wrong_start_date", True), ("correct_registration_needed", False)]
    own = [s for s in steps if isinstance(s, DateStep)]
    assert [(d.rule, d.days, d.result) for d in own] == [("own_start", 0, date(2025, 10, 12))]


def test_a_deadline_is_traced_in_months(rulebook: Rulebook) -> None:
    answers = {"in_job_or_education": "no", "job_or_education_within_3_months": "not_yet",
               "move_date": "2026-11-30"}
    steps = trace(rulebook, [("move_out", answers)], TODAY)
    (deadline,) = [s for s in steps if isinstance(s, DeadlineStep)]
    assert (deadline.from_date, deadline.months, deadline.result) == (date(2026, 11, 30), 3, date(2027, 2, 28))


def test_an_open_question_ends_the_trace_without_an_outcome(rulebook: Rulebook) -> None:
    steps = trace(rulebook, [("switch", {"current_marker": "ips"})], TODAY)
    assert [type(s).__name__ for s in steps] == ["AnswerStep"]


def test_the_stored_form_reads_back_the_same(rulebook: Rulebook) -> None:
    steps = trace(rulebook, [("situation", {"situation": "switch"}), ("switch", SWITCH)], TODAY)
    rows = trace_dicts(steps)
    assert rows[0]["kind"] == "answer" and rows[-1] == {
        "kind": "date", "flow": "switch", "do": "create", "marker_key": "ips", "from_question": "new_start_date",
        "from_date": "2026-02-01", "rule": "same_day", "days": 0, "date": "2026-02-01"}
    assert from_dicts(rows) == steps


def test_why_renders_each_answer_with_its_section_and_each_date_step_by_step(rulebook: Rulebook) -> None:
    from bot.chat.texts import Texts
    from bot.chat.why import Why

    steps = trace(rulebook, [("situation", {"situation": "switch"}), ("switch", SWITCH)], TODAY)
    text = Why(Texts(rulebook)).plain(steps)
    assert "Det hører under »Den unge skifter målgruppe«." in text
    assert "Har den unge nu et forløb i psykiatrien? – Ja\n   Vejledningen: Målgruppekriterier" in text
    assert ("»Ungeløftet – Flere unge skal med«: ny startdato 1. februar 2026 − 1 dag = slutdato 31. januar 2026"
            in text)
    assert "»Ungeløftet – IPS«: ny startdato 1. februar 2026 = startdato 1. februar 2026 (samme dag)" in text


def test_every_date_question_has_a_short_name(rulebook: Rulebook) -> None:
    from bot.chat.texts import Texts
    from bot.chat.why import Why

    why = Why(Texts(rulebook))
    for flow in rulebook.flows.values():
        for question in flow.spec.questions.values():
            if question.kind == "date":
                assert why.date_name(question.id)
