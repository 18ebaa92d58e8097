"""The trace behind an outcome: each answer with where it led and why, each date step by step; pure data."""

from __future__ import annotations

from datetime import date

from flows.engine import Rulebook
from flows.trace import (RULE_DAYS, AnswerStep, DateStep, DeadlineStep, OutcomeStep, from_dicts, trace, trace_dicts,
                         trace_flow)

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
    assert deadline == DeadlineStep("move_out", "move_date", date(2026, 11, 30), 3, date(2027, 2, 28))


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


# The tests below pin each step's stored form, the carried marks and the end of the walk (mutation survivors, #10).

ERROR = {"wrong_marker": "fusm", "wrong_start_date": "2025-10-12", "correct_registration_needed": "no"}


def test_each_step_has_its_full_stored_form() -> None:
    assert AnswerStep("f", "q", "v", "000: S", "n", carried=True).to_dict() == {
        "kind": "answer", "flow": "f", "question": "q", "value": "v", "source": "000: S", "next": "n", "carried": True}
    assert AnswerStep("f", "q", "v", "s", "n").to_dict()["carried"] is False
    assert OutcomeStep("f", "node", "create", "s", "other").to_dict() == {
        "kind": "outcome", "flow": "f", "node": "node", "result": "create", "source": "s", "use_flow": "other"}
    assert OutcomeStep("f", "node", "create", "s").to_dict()["use_flow"] is None
    assert DateStep("f", "end", "ips", "q", date(2026, 2, 1), "day_before", -1, date(2026, 1, 31)).to_dict() == {
        "kind": "date", "flow": "f", "do": "end", "marker_key": "ips", "from_question": "q",
        "from_date": "2026-02-01", "rule": "day_before", "days": -1, "date": "2026-01-31"}
    assert DeadlineStep("f", "q", date(2026, 11, 30), 3, date(2027, 2, 28)).to_dict() == {
        "kind": "deadline", "flow": "f", "from_question": "q", "from_date": "2026-11-30", "months": 3,
        "date": "2027-02-28"}


def test_every_kind_of_step_reads_back_the_same(rulebook: Rulebook) -> None:
    same_day = {**SWITCH, "new_start_date": "2025-10-12"}
    move = {"in_job_or_education": "no", "job_or_education_within_3_months": "not_yet", "move_date": "2026-11-30"}
    steps = (trace(rulebook, [("situation", {"situation": "switch"}), ("switch", same_day), ("error", ERROR)], TODAY)
             + trace(rulebook, [("move_out", move)], TODAY))
    kinds = {type(step).__name__ for step in steps}
    assert kinds == {"AnswerStep", "OutcomeStep", "DateStep", "DeadlineStep"}
    assert any(isinstance(step, AnswerStep) and step.carried for step in steps)
    assert any(isinstance(step, OutcomeStep) and step.use_flow for step in steps)
    assert from_dicts(trace_dicts(steps)) == steps


def test_a_stored_row_without_the_optional_keys_reads_with_their_defaults() -> None:
    rows = [{"kind": "answer", "flow": "f", "question": "q", "value": "v", "source": "s", "next": "n"},
            {"kind": "outcome", "flow": "f", "node": "o", "result": "r", "source": "s"},
            {"kind": "date", "flow": "f", "do": "create", "marker_key": "ips", "from_question": "q",
             "from_date": "2026-02-01", "rule": "same_day", "days": "0", "date": "2026-02-01"},
            {"kind": "deadline", "flow": "f", "from_question": "q", "from_date": "2026-11-30", "months": "3",
             "date": "2027-02-28"},
            {"kind": "something newer", "flow": "f"}]
    assert from_dicts(rows) == (
        AnswerStep("f", "q", "v", "s", "n", False), OutcomeStep("f", "o", "r", "s", None),
        DateStep("f", "create", "ips", "q", date(2026, 2, 1), "same_day", 0, date(2026, 2, 1)),
        DeadlineStep("f", "q", date(2026, 11, 30), 3, date(2027, 2, 28)))
    assert from_dicts([{**rows[0], "carried": 1}])[0] == AnswerStep("f", "q", "v", "s", "n", True)


def test_an_answer_is_carried_only_when_it_is_the_one_handed_over(rulebook: Rulebook) -> None:
    flow = rulebook.flow("error")
    handed = {"wrong_marker": "ips", "wrong_start_date": "2025-10-12"}
    steps, outcome = trace_flow(flow, ERROR, TODAY, handed)
    marks = [(s.question, s.carried) for s in steps if isinstance(s, AnswerStep)]
    assert marks == [("wrong_marker", False), ("wrong_start_date", True), ("correct_registration_needed", False)]
    assert outcome is not None
    for nothing in (None, {}):
        steps, _ = trace_flow(flow, ERROR, TODAY, nothing)
        assert not any(s.carried for s in steps if isinstance(s, AnswerStep))


def test_the_walk_stops_at_the_first_flow_with_an_open_question(rulebook: Rulebook) -> None:
    steps = trace(rulebook, [("switch", {"current_marker": "fusm"}), ("error", ERROR)], TODAY)
    assert [(type(s).__name__, s.flow) for s in steps] == [("AnswerStep", "switch")]
    steps, outcome = trace_flow(rulebook.flow("error"), {}, TODAY)
    assert (steps, outcome) == ([], None)


def test_the_outcome_step_names_the_node_its_result_and_section(rulebook: Rulebook) -> None:
    steps = trace(rulebook, [("switch", SWITCH)], TODAY)
    (outcome,) = [s for s in steps if isinstance(s, OutcomeStep)]
    node = rulebook.flow("switch").spec.outcomes["switched"]
    assert outcome == OutcomeStep("switch", "switched", node.result, node.source, None)
    assert node.source and node.result
    assert [s.source for s in steps if isinstance(s, AnswerStep)] == [
        rulebook.flow("switch").spec.questions[q].source for q in SWITCH]


def test_the_rule_days() -> None:
    assert RULE_DAYS == {"day_before": -1, "same_day": 0, "own_start": 0}
