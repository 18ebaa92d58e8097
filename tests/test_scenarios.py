"""Every scenario file: walked forward to its exact outcome (engine and chat), then back to the start."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.chat.conversation import Conversation
from bot.chat.dialogue import Segment
from flows.engine import Rulebook

from tests.scenarios import chat_walk, load_scenarios, walk

SCENARIOS = load_scenarios()


def _observed(outcome: Any) -> dict[str, Any]:
    data = outcome.to_dict()
    return {
        "result": data["result"], "outcome": data["outcome"], "effect": data["effect"], "use_flow": data["use_flow"],
        "gap": data["gap"], "deadline": data["deadline"], "warnings": data["warnings"],
        "actions": [{k: a[k] for k in ("do", "marker", "date", "other_person")} for a in data["actions"]],
    }


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_engine_reaches_the_exact_outcome(scenario: dict[str, Any], rulebook: Rulebook, texts: Any) -> None:
    flow = rulebook.flow(scenario["flow"])
    today: date = scenario["today"]
    position, _ = walk(rulebook, texts, scenario)
    assert position.outcome is not None, f"still asking {position.question and position.question.id}"
    assert _observed(position.outcome) == scenario["expect"]
    if scenario["carry"] is not None:
        assert dict(position.outcome.carry) == scenario["carry"]
    # Restoring is replaying: the same answers walked from scratch give the same outcome.
    assert flow.walk(position.answers, today).outcome == position.outcome


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["id"] for s in SCENARIOS])
def test_chat_walks_forward_and_back(scenario: dict[str, Any], conversation: Conversation) -> None:
    today: date = scenario["today"]
    if not scenario["answers"]:
        # A flow without questions is only ever entered from the router; the decision is made on arrival.
        turn = conversation.accept(conversation.new_state(), scenario["flow"], today)
        assert turn.decision is not None and turn.decision.flow == scenario["flow"]
        assert turn.decision.outcome["result"] == scenario["expect"]["result"]
        return
    asked = [question_id for question_id, _ in scenario["answers"]]
    turn, decision = chat_walk(conversation, scenario, today)
    state = turn.state
    expect = scenario["expect"]
    if expect["use_flow"]:
        assert [s.flow for s in state.segments] == [scenario["flow"], expect["use_flow"]]
    else:
        assert decision is not None and decision.flow == scenario["flow"]
        assert decision.outcome["result"] == expect["result"]
        assert [(a["do"], a["marker"], a["date"]) for a in decision.outcome["actions"]] == [
            (a["do"], a["marker"], a["date"]) for a in expect["actions"]]
    # Back, one answer at a time, to the very first question.
    revisited = []
    for _ in range(len(scenario["answers"]) + len(state.segments[-1].answers) + 2):
        turn = conversation.back(state, today)
        state = turn.state
        if len(state.segments) == 1:
            revisited.append(conversation.position(state, today).question.id)
        if any("allerede ved det første" in reply.text for reply in turn.replies):
            break
    assert state.segments == [Segment(scenario["flow"])]
    assert [q for i, q in enumerate(revisited) if i == 0 or q != revisited[i - 1]][:len(asked)] == asked[::-1]
