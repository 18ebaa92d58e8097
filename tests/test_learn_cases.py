"""Practice cases: every flow and outcome can be generated, reproducibly; the story never gives the answer away;
grading goes by the engine's own outcome and reads dates with the dialogue's parser."""

from __future__ import annotations

from datetime import date

import pytest

from bot.learn.cases import DATE_PATTERNS, generate, practice_flows
from bot.learn.grading import (
    COMPUTED_RULES,    action_choices, date_items, grade_action, grade_date, grade_situation, signature, situation_choices,
)
from bot.learn.story import tell
from flows.engine import Rulebook
from flows.errors import AnswerError

SEEDS = range(6)


def _all_outcomes(rulebook: Rulebook) -> list[tuple[str, str]]:
    return [(flow, node) for flow in practice_flows(rulebook) for node in sorted(rulebook.flow(flow).spec.outcomes)]


def test_every_flow_and_every_outcome_can_be_generated(rulebook: Rulebook) -> None:
    for flow_id, node in _all_outcomes(rulebook):
        for seed in SEEDS:
            case = generate(rulebook, seed, flow_id, node)
            assert case.flow == flow_id
            first = rulebook.flow(flow_id).walk(dict(case.segments[0].answers), case.today)
            assert first.outcome is not None and first.outcome.node == node
            # the graded outcome is the engine's own, walked again from the answers, flow after flow
            carried: dict[str, str] = {}
            for segment in case.segments:
                reached = rulebook.flow(segment.flow).walk({**carried, **dict(segment.answers)}, case.today).outcome
                assert reached is not None
                carried = dict(reached.carry)
            assert reached == case.outcome


def test_situations_offered_are_every_practice_flow(rulebook: Rulebook) -> None:
    assert set(situation_choices(rulebook)) == set(practice_flows(rulebook))


def test_random_cases_cover_every_flow_and_the_tricky_dates(rulebook: Rulebook) -> None:
    cases = [generate(rulebook, seed) for seed in range(300)]
    assert {case.flow for case in cases} == set(practice_flows(rulebook))
    assert {case.pattern for case in cases} == set(DATE_PATTERNS)
    ends = [item.expected for case in cases for item in date_items(rulebook, case) if item.rule == "day_before"]
    assert any(day.month == 2 and day.day == 29 for day in ends), "a leap day"
    assert any(day.month == 12 and day.day == 31 for day in ends), "a year end"
    assert any("end_equals_start" in case.outcome.warnings for case in cases)
    deadlines = [case for case in cases if case.outcome.deadline is not None]
    assert any(case.outcome.deadline.day != date.fromisoformat(case.answers()["move_date"]).day
               for case in deadlines), "a 3-month window that ends on a shorter month's last day"


def test_the_same_seed_gives_the_same_case_and_story(rulebook: Rulebook) -> None:
    for seed in (1, 42, 2026):
        assert generate(rulebook, seed) == generate(rulebook, seed)
        assert tell(rulebook, generate(rulebook, seed)) == tell(rulebook, generate(rulebook, seed))
    assert len({tell(rulebook, generate(rulebook, seed)) for seed in range(20)}) == 20


def _forms(day: date) -> list[str]:
    """The ways a date can be typed in the dialogue (and so could give the answer away)."""
    from flows.dates import format_date

    return [format_date(day), day.isoformat(), f"{day.day}.{day.month}.{day.year}", f"{day.day:02d}.{day.month:02d}."
            f"{day.year}", f"{day.day}/{day.month}", f"{day.day}.{day.month}.{day.year % 100}"]


def test_the_story_never_contains_the_answer(rulebook: Rulebook) -> None:
    for flow_id, node in _all_outcomes(rulebook):
        for seed in SEEDS:
            case = generate(rulebook, seed, flow_id, node)
            story = tell(rulebook, case)
            assert "slutdato" not in story.lower() and "{" not in story
            for item in date_items(rulebook, case):
                if item.rule in COMPUTED_RULES:  # computed dates: the skill being trained
                    for form in _forms(item.expected):
                        assert form not in story, (flow_id, node, seed, form, story)


def test_grading_by_part(rulebook: Rulebook) -> None:
    case = generate(rulebook, 5, "switch", "switched")
    assert grade_situation(case, "switch").correct and not grade_situation(case, "move_in").correct
    right = signature(case.outcome)
    assert right in action_choices(rulebook, case)
    assert grade_action(case, right).correct
    assert not grade_action(case, next(s for s in action_choices(rulebook, case) if s != right)).correct
    end, start = date_items(rulebook, case)
    assert end.rule == "day_before" and start.rule == "same_day"
    typed = f"{end.expected.day}/{end.expected.month}-{end.expected.year % 100}"
    assert grade_date(end, typed, case.today).correct
    assert not grade_date(end, start.expected.isoformat(), case.today).correct
    with pytest.raises(AnswerError):
        grade_date(end, "31. februar 2026", case.today)


def test_a_case_started_elsewhere_accepts_either_situation(rulebook: Rulebook) -> None:
    case = generate(rulebook, 3, "start", "to_switch")
    assert case.flows[0] == "start" and case.flows[1] == "switch"
    assert grade_situation(case, "start").correct and grade_situation(case, "switch").correct
