"""Read tests/scenarios/*.yaml: each scenario is {name, flow, answers: [[question id, typed text]], expect, today?}."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
DEFAULT_TODAY = date(2026, 1, 15)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[dict[str, Any]]:
    """Every scenario of every file in the folder (not its subfolders: one per further programme), with dates made
    ISO strings and the expectation filled with defaults."""
    scenarios = []
    for path in sorted(directory.glob("*.yaml")):
        for raw in yaml.safe_load(path.read_text(encoding="utf-8")):
            expect = raw["expect"]
            scenarios.append({
                "id": f"{path.stem}: {raw['name']}",
                "flow": raw["flow"],
                "today": raw.get("today", DEFAULT_TODAY),
                "answers": [(question, str(text)) for question, text in raw["answers"]],
                # What a hand-over gives the next flow (answers given here and what it settles), where stated.
                "carry": None if "carry" not in expect else {
                    question: _iso(value) if isinstance(value, date) else str(value)
                    for question, value in expect["carry"].items()},
                "expect": {
                    "result": expect["result"],
                    "outcome": expect["outcome"],
                    "effect": expect.get("effect"),
                    "use_flow": expect.get("use_flow"),
                    "gap": expect.get("gap"),
                    "deadline": _iso(expect.get("deadline")),
                    "warnings": expect.get("warnings", []),
                    "actions": [{"do": a["do"], "marker": a["marker"], "date": _iso(a["date"]),
                                 "other_person": a.get("other_person", False)} for a in expect.get("actions", [])],
                },
            })
    return scenarios


def walk(rulebook: Any, texts: Any, scenario: dict[str, Any]) -> tuple[Any, list[str]]:
    """Walk a scenario's typed answers through the engine with the chat's parsing; the final position and the
    canonical values. Asserts the questions come in the scenario's order."""
    from flows.answers import parse_answer

    flow = rulebook.flow(scenario["flow"])
    today = scenario["today"]
    position, values = flow.walk({}, today), []
    for question_id, text in scenario["answers"]:
        question = position.question
        assert question is not None, f"flow ended before {question_id}"
        assert question.id == question_id
        labels = texts.option_labels(flow, question) if question.kind != "date" else {}
        values.append(parse_answer(question, text, today, labels))
        position = flow.step(position, values[-1], today)
    return position, values


def chat_walk(conversation: Any, scenario: dict[str, Any], today: date) -> tuple[Any, Any]:
    """Type a scenario's answers into the chat (confirming far dates), checking each question is the one expected
    and that no answer is refused; the last turn and the last decision made on the way."""
    from bot.chat.dialogue import DialogueState, Segment, Turn

    turn, decision = Turn(DialogueState([Segment(scenario["flow"])]), []), None
    for question_id, text in scenario["answers"]:
        state = turn.state
        assert conversation.position(state, today).question.id == question_id
        turn = conversation.handle(state, text, today)
        if state.pending and state.pending.get("kind") == "confirm_date":
            turn = conversation.handle(turn.state, "ja", today)
        assert all(reply.kind != "error" for reply in turn.replies), [r.text for r in turn.replies]
        decision = turn.decision or decision
    return turn, decision
