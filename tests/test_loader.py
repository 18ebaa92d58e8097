"""The loader refuses a broken flow with an error that names the file and the node."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from flows.engine import Rulebook
from flows.errors import FlowError
from flows.loader import FLOWS_DIR, TEMPLATES_DIR

GOOD = FLOWS_DIR / "ungeloeftet"


@pytest.fixture
def programme_copy(tmp_path: Path) -> Path:
    """A copy of the real Ungeløftet flows (with the real templates) to break one thing at a time."""
    target = tmp_path / "ungeloeftet"
    shutil.copytree(GOOD, target)
    return target


def _break(folder: Path, flow: str, old: str, new: str) -> Path:
    path = folder / f"{flow}.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _error(folder: Path, templates: Path = TEMPLATES_DIR) -> str:
    with pytest.raises(FlowError) as caught:
        Rulebook(folder, templates)
    return str(caught.value)


def test_the_copy_loads(programme_copy: Path) -> None:
    assert "switch" in Rulebook(programme_copy).flows


def test_unknown_target(programme_copy: Path) -> None:
    path = _break(programme_copy, "switch", "next: psychiatry_course", "next: psychiatric_course")
    message = _error(programme_copy)
    assert str(path) in message and "node 'current_marker'" in message and "psychiatric_course" in message


def test_bare_yaml_boolean(programme_copy: Path) -> None:
    path = _break(programme_copy, "start", 'next: {"yes": meets_criterion, "no": not_eligible_age}',
                  "next: {yes: meets_criterion, no: not_eligible_age}")
    message = _error(programme_copy)
    assert str(path) in message and "bare 'yes'" in message and "line" in message


def test_missing_source(programme_copy: Path) -> None:
    _break(programme_copy, "leave", '    source: "000: Den unge går på barsel"\n    next: current_start_date',
           "    next: current_start_date")
    message = _error(programme_copy)
    assert "leave.yaml" in message and "node 'current_marker'" in message and "source" in message


def test_source_outside_the_guide(programme_copy: Path) -> None:
    _break(programme_copy, "move_in", 'source: "000: En ung flytter til kommunen"\n    next: {"yes": psychiatry_course',
           'source: "000: Et afsnit der ikke findes"\n    next: {"yes": psychiatry_course')
    assert "node 'still_benefits'" in _error(programme_copy)


def test_missing_template(programme_copy: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "ungeloeftet" / "error" / "wrong_person.j2").unlink()
    message = _error(programme_copy, templates)
    assert "error.yaml" in message and "node 'wrong_person'" in message and "wrong_person.j2" in message


def test_unknown_use_flow_target(programme_copy: Path) -> None:
    _break(programme_copy, "start", "use_flow: switch", "use_flow: swicth")
    message = _error(programme_copy)
    assert "start.yaml" in message and "node 'to_switch'" in message


def test_unknown_answer_in_condition(programme_copy: Path) -> None:
    _break(programme_copy, "switch", "when: {current_marker: ips, psychiatry_course", "when: {current_marker: IPS, psychiatry_course")
    assert "node 'psychiatry_course'" in _error(programme_copy)


def test_unreachable_node(programme_copy: Path) -> None:
    path = _break(programme_copy, "move_out", '"no": job_or_education_within_3_months', '"no": leaves_group')
    message = _error(programme_copy)
    # The first unreachable node by name is the one named.
    assert message == f"{path}: node 'counts_while_in_job': cannot be reached from start 'in_job_or_education'"


def test_unknown_marker(programme_copy: Path) -> None:
    _break(programme_copy, "start", '{"yes": ips, "no": fusm}', '{"yes": ips, "no": flere}')
    assert "node 'registered'" in _error(programme_copy)


def test_register_without_actions(programme_copy: Path) -> None:
    _break(programme_copy, "course_ends", "result: ask_star\n    gap: X-13", "result: register\n    gap: X-13")
    assert "node 'no_rule_in_guide'" in _error(programme_copy)


def test_unknown_key(programme_copy: Path) -> None:
    _break(programme_copy, "error", "kind: yes_no\n    source", "kind: yes_no\n    sauce: x\n    source")
    assert "unknown key(s) sauce" in _error(programme_copy)


def test_edition_must_match_the_programme(programme_copy: Path) -> None:
    _break(programme_copy, "leave", 'edition: "ungeloeftet-2025.2"', 'edition: "ungeloeftet-2024.1"')
    assert "leave.yaml" in _error(programme_copy)


def test_yaml_syntax_error_names_the_file(programme_copy: Path) -> None:
    (programme_copy / "switch.yaml").write_text("flow: [unclosed\n", encoding="utf-8")
    assert "switch.yaml" in _error(programme_copy)


PROGRAMME_BROKEN = [
    ("entry: situation\n", "", "top level: programme file lacks entry"),
    ("entry: situation", "entry: situations", "entry flow 'situations' has no file"),
    ("markers:\n  ips:", "markers: [ips]\nmarkerz:\n  ips:", "top level: programme file has unknown key(s) markerz"),
    ('  ips: "Ungeløftet – IPS"', '  ips: ""', "top level: marker name must be a non-empty string, not ''"),
    ('  ips: "Ungeløftet – IPS"', '  "": "Ungeløftet – IPS"', "top level: marker key must be a non-empty string, not ''"),
    ("sections:\n  - Formål", "sections:\n  - 7", "top level: sections must be a list of strings"),
    ('edition: "ungeloeftet-2025.2"', 'edition: ""', "top level: edition must be a non-empty string, not ''"),
    ("programme: ungeloeftet", 'programme: ""', "top level: programme must be a non-empty string, not ''"),
    ("entry: situation", 'entry: ""', "top level: entry must be a non-empty string, not ''"),
    ("title:", 'title: ""\nold_title:', "top level: programme file has unknown key(s) old_title"),
    ("guide:", 'guide: ""\nold_guide:', "top level: programme file has unknown key(s) old_guide"),
]


@pytest.mark.parametrize("old, new, words", PROGRAMME_BROKEN,
                         ids=[f"programme-{i}" for i in range(len(PROGRAMME_BROKEN))])
def test_every_programme_error_names_the_file(programme_copy: Path, old: str, new: str, words: str) -> None:
    path = _break(programme_copy, "programme", old, new)
    message = _error(programme_copy)
    assert message.startswith(str(path)) and message.endswith(words), message


def test_markers_must_be_a_mapping(programme_copy: Path) -> None:
    path = programme_copy / "programme.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("markers:"), text.index("# Section headings")
    path.write_text(text[:start] + "markers: [ips, fusm]\n" + text[end:], encoding="utf-8")
    assert "markers must be a mapping, not list" in _error(programme_copy)


@pytest.mark.parametrize("flow, old, new, words", [
    ("switch", "outcomes:\n", "outcomes:\n  psychiatry_course: {result: no_change, effect: null, source: \"000: Formål\"}\n",
     "ids used for both a question and an outcome: psychiatry_course"),
    ("switch", "carry: {wrong_marker: current_marker,", "carry: {the_marker: current_marker,",
     "carry names 'the_marker', which is not a question of flow 'error'"),
    ("switch", 'wrong_person: {value: "no"}', 'wrong_person: {value: "maybe"}',
     "carry gives 'wrong_person' ['maybe'], which 'error' does not take as answers to it"),
    ("switch", "wrong_start_date: current_start_date", 'wrong_start_date: {value: "2025-10-12"}',
     "carry gives 'wrong_start_date' ['2025-10-12'], which 'error' does not take as answers to it"),
], ids=["id-clash", "carry", "carry-value", "carry-value-to-a-date"])
def test_links_between_nodes_and_flows(programme_copy: Path, flow: str, old: str, new: str, words: str) -> None:
    _break(programme_copy, flow, old, new)
    assert words in _error(programme_copy)


@pytest.mark.parametrize("kind", ["questions", "outcomes"])
def test_questions_and_outcomes_are_mappings(programme_copy: Path, kind: str) -> None:
    path = programme_copy / "course_ends.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("outcomes:")[0] + f"{kind}: [a, b]\n" + ("outcomes: {}\n" if kind == "questions" else ""),
                    encoding="utf-8")
    assert f"{kind} must be a mapping" in _error(programme_copy)


def test_missing_gap_template(programme_copy: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "ungeloeftet" / "gaps" / "X-13.j2").unlink()
    message = _error(programme_copy, templates)
    assert "node 'no_rule_in_guide'" in message and "gap 'X-13' has no template" in message
    assert message.endswith(f"has no template in {templates / 'ungeloeftet' / 'gaps'}")


def test_an_end_before_the_start_without_a_guard_is_a_flow_error(programme_copy: Path) -> None:
    _break(programme_copy, "switch", "    reject:\n      - when: {new_start_date: {before: current_start_date}}\n"
           "        message: before_current_start\n", "")
    flow = Rulebook(programme_copy).flow("switch")
    answers = {"current_marker": "fusm", "psychiatry_course": "yes", "current_start_date": "2026-01-10",
               "new_start_date": "2026-01-09"}
    with pytest.raises(FlowError, match="node 'switched': end date before the marker's start was not caught"):
        flow.walk(answers, date(2026, 1, 15))


def test_a_freshly_loaded_rulebook_reaches_every_scenarios_outcome() -> None:
    """The session's rulebook is built once; this builds another, so every loader and engine step is checked against
    the exact outcomes (under mutation testing too, where the shared one was built before the mutant)."""
    from bot.chat.texts import Texts
    from tests.scenarios import load_scenarios, walk
    from tests.test_scenarios import _observed

    rulebook = Rulebook(GOOD)
    texts = Texts(rulebook)
    assert rulebook.edition == "ungeloeftet-2025.2" and rulebook.programme.entry == "situation"
    for scenario in load_scenarios():
        flow = rulebook.flow(scenario["flow"])
        assert (flow.id, flow.title, flow.machine.initial) == (scenario["flow"], flow.spec.title, flow.spec.start)
        assert flow.machine.models == [] and not hasattr(flow.machine, "to_" + flow.spec.start)
        position, _ = walk(rulebook, texts, scenario)
        assert _observed(position.outcome) == scenario["expect"], scenario["id"]


def test_load_rulebook_loads_once_and_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from flows import engine

    monkeypatch.setattr(engine, "_DEFAULT", {})
    first = engine.load_rulebook()
    assert engine.load_rulebook() is first and engine._DEFAULT == {"ungeloeftet": first}
    assert first.programme.id == "ungeloeftet" and set(first.flows) >= {"situation", "switch", "error"}


def test_unknown_question_and_unknown_flow_are_named(programme_copy: Path) -> None:
    flow = Rulebook(programme_copy).flow("switch")
    assert flow.question("current_marker").id == "current_marker" and flow.question("switched") is None
    with pytest.raises(KeyError, match="flow 'switch' has no question 'nope'"):
        flow.change({}, "nope", "x", date(2026, 1, 15))
    with pytest.raises(KeyError, match="unknown flow 'nowhere'; known: course_ends, early_pension"):
        Rulebook(programme_copy).flow("nowhere")


@pytest.mark.parametrize("field", ["title", "guide"])
def test_programme_title_and_guide_must_be_text(programme_copy: Path, field: str) -> None:
    path = programme_copy / "programme.yaml"
    lines = [f'{field}: ""' if line.startswith(f"{field}:") else line
             for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _error(programme_copy).endswith(f"top level: {field} must be a non-empty string, not ''")


def test_a_programme_keeps_its_facts() -> None:
    from flows.loader import load_programme

    programme = load_programme(GOOD)
    assert (programme.id, programme.entry, programme.edition) == ("ungeloeftet", "situation", "ungeloeftet-2025.2")
    assert programme.title.startswith("Ungeløftet") and programme.guide.startswith("STAR: Trin-for-trin-vejledning")
