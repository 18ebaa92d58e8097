"""'Flere skal med' (2017) beside Ungeløftet: every 2017 and router scenario walked to its exact outcome (engine and
chat, forward and back), every outcome reached, the texts complete, and the two programmes never mixed."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment
from bot.chat.texts import Texts, to_plain
from flows.catalogue import Catalogue
from flows.model import Outcome

from tests.conftest import ROOT
from tests.scenarios import SCENARIO_DIR, chat_walk, load_scenarios, walk
from tests.test_scenarios import _observed

FSM = "flere_skal_med_2017"
SCENARIOS = load_scenarios(SCENARIO_DIR / FSM) + load_scenarios(SCENARIO_DIR / "router")
SEEDS = ROOT.parent / "shared" / "seeds"
NAMES_2017 = {
    "gross": "Flere Skal Med – bruttomålgruppe",
    "gr1": "Flere Skal Med Gr. 1 – Vis. til indsatsgruppen",
    "gr2": "Flere Skal Med Gr. 2 – Indkaldes til rehab-team",
    "gr3": "Flere Skal Med Gr. 3 – Socialforvalt. Underrettes",
    "postponed": "Flere Skal Med Udskudt visitation",
    "job_broker": "Flere Skal Med Personlig jobformidler tildeles",
}


def _fsm_flows(catalogue: Catalogue) -> list[Any]:
    return list(catalogue.rulebooks[FSM].flows.values()) + list(catalogue.router.flows.values())


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_engine_reaches_the_exact_outcome(scenario: dict[str, Any], catalogue: Catalogue,
                                          catalogue_texts: Texts) -> None:
    position, _ = walk(catalogue, catalogue_texts, scenario)
    assert position.outcome is not None, f"still asking {position.question and position.question.id}"
    assert _observed(position.outcome) == scenario["expect"]
    assert catalogue.flow(scenario["flow"]).walk(position.answers, scenario["today"]).outcome == position.outcome


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_chat_walks_forward_and_back(scenario: dict[str, Any], both: Conversation) -> None:
    today: date = scenario["today"]
    turn, decision = chat_walk(both, scenario, today)
    state = turn.state
    expect = scenario["expect"]
    if expect["use_flow"]:
        assert [s.flow for s in state.segments][:2] == [scenario["flow"], expect["use_flow"]]
    else:
        assert decision is not None and decision.outcome["result"] == expect["result"]
        assert [(a["do"], a["marker"], a["date"]) for a in decision.outcome["actions"]] == [
            (a["do"], a["marker"], a["date"]) for a in expect["actions"]]
        record = both.decision_record(turn)
        programme = both.rulebook.flow(scenario["flow"]).programme
        assert record is not None and record[:3] == (programme.id, scenario["flow"], programme.edition)
    for _ in range(len(scenario["answers"]) + 4):
        state = both.back(state, today).state
    assert state.segments == [Segment(scenario["flow"])]


def test_every_outcome_of_every_2017_flow_and_the_router_is_reached(catalogue: Catalogue) -> None:
    reached = {(s["flow"], s["expect"]["outcome"]) for s in SCENARIOS}
    every = {(flow.id, node) for flow in _fsm_flows(catalogue) for node in flow.spec.outcomes}
    assert every - reached == set()
    assert reached - every == set()


def test_each_gap_is_asked_with_its_own_text(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    gaps = {node.gap for flow in _fsm_flows(catalogue) for node in flow.spec.outcomes.values() if node.gap}
    assert {f"G-{n}" for n in (1, 2, 3, 4, 6, 8, 9, 11, 12, 13, 14, 15, 16)} | {"other"} == gaps
    seen = set()
    for scenario in SCENARIOS:
        if scenario["expect"]["result"] != "ask_star":
            continue
        flow = catalogue.flow(scenario["flow"])
        position, _ = walk(catalogue, catalogue_texts, scenario)
        text = catalogue_texts.outcome(flow, position.outcome, position.answers)
        gap = catalogue_texts.gap(position.outcome.gap, flow.programme.id)
        assert str(gap["says"]) in text and str(gap["silent"]) in text
        seen.add(str(gap["says"]))
    # No two gaps share a text ('other' has one per programme: the router's and the 2017 note's).
    assert len(seen) == len({(flow.programme.id, node.gap) for flow in _fsm_flows(catalogue)
                             for node in flow.spec.outcomes.values() if node.gap})
    for number in range(1, 21):  # the gaps named only in warnings and help have texts too
        assert all(catalogue_texts.gap(f"G-{number}", FSM).values())


def test_the_assumed_end_date_is_always_flagged(catalogue: Catalogue) -> None:
    for flow in catalogue.rulebooks[FSM].flows.values():
        for node in flow.spec.outcomes.values():
            ends = any(rule.do == "end" for rule in node.actions)
            assert ends == any(rule.code == "assumed_date_rule" for rule in node.warnings), (flow.id, node.id)
            if any(rule.do == "end" and rule.marker.key != "gr1" for rule in node.actions):
                assert any(rule.code == "implied_end" for rule in node.warnings), (flow.id, node.id)


def test_backdating_is_never_a_step(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    for scenario in SCENARIOS:
        if "backdated" in scenario["expect"]["warnings"]:
            assert scenario["expect"]["actions"] == [] and scenario["expect"]["gap"] == "G-4"
            position, _ = walk(catalogue, catalogue_texts, scenario)
            text = to_plain(catalogue_texts.outcome(catalogue.flow(scenario["flow"]), position.outcome,
                                                    position.answers))
            assert "ikke kan tilbagedateres" in text


def test_group_change_guard_one_rejects_before_anything_else(catalogue: Catalogue, both: Conversation) -> None:
    today = date(2018, 3, 12)
    state = DialogueState([Segment("fsm2017_group_change", {
        "current_group": "gr1", "start_group": "gr1", "new_group": "gr3", "current_start_date": "2018-03-12"})])
    turn = both.handle(state, "1.3.2018", today)  # before the current start, and before today: guard 1 wins
    assert turn.replies[0].kind == "error" and "før den nuværende markering startede" in turn.replies[0].text
    assert turn.decision is None and both.position(turn.state, today).question.id == "decision_date"


def test_marker_names_are_the_notes_character_for_character(catalogue: Catalogue) -> None:
    assert catalogue.rulebooks[FSM].programme.markers == NAMES_2017
    for name in NAMES_2017.values():
        assert "\u2014" not in name and name.count("-") == ("rehab-team" in name)
    if SEEDS.is_dir():
        note = next(SEEDS.glob("002_*.txt")).read_text(encoding="utf-8")
        for name in NAMES_2017.values():
            assert f"- {name}\n" in note


def test_every_2017_source_is_a_section_of_the_note(catalogue: Catalogue) -> None:
    book = catalogue.rulebooks[FSM]
    for flow in book.flows.values():
        for node in list(flow.spec.questions.values()) + list(flow.spec.outcomes.values()):
            assert node.source.startswith("002: "), (flow.id, node.id)
    for flow in catalogue.rulebooks["ungeloeftet"].flows.values():
        for node in list(flow.spec.questions.values()) + list(flow.spec.outcomes.values()):
            assert node.source.startswith("000: "), (flow.id, node.id)
    if SEEDS.is_dir():
        flat = " ".join(next(SEEDS.glob("002_*.txt")).read_text(encoding="utf-8").split())
        for section in book.programme.sections:
            assert section == "Kontakt" or section.replace("'", "'") in flat, section


def _rendered(catalogue: Catalogue, texts: Texts, flow: Any) -> list[str]:
    answers = {"current_group": "gr1", "decision": "group1", "new_group": "gr3", "current_start_date": "2018-03-01",
               "current_marker": "ips", "leave_start_date": "2026-01-12", "other_marker": "fusm",
               "other_marker_start_date": "2025-09-01", "wrong_marker": "ips", "wrong_start_date": "2025-12-01"}
    out = []
    for question in flow.spec.questions.values():
        out.append(texts.question(flow, question, answers) + texts.help(flow, question, answers))
        if question.kind != "date":
            out.extend(texts.option_labels(flow, question).values())
    for node in flow.spec.outcomes.values():
        if node.actions:
            continue  # rendered with real actions from the scenarios
        outcome = Outcome(flow=flow.id, node=node.id, result=node.result, actions=(), effect=node.effect,
                          warnings=tuple(rule.code for rule in node.warnings), sources=(node.source,),
                          use_flow=node.use_flow, gap=node.gap)
        out.append(texts.outcome(flow, outcome, answers))
    return out


def test_no_marker_name_crosses_between_programmes(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    ungeloeftet = catalogue.rulebooks["ungeloeftet"].programme.markers.values()
    for flow in catalogue.rulebooks[FSM].flows.values():
        for text in _rendered(catalogue, catalogue_texts, flow):
            assert not any(name in text for name in ungeloeftet), (flow.id, text)
            assert "Flere unge skal med" not in text and "Ungeløftet –" not in text, (flow.id, text)
    for flow in catalogue.rulebooks["ungeloeftet"].flows.values():
        for text in _rendered(catalogue, catalogue_texts, flow):
            assert not re.search(r"Flere Skal Med(?! unge)", text), (flow.id, text)
            assert not any(name in text for name in NAMES_2017.values()), (flow.id, text)
    for scenarios, others in ((SCENARIOS, ungeloeftet), (load_scenarios(), NAMES_2017.values())):
        for scenario in scenarios:  # outcomes with their real actions, each naming only its own markers
            flow = catalogue.flow(scenario["flow"])
            position, _ = walk(catalogue, catalogue_texts, scenario)
            text = catalogue_texts.outcome(flow, position.outcome, position.answers)
            assert not any(name in text for name in others), (flow.id, text)
            assert all(action.marker in flow.programme.markers.values() for action in position.outcome.actions)


def test_no_flow_hands_over_to_the_other_programme(catalogue: Catalogue) -> None:
    for name, book in catalogue.rulebooks.items():
        for flow in book.flows.values():
            for node in flow.spec.outcomes.values():
                assert node.use_flow is None or node.use_flow in book.flows, (name, flow.id, node.id)


def test_every_2017_question_and_outcome_names_the_programme(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    for flow in catalogue.rulebooks[FSM].flows.values():
        for question in flow.spec.questions.values():
            assert "'Flere skal med' (2017)" in catalogue_texts.question(flow, question, {"decision": "group1"})
        without_actions = [node for node in flow.spec.outcomes.values() if not node.actions]
        for text in _rendered(catalogue, catalogue_texts, flow)[len(_rendered(catalogue, catalogue_texts, flow))
                                                                 - len(without_actions):]:
            assert "'Flere skal med' (2017)" in text and "16-10-2017" in text



WITH_GAPS = [s for s in load_scenarios() + SCENARIOS if s["expect"]["gap"]]  # Ungeløftet's, 2017's and the router's


@pytest.mark.parametrize("scenario", WITH_GAPS, ids=[s["id"] for s in WITH_GAPS])
def test_a_question_for_star_about_a_gap_is_plain_text(scenario: dict[str, Any], both: Conversation,
                                                       catalogue_texts: Texts) -> None:
    """The e-mail to STAR is plain text: the gap's texts go in without their HTML (the 2017 gaps' questions name
    the programme in italics), so STAR and the caseworker reading the draft see no tags."""
    turn, _ = chat_walk(both, scenario, scenario["today"])
    subject, body = both.star_draft(turn.state, "Hvad gør vi?", scenario["today"])
    assert not re.search(r"</?[a-z][^>]*>|&(lt|gt|amp|#\d+);", subject + body), body
    gap = catalogue_texts.gap(scenario["expect"]["gap"], both.rulebook.flow(scenario["flow"]).programme.id)
    assert to_plain(gap["question"]).splitlines()[-1] in body
