"""The engine: machines built once, dialogues as answers, back and change, replay, guards."""

from __future__ import annotations

from datetime import date

import pytest

from bot.chat.texts import Texts
from flows.answers import parse_answer
from flows.catalogue import Catalogue
from flows.engine import Flow, Rulebook, _Walker, far_date_warning
from flows.errors import AnswerError, FlowError

from tests.scenarios import SCENARIO_DIR, load_scenarios

TODAY = date(2026, 1, 15)
SWITCH = {"current_marker": "fusm", "psychiatry_course": "yes", "current_start_date": "2025-10-12",
          "new_start_date": "2026-02-01"}


def test_one_machine_per_flow_and_no_models_pile_up(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    machine = flow.machine
    for _ in range(200):
        flow.walk(SWITCH, TODAY)
    assert flow.machine is machine
    assert machine.models == []


def test_only_an_answer_moves_a_dialogue_and_an_answer_that_cannot_move_it_is_an_error(rulebook: Rulebook) -> None:
    from transitions import MachineError

    flows = [Flow(flow.spec, flow.programme) for flow in rulebook.flows.values()]  # machines built by this test
    for flow in flows:
        assert list(flow.machine.events) == (["answer"] if flow.spec.questions else []), flow.id  # no to_<node>
    flow = next(flow for flow in flows if flow.id == "switch")
    with pytest.raises(MachineError):  # never silently ignored: an outcome takes no answer
        flow.machine.events["answer"].trigger(_Walker("still_ips", {}, TODAY))


def test_a_node_the_machine_cannot_leave_is_a_flow_error(rulebook: Rulebook) -> None:
    """The engine's guard against a machine without a way on (a loaded flow has one from every question)."""
    flow = rulebook.flow("switch")
    with pytest.raises(FlowError) as caught:
        flow._fire(_Walker("still_ips", {}, TODAY))
    assert str(caught.value) == f"{flow.spec.path}: node 'still_ips': no transition took the answer"


def test_walk_stops_at_the_first_unanswered_question(rulebook: Rulebook) -> None:
    position = rulebook.flow("switch").walk({"current_marker": "ips"}, TODAY)
    assert position.question is not None and position.question.id == "psychiatry_course"
    assert dict(position.answers) == {"current_marker": "ips"}


def test_answers_off_the_path_are_ignored(rulebook: Rulebook) -> None:
    position = rulebook.flow("switch").walk({**SWITCH, "benefits_from_effort": "no"}, TODAY)
    assert position.outcome is not None and position.outcome.node == "switched"
    assert "benefits_from_effort" not in position.answers


def test_changing_an_earlier_answer_keeps_what_still_applies(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    position = flow.change(SWITCH, "current_marker", "ips", TODAY)
    # IPS and in psychiatry: nothing to switch, and the dates no longer apply.
    assert position.outcome is not None and position.outcome.node == "still_ips"
    assert set(position.answers) == {"current_marker", "psychiatry_course"}
    position = flow.change(SWITCH, "psychiatry_course", "no", TODAY)
    assert position.outcome is not None and position.outcome.node == "still_fusm"
    assert set(position.answers) == {"current_marker", "psychiatry_course"}
    position = flow.change(SWITCH, "new_start_date", "2026-03-01", TODAY)
    assert position.outcome is not None and position.outcome.actions[0].date == date(2026, 2, 28)


def test_changing_to_ips_path_drops_later_answers(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    position = flow.change({**SWITCH, "psychiatry_course": "no"}, "current_marker", "ips", TODAY)
    assert position.question is not None and position.question.id == "benefits_from_effort"
    assert set(position.answers) == {"current_marker", "psychiatry_course"}


def test_guard_refuses_a_new_start_before_the_old_one(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    position = flow.walk({k: v for k, v in SWITCH.items() if k != "new_start_date"}, TODAY)
    with pytest.raises(AnswerError) as caught:
        flow.step(position, "2025-10-11", TODAY)
    assert caught.value.code == "guard" and caught.value.params["message"] == "before_current_start"
    # The same answer replayed is rejected the same way, and the question stays open.
    replayed = flow.walk({**SWITCH, "new_start_date": "2025-10-11"}, TODAY)
    assert replayed.question is not None and replayed.rejected is not None
    assert replayed.flow is flow and dict(replayed.answers) == {k: v for k, v in SWITCH.items() if k != "new_start_date"}


def test_emigration_guard_allows_the_same_day_but_not_before(rulebook: Rulebook) -> None:
    flow = rulebook.flow("emigration")
    base = {"phase": "leaves", "current_marker": "ips", "current_start_date": "2026-01-10"}
    with pytest.raises(AnswerError):
        flow.step(flow.walk(base, TODAY), "2026-01-09", TODAY)
    outcome = flow.step(flow.walk(base, TODAY), "2026-01-10", TODAY).outcome
    assert outcome is not None and outcome.warnings == ("end_equals_start",)


def test_a_stored_value_that_is_not_an_answer_is_refused(rulebook: Rulebook) -> None:
    position = rulebook.flow("switch").walk({"current_marker": "both"}, TODAY)
    assert position.question is not None and position.question.id == "current_marker"
    assert position.rejected is not None


def test_far_warnings_are_relative_to_today(rulebook: Rulebook) -> None:
    flow = rulebook.flow("start")
    answers = {"age_15_29": "yes", "meets_criterion": "yes", "offered_effort": "yes", "existing_marker": "none",
               "psychiatry_course": "yes"}
    assert flow.walk({**answers, "start_date": "2025-01-15"}, TODAY).outcome.warnings == ()
    assert flow.walk({**answers, "start_date": "2025-01-14"}, TODAY).outcome.warnings == ("far_past",)
    assert flow.walk({**answers, "start_date": "2027-01-15"}, TODAY).outcome.warnings == ()
    assert flow.walk({**answers, "start_date": "2027-01-16"}, TODAY).outcome.warnings == ("far_future",)


def test_outcome_json_follows_the_contract(rulebook: Rulebook) -> None:
    data = rulebook.flow("switch").walk(SWITCH, TODAY).outcome.to_dict()
    assert set(data) >= {"result", "actions", "effect", "use_flow", "warnings", "sources"}
    assert data["actions"][0] == {"do": "end", "marker": "Ungeløftet – Flere unge skal med", "marker_key": "fusm",
                                  "date": "2026-01-31", "other_person": False}


def test_redirect_carries_answers(rulebook: Rulebook) -> None:
    outcome = rulebook.flow("switch").walk({**SWITCH, "new_start_date": "2025-10-12"}, TODAY).outcome
    assert outcome is not None and outcome.use_flow == "error"
    # The switch settles the error flow's questions too: a right registration, same young person, the other marker.
    assert outcome.carry == {"wrong_marker": "fusm", "wrong_start_date": "2025-10-12",
                             "correct_registration_needed": "yes", "wrong_person": "no", "correct_marker": "ips",
                             "correct_start_date": "2025-10-12"}


MOVE_IN = {"still_benefits": "yes", "psychiatry_course": "no", "marker_from_other_municipality": "yes",
           "other_marker": "ips", "other_marker_start_date": "2026-01-05"}


@pytest.mark.parametrize("start, refused", [("2026-01-04", True), ("2026-01-05", True), ("2026-01-06", False)])
def test_move_in_guards_our_start_against_the_other_marker(rulebook: Rulebook, start: str, refused: bool) -> None:
    flow = rulebook.flow("move_in")
    position = flow.walk(MOVE_IN, TODAY)
    assert position.question is not None and position.question.id == "effort_start_date"
    if refused:
        with pytest.raises(AnswerError) as caught:
            flow.step(position, start, TODAY)
        assert caught.value.params == {"message": "not_after_other_start", "question": "effort_start_date"}
    else:
        outcome = flow.step(position, start, TODAY).outcome
        assert outcome is not None and outcome.warnings == ("end_equals_start",)


def test_move_in_without_the_other_marker_asks_no_start_date(rulebook: Rulebook) -> None:
    position = rulebook.flow("move_in").walk({**MOVE_IN, "marker_from_other_municipality": "no"}, TODAY)
    assert position.question is not None and position.question.id == "effort_start_date"


MOVE_OUT = {"in_job_or_education": "no", "job_or_education_within_3_months": "not_yet"}


@pytest.mark.parametrize("moved, node, deadline", [
    ("2025-10-15", "leaves_unless_within_3_months", date(2026, 1, 15)),  # closes today: still open
    ("2025-10-14", "leaves_group", date(2026, 1, 14)),                   # closed yesterday: the no
    ("", "leaves_unless_within_3_months", None),                         # skipped: no deadline to judge
])
def test_move_out_not_yet_after_the_window_is_the_no(rulebook: Rulebook, moved: str, node: str,
                                                      deadline: date | None) -> None:
    outcome = rulebook.flow("move_out").walk({**MOVE_OUT, "move_date": moved}, TODAY).outcome
    assert outcome is not None and (outcome.node, outcome.deadline) == (node, deadline)
    assert outcome.effect == ("leaves" if node == "leaves_group" else "leaves_unless_job_or_education_within_3_months")


def test_move_out_plain_no_has_no_deadline(rulebook: Rulebook) -> None:
    outcome = rulebook.flow("move_out").walk({**MOVE_OUT, "job_or_education_within_3_months": "no"}, TODAY).outcome
    assert outcome is not None and outcome.node == "leaves_group" and outcome.deadline is None


ERROR = {"wrong_marker": "ips", "wrong_start_date": "2025-12-01", "correct_registration_needed": "yes"}


@pytest.mark.parametrize("person, marker, start, result", [
    ("no", "ips", "2025-12-01", "refused"),
    ("no", "fusm", "2025-12-01", "error_corrected"),
    ("no", "ips", "2025-12-02", "error_corrected"),
    ("yes", "ips", "2025-12-01", "error_corrected_other_person"),
])
def test_error_refuses_an_identical_correction(rulebook: Rulebook, person: str, marker: str, start: str,
                                               result: str) -> None:
    flow = rulebook.flow("error")
    position = flow.walk({**ERROR, "wrong_person": person, "correct_marker": marker}, TODAY)
    if result == "refused":
        with pytest.raises(AnswerError) as caught:
            flow.step(position, start, TODAY)
        assert caught.value.params["message"] == "identical_registration"
        return
    outcome = flow.step(position, start, TODAY).outcome
    assert outcome is not None and outcome.node == result
    assert outcome.effect == ("counts" if person == "no" else "not_counted")
    assert outcome.actions[1].other_person is (person == "yes")


def test_leave_before_the_marker_still_leaves_the_group(rulebook: Rulebook) -> None:
    answers = {"phase": "starts", "current_marker": "ips", "current_start_date": "2026-01-10"}
    for leave in ("2026-01-10", "2026-01-09"):
        outcome = rulebook.flow("leave").walk({**answers, "leave_start_date": leave}, TODAY).outcome
        assert outcome is not None and (outcome.result, outcome.effect, outcome.actions) == ("ask_star", "leaves", ())


EXISTING_STARTS = {("switch", "current_start_date"), ("leave", "current_start_date"),
                   ("emigration", "current_start_date"), ("error", "wrong_start_date"),
                   ("move_in", "other_marker_start_date")}


def test_only_event_dates_are_far(rulebook: Rulebook) -> None:
    dates = {(flow.id, q.id): q for flow in rulebook.flows.values() for q in flow.spec.questions.values()
             if q.kind == "date"}
    assert {key for key, q in dates.items() if q.existing_start} == EXISTING_STARTS
    for key, question in dates.items():
        expected = None if key in EXISTING_STARTS else "far_past"
        assert far_date_warning(question, "2020-01-01", TODAY) == expected, key
    assert far_date_warning(dates[("start", "start_date")], "", TODAY) is None


def test_a_marker_started_years_ago_gives_no_far_warning(rulebook: Rulebook) -> None:
    outcome = rulebook.flow("switch").walk({**SWITCH, "current_start_date": "2019-05-01"}, TODAY).outcome
    assert outcome is not None and outcome.warnings == ()


def test_an_empty_value_skips_only_an_optional_date(rulebook: Rulebook) -> None:
    move_out = rulebook.flow("move_out")
    assert move_out.walk({**MOVE_OUT, "move_date": ""}, TODAY).outcome is not None
    switch = rulebook.flow("switch")
    position = switch.walk({k: v for k, v in SWITCH.items() if k != "new_start_date"}, TODAY)
    for value in ("", "2026-02-30", "1.2.2026"):
        with pytest.raises(AnswerError) as caught:
            switch.step(position, value, TODAY)
        assert caught.value.code == "date_unreadable"
    with pytest.raises(AnswerError) as caught:
        switch.step(switch.walk({}, TODAY), "", TODAY)
    assert caught.value.code == "choice_unknown" and caught.value.params == {"text": ""}


def test_an_outcome_cites_the_questions_asked_and_itself(rulebook: Rulebook) -> None:
    outcome = rulebook.flow("switch").walk(SWITCH, TODAY).outcome
    assert outcome is not None and outcome.sources == (
        "000: Den unge skifter målgruppe", "000: Målgruppekriterier",
        "000: Overblik over registrering i Ungeløftet › SKIFTER MÅLGRUPPE")


def test_a_finished_flow_takes_no_more_answers_and_a_bad_date_is_named(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    with pytest.raises(ValueError) as finished:
        flow.step(flow.walk(SWITCH, TODAY), "yes", TODAY)
    assert str(finished.value) == "the flow has already reached an outcome"
    with pytest.raises(AnswerError) as caught:
        flow.step(flow.walk({k: v for k, v in SWITCH.items() if k != "new_start_date"}, TODAY), "2026-02-30", TODAY)
    assert caught.value.params == {"text": "2026-02-30"}



def test_each_step_goes_where_the_machines_own_trigger_would(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    """Flow._fire reads the machine's transitions itself (for speed); at every step of every scenario of both
    programmes and the router it must agree with transitions' `answer` trigger, node for node."""
    compared = 0
    scenarios = [*load_scenarios(), *load_scenarios(SCENARIO_DIR / "flere_skal_med_2017"),
                 *load_scenarios(SCENARIO_DIR / "router")]
    for scenario in scenarios:
        flow, today = catalogue.flow(scenario["flow"]), scenario["today"]
        position = flow.walk({}, today)
        for question_id, text in scenario["answers"]:
            assert position.question is not None and position.question.id == question_id
            question = position.question
            labels = catalogue_texts.option_labels(flow, question) if question.kind != "date" else {}
            value = parse_answer(question, text, today, labels)
            answers = {**position.answers, question_id: value}
            ours, theirs = _Walker(question_id, dict(answers), today), _Walker(question_id, dict(answers), today)
            flow._fire(ours)
            assert flow.machine.events["answer"].trigger(theirs) and theirs.state == ours.state, scenario["id"]
            position = flow.step(position, value, today)
            compared += 1
    assert compared > 200
