"""Completeness: every outcome reached by a scenario, every node reachable, every node's texts render."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.main import COMMANDS
from bot.chat.texts import Texts
from flows.engine import Rulebook
from flows.model import Outcome

from tests.conftest import ROOT
from tests.scenarios import load_scenarios, walk

SEEDS = ROOT.parent / "shared" / "seeds"


def test_every_outcome_of_every_flow_is_reached_by_a_scenario(rulebook: Rulebook) -> None:
    reached = {(s["flow"], s["expect"]["outcome"]) for s in load_scenarios()}
    every = {(flow.id, node) for flow in rulebook.flows.values() for node in flow.spec.outcomes}
    assert every - reached == set()
    assert reached - every == set()


def test_every_flow_has_a_scenario_file(rulebook: Rulebook) -> None:
    files = {path.stem for path in (ROOT / "tests" / "scenarios").glob("*.yaml")}
    assert files == set(rulebook.flows)


def test_every_node_is_reachable(rulebook: Rulebook) -> None:
    for flow in rulebook.flows.values():
        seen, todo = set(), [flow.spec.start]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                question = flow.spec.questions.get(node)
                todo.extend(branch.target for branch in question.branches) if question else None
        assert seen == set(flow.nodes), flow.id


def test_every_question_template_renders(rulebook: Rulebook, texts: Texts) -> None:
    answers = {"current_marker": "ips", "current_start_date": "2026-01-10", "leave_start_date": "2026-01-12",
               "other_marker": "fusm", "other_marker_start_date": "2025-09-01", "wrong_marker": "ips",
               "wrong_start_date": "2025-12-01"}
    for flow in rulebook.flows.values():
        for question in flow.spec.questions.values():
            assert texts.question(flow, question, answers).strip()
            assert "Kilde" in texts.help(flow, question, answers)
            if question.kind != "date":
                labels = texts.option_labels(flow, question)
                assert set(labels) == set(question.options) and all(labels.values())
                assert len(set(labels.values())) == len(labels), f"{flow.id}.{question.id}: labels must differ"
            for guard in question.guards:
                assert texts._required(flow, question.id, guard.message, answers)


def test_every_outcome_template_renders(rulebook: Rulebook, texts: Texts) -> None:
    for flow in rulebook.flows.values():
        for node in flow.spec.outcomes.values():
            outcome = Outcome(flow=flow.id, node=node.id, result=node.result, actions=(), effect=node.effect,
                              warnings=("end_equals_start", "far_past", "far_future"), sources=(node.source,),
                              use_flow=node.use_flow, gap=node.gap)
            answers = {"leave_start_date": "2026-01-10", "current_start_date": "2026-01-12"}
            if node.actions:
                continue  # rendered with real actions by the scenario tests below
            assert "Kilde" in texts.outcome(flow, outcome, answers)


def test_every_outcome_with_actions_renders_its_dates(rulebook: Rulebook, texts: Texts) -> None:
    for scenario in load_scenarios():
        flow = rulebook.flow(scenario["flow"])
        position, _ = walk(rulebook, texts, scenario)
        message = texts.outcome(flow, position.outcome, position.answers)
        for action in position.outcome.actions:
            assert action.marker in message
            assert f"{action.date.day}. " in message


def test_every_gap_template_has_all_parts(rulebook: Rulebook, texts: Texts) -> None:
    gaps = {node.gap for flow in rulebook.flows.values() for node in flow.spec.outcomes.values() if node.gap}
    for gap in gaps:
        assert all(texts.gap(gap).values())


def test_every_cli_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"ungebot {command}" in readme, command


def guide_text(seeds: Path = SEEDS) -> str:
    """The guide (seeds/000) beside this checkout. Missing in CI is a failure (CI lays shared/ beside its clone, so
    the citations are always checked there); missing on a developer's machine skips."""
    files = sorted(seeds.glob("000_*.txt")) if seeds.is_dir() else []
    if not files:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{seeds} has no 000_*.txt: CI must check the citations against the guide")
        pytest.skip(f"{seeds} is not beside this checkout")
    return files[0].read_text(encoding="utf-8")


def test_missing_seeds_fail_in_ci_and_skip_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must check the citations"):
        guide_text(tmp_path / "nowhere")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        guide_text(tmp_path / "nowhere")


def test_every_cited_section_is_in_the_guide(rulebook: Rulebook) -> None:
    guide = guide_text()
    flat = " ".join(guide.split())
    for section in rulebook.programme.sections:
        assert section in flat, section
    for flow in rulebook.flows.values():
        for node in list(flow.spec.questions.values()) + list(flow.spec.outcomes.values()):
            box = node.source.partition(" › ")[2]
            if box:
                assert " ".join(box.split()) in flat.replace("\n", " "), (flow.id, node.id, box)


def test_marker_names_are_the_guides(rulebook: Rulebook) -> None:
    assert rulebook.programme.markers == {"ips": "Ungeløftet – IPS", "fusm": "Ungeløftet – Flere unge skal med"}
    guide = guide_text()
    for name in rulebook.programme.markers.values():
        assert name in guide


def _outcome_texts(rulebook: Rulebook, texts: Texts) -> dict[tuple[str, str], list[str]]:
    """Every scenario's outcome message (plain text), by (flow, outcome node)."""
    from bot.chat.texts import to_plain

    found: dict[tuple[str, str], list[str]] = {}
    for scenario in load_scenarios():
        flow = rulebook.flow(scenario["flow"])
        position, _ = walk(rulebook, texts, scenario)
        message = to_plain(texts.outcome(flow, position.outcome, position.answers))
        found.setdefault((flow.id, position.outcome.node), []).append(message)
    return found


def test_outcome_texts_say_what_their_flow_says(rulebook: Rulebook, texts: Texts) -> None:
    found = _outcome_texts(rulebook, texts)
    # A gap's text is about its own gap: course_ends is not early retirement pension.
    assert all("førtidspension" not in text.lower() for text in found[("course_ends", "no_rule_in_guide")])
    # The router promises the guide's questions only for a flow that asks some.
    for flow in rulebook.flows.values():
        for node in flow.spec.outcomes.values():
            if node.use_flow and not rulebook.flow(node.use_flow).spec.questions:
                assert all("spørgsmålene" not in text for text in found[(flow.id, node.id)]), node.id
    # A switch keeps the young person in the effort group: nothing about counting again or from a start date.
    for text in found[("switch", "switched")]:
        assert "fortsat i jeres indsatsgruppe" in text and "igen" not in text and "fra startdatoen" not in text
    # A correct marker on the same young person: the young person counts, and no text says otherwise.
    for text in found[("error", "error_corrected")]:
        assert "med fra den rigtige markørs startdato" in text and "unge tæller ikke" not in text and "unge indgår ikke" not in text
    for text in found[("error", "error_corrected_other_person")]:
        assert "ved en fejl, indgår ikke" in text and "rigtige unge" in text
    # The two wordings of the three-month window are named on every branch after that question.
    for node in ("counts_while_in_job", "leaves_group", "leaves_unless_within_3_months"):
        assert all("minimum 3 måneder" in t and "inden for tre måneder" in t for t in found[("move_out", node)]), node
    assert any("sluttede 14. januar 2026" in text for text in found[("move_out", "leaves_group")])
    assert any("STAR læser den afsluttede markør som en fejlregistrering" in text.replace("\n", " ")
               or "læser STAR den afsluttede markør som en fejlregistrering" in text
               for text in found[("move_in", "registered_replacing")])
