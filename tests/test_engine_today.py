"""Engine features any rulebook may use: date answers compared with the dialogue's day, and outcome warnings that
hold always or under conditions (used first by 'Flere skal med' 2017, rulebook-2017.md §5 and §11)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows.engine import Rulebook
from flows.errors import AnswerError, FlowError

TODAY = date(2026, 1, 15)

PROGRAMME = """\
programme: demo
title: Demo
edition: demo-1
guide: A guide
entry: act
markers: {m: "Marker M"}
sections: [Intro]
"""

FLOW = """\
flow: act
title: Act
edition: demo-1
source: "000: Intro"
start: started
questions:
  started:
    kind: date
    source: "000: Intro"
    reject:
      - when: {started: {after: today}}
        message: started_later
    next: action_date
  action_date:
    kind: date
    suggest_today: true
    source: "000: Intro"
    reject:
      - when: {action_date: {before: started}}
        message: before_start
    next:
      - when: {action_date: {after: today}}
        goto: not_yet
      - when: {action_date: {before: today}}
        goto: late
      - goto: registered
outcomes:
  not_yet: {result: no_marker, effect: null, source: "000: Intro"}
  late:
    result: ask_star
    gap: G-1
    effect: null
    source: "000: Intro"
    warnings: [{far_past: {action_date: {before: today}}}]
  registered:
    result: register
    effect: unchanged
    source: "000: Intro"
    warnings: [far_future, {end_equals_start: {started: {same_as: today}}}]
    actions:
      - {do: create, marker: m, date: {same_day: action_date}}
"""


@pytest.fixture
def demo(tmp_path: Path) -> tuple[Path, Path]:
    """A one-flow programme with empty templates, in a temporary folder."""
    folder, templates = tmp_path / "demo", tmp_path / "templates"
    folder.mkdir()
    (folder / "programme.yaml").write_text(PROGRAMME, encoding="utf-8")
    (folder / "act.yaml").write_text(FLOW, encoding="utf-8")
    (templates / "demo" / "act").mkdir(parents=True)
    (templates / "demo" / "gaps").mkdir(parents=True)
    for node in ("started", "action_date", "not_yet", "late", "registered"):
        (templates / "demo" / "act" / f"{node}.j2").write_text("", encoding="utf-8")
    (templates / "demo" / "gaps" / "G-1.j2").write_text("", encoding="utf-8")
    return folder, templates


def _walk(demo: tuple[Path, Path], action: str, started: str = "2026-01-01", today: date = TODAY):  # type: ignore[no-untyped-def]
    flow = Rulebook(*demo).flow("act")
    return flow.walk({"started": started, "action_date": action}, today)


def test_a_date_is_compared_with_the_dialogues_day(demo: tuple[Path, Path]) -> None:
    assert _walk(demo, "2026-01-16").outcome.node == "not_yet"
    assert _walk(demo, "2026-01-14").outcome.node == "late"
    assert _walk(demo, "2026-01-15").outcome.node == "registered"
    # The same answers on another day lead elsewhere: 'today' is the walk's day, not the machine's.
    assert _walk(demo, "2026-01-15", today=date(2026, 1, 16)).outcome.node == "late"


def test_warnings_always_and_under_conditions(demo: tuple[Path, Path]) -> None:
    assert _walk(demo, "2026-01-14").outcome.warnings == ("far_past",)
    assert _walk(demo, "2026-01-15").outcome.warnings == ("far_future",)
    # Listed in the shared order, whatever the order in the file.
    assert _walk(demo, "2026-01-15", started="2026-01-15").outcome.warnings == ("end_equals_start", "far_future")


def test_guards_still_run_before_branches(demo: tuple[Path, Path]) -> None:
    flow = Rulebook(*demo).flow("act")
    with pytest.raises(AnswerError):
        flow.step(flow.walk({"started": "2026-01-10"}, TODAY), "2026-01-09", TODAY)


def test_a_reject_rule_compares_with_the_dialogues_day(demo: tuple[Path, Path]) -> None:
    flow = Rulebook(*demo).flow("act")
    rejected = flow.walk({"started": "2026-01-16"}, TODAY).rejected
    assert rejected is not None and rejected.params == {"message": "started_later", "question": "started"}
    assert flow.walk({"started": "2026-01-16"}, date(2026, 1, 16)).question.id == "action_date"
    with pytest.raises(AnswerError) as caught:
        flow.step(flow.walk({}, TODAY), "2026-01-16", TODAY)
    assert (caught.value.code, caught.value.params["message"]) == ("guard", "started_later")
    assert flow.step(flow.walk({}, TODAY), "2026-01-16", date(2026, 1, 16)).question.id == "action_date"
    # Without a day (a check of the answers alone) a rule on today never holds.
    flow.check(flow.spec.questions["started"], "2026-01-16", {})


def test_a_finished_flow_takes_no_step(demo: tuple[Path, Path]) -> None:
    flow = Rulebook(*demo).flow("act")
    with pytest.raises(ValueError, match="^the flow has already reached an outcome$"):
        flow.step(_walk(demo, "2026-01-15"), "2026-01-15", TODAY)


def test_unknown_warning_and_bad_today_comparison_are_refused(demo: tuple[Path, Path]) -> None:
    path = demo[0] / "act.yaml"
    path.write_text(FLOW.replace("[far_future,", "[someday,"), encoding="utf-8")
    with pytest.raises(FlowError, match="warning 'someday'"):
        Rulebook(*demo)
    path.write_text(FLOW.replace("{after: today}", "{after: tomorrow}"), encoding="utf-8")
    with pytest.raises(FlowError, match="tomorrow"):
        Rulebook(*demo)


def test_typed_rules_pick_an_answer_before_the_labels_and_are_checked() -> None:
    from flows.answers import parse_answer
    from flows.nodes import Checker, question_node

    raw = {"kind": "choice", "options": ["a", "b"], "source": "000: Intro", "next": "a",
           "typed": [{"starts": "Flere Skal Med", "without": "unge", "answer": "b"}]}
    question = question_node(Checker(Path("x.yaml")), "q", raw, {"q": raw}, {"a"})
    assert parse_answer(question, "Flere Skal Med – Gr. 1", TODAY, {"a": "A", "b": "B"}) == "b"
    assert parse_answer(question, "1", TODAY, {"a": "A", "b": "B"}) == "a"
    with pytest.raises(AnswerError):
        parse_answer(question, "Flere Skal Med unge", TODAY, {"a": "A", "b": "B"})
    for bad in ([{"starts": "x", "answer": "c"}], [{"answer": "a"}], "x"):
        with pytest.raises(FlowError):
            question_node(Checker(Path("x.yaml")), "q", {**raw, "typed": bad}, {"q": raw}, {"a"})
