"""The engine: machines built once, dialogues as answers, back and change, replay, guards."""

from __future__ import annotations

from datetime import date

import pytest

from flows.engine import Rulebook
from flows.errors import AnswerError

TODAY = date(2026, 1, 15)
SWITCH = {"current_marker": "fusm", "psychiatry_course": "yes", "current_start_date": "2025-10-12",
          "new_start_date": "2026-02-01"}


def test_one_machine_per_flow_and_no_models_pile_up(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    machine = flow.machine
    for _ in range(1000):
        flow.walk(SWITCH, TODAY)
    assert flow.machine is machine
    assert machine.models == []


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
    assert outcome.carry == {"wrong_marker": "fusm", "wrong_start_date": "2025-10-12"}
