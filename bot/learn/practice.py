"""A practice case or a test case, step by step: the story, the situation, the marker action, each date; then the
grade per part and why. A test is ten cases across all flows, passed at nine."""

from __future__ import annotations

import random
from typing import Any

from flows.dates import format_date
from flows.engine import Rulebook
from flows.errors import AnswerError

from bot.chat.texts import Texts
from bot.learn.cases import Case, generate, practice_flows
from bot.learn.explain import path_nodes, why
from bot.learn.grading import (
    PartResult, action_choices, action_label, date_items, date_prompt, grade_action, grade_date, grade_situation,
    situation_choices,
)
from bot.learn.screens import Screen
from bot.learn.story import tell
from storage.learn import GradedPart

TEST_SIZE = 10
PASS_MARK = 9


def test_cases(rulebook: Rulebook, seed: int) -> list[tuple[int, str]]:
    """The test for a seed: (case seed, flow) ten times, every flow at least once, in a seeded order."""
    rng = random.Random(seed)
    flows = practice_flows(rulebook)
    chosen = flows + [rng.choice(flows) for _ in range(TEST_SIZE - len(flows))]
    rng.shuffle(chosen)
    return [(seed * 100 + index, flow) for index, flow in enumerate(chosen[:TEST_SIZE])]


class Practice:
    """The case steps over a rulebook; the state travels in and out as a dict."""

    def __init__(self, rulebook: Rulebook, texts: Texts) -> None:
        self.rulebook = rulebook
        self.texts = texts
        self.situation_flow = rulebook.flow(rulebook.programme.entry)
        self.situation_labels = texts.option_labels(self.situation_flow,
                                                    self.situation_flow.spec.questions["situation"])

    def case(self, state: dict[str, Any]) -> Case:
        """The case the state is on, generated again from its seed."""
        current = state["case"]
        return generate(self.rulebook, current["seed"], current["flow"], current["outcome"])

    def begin(self, state: dict[str, Any], seed: int, flow: str, outcome: str | None, kind: str) -> list[Screen]:
        """Start a case: the story and the first question."""
        case = generate(self.rulebook, seed, flow, outcome)
        state["mode"] = "case"
        state["case"] = {"seed": seed, "flow": case.flow, "outcome": _first_outcome(self.rulebook, case),
                         "kind": kind, "part": "situation", "results": []}
        heading = self._heading(state)
        return [Screen(f"{heading}\n\n{tell(self.rulebook, case)}"), self._ask(state, case)]

    def _heading(self, state: dict[str, Any]) -> str:
        if state["case"]["kind"] == "test":
            return f"<b>Test – sag {state['test']['index'] + 1} af {TEST_SIZE}</b>"
        return "<b>Øvelsessag</b>"

    def _ask(self, state: dict[str, Any], case: Case) -> Screen:
        part = state["case"]["part"]
        if part == "situation":
            options = tuple((f"s:{flow}", self.situation_labels[flow]) for flow in situation_choices(self.rulebook))
            return Screen("Hvilken situation er det?", options)
        if part == "action":
            options = tuple((f"a:{index}", action_label(self.rulebook, sig))
                            for index, sig in enumerate(action_choices(self.rulebook, case)))
            return Screen("Hvad skal du gøre i fagsystemet?", options)
        item = next(item for item in date_items(self.rulebook, case) if item.key == part)
        return Screen(f"{date_prompt(item)}\n<i>{self.texts.common('date_hint')}</i>", expects_text=True)

    def repeat(self, state: dict[str, Any]) -> list[Screen]:
        """Show the current step again (after a restart, or an answer that could not be read)."""
        case = self.case(state)
        return [Screen(f"{self._heading(state)}\n\n{tell(self.rulebook, case)}"), self._ask(state, case)]

    def choose(self, state: dict[str, Any], value: str) -> tuple[list[Screen], PartResult | None]:
        """A pressed choice for the situation or the action."""
        case = self.case(state)
        part = state["case"]["part"]
        if part == "situation" and value.startswith("s:") and value[2:] in practice_flows(self.rulebook):
            result = grade_situation(case, value[2:])
        elif part == "action" and value.startswith("a:") and value[2:].isdigit():
            choices = action_choices(self.rulebook, case)
            if int(value[2:]) >= len(choices):
                return [self._ask(state, case)], None
            result = grade_action(case, choices[int(value[2:])])
        else:
            return [self._ask(state, case)], None
        return self._advance(state, case, result), result

    def typed(self, state: dict[str, Any], text: str) -> tuple[list[Screen], PartResult | None]:
        """A typed answer: a date for a date part, or a choice by its number or label."""
        case = self.case(state)
        part = state["case"]["part"]
        if part in ("situation", "action"):
            value = pick(self._ask(state, case).options, text)
            if value is None:
                return [Screen(self.texts.error(AnswerError("choice_unknown", text=text[:40]))),
                        self._ask(state, case)], None
            return self.choose(state, value)
        item = next(item for item in date_items(self.rulebook, case) if item.key == part)
        try:
            result = grade_date(item, text, case.today)
        except AnswerError as error:
            return [Screen(self.texts.error(error)), self._ask(state, case)], None
        return self._advance(state, case, result), result

    def _advance(self, state: dict[str, Any], case: Case, result: PartResult) -> list[Screen]:
        current = state["case"]
        current["results"].append([result.part, result.rule, result.given, result.expected, result.correct])
        screens = [] if current["kind"] == "test" else [Screen(self._feedback(case, result))]
        keys = ["situation", "action"] + [item.key for item in date_items(self.rulebook, case)]
        following = keys[keys.index(current["part"]) + 1:]
        if following:
            current["part"] = following[0]
            return screens + [self._ask(state, case)]
        current["part"] = "done"
        return screens

    def _feedback(self, case: Case, result: PartResult) -> str:
        mark = "✅ Rigtigt." if result.correct else "❌ Ikke rigtigt."
        if result.part == "situation":
            right = " eller ".join(f"»{self.situation_labels[flow]}«" for flow in case.flows)
            return f"{mark} Situationen er {right}." if not result.correct else mark
        if result.part == "action":
            label = action_label(self.rulebook, tuple(result.expected.split("|")))
            return mark + ("" if result.correct else f" Det rigtige er: {label}.")
        expected = format_date(_iso(result.expected))
        given = format_date(_iso(result.given))
        return mark + (f" ({given})" if result.correct else f" Du skrev {given}; det rigtige er {expected}.")

    def finish(self, state: dict[str, Any]) -> tuple[list[Screen], list[GradedPart], list[PartResult]]:
        """The case's grade per part and why, with the path drawn; the parts to store."""
        case = self.case(state)
        current = state["case"]
        results = [PartResult(*row) for row in current["results"]]
        right = sum(result.correct for result in results)
        summary = f"<b>Resultat: {right} af {len(results)} dele rigtige.</b>"
        nodes = path_nodes(self.rulebook, case)
        screen = Screen(f"{summary}\n\n{why(self.rulebook, self.texts, case)}",
                        path=tuple((flow, tuple(path)) for flow, path in nodes.items()))
        parts = [GradedPart(current["kind"], case.seed, case.flow, case.outcome.node, r.part, r.rule, r.given,
                            r.expected, r.correct) for r in results]
        return [screen], parts, results


def _first_outcome(rulebook: Rulebook, case: Case) -> str:
    """The outcome the case's first flow reached (the key the case is generated from again)."""
    first = case.segments[0]
    outcome = rulebook.flow(first.flow).walk(dict(first.answers), case.today).outcome
    assert outcome is not None
    return outcome.node


def _iso(value: str) -> Any:
    from datetime import date

    return date.fromisoformat(value)


def pick(options: tuple[tuple[str, str], ...], text: str) -> str | None:
    """A choice typed as its number or its label (or the label's beginning)."""
    typed = text.strip().rstrip(".)").strip().lower()
    if typed.isdigit() and 1 <= int(typed) <= len(options):
        return options[int(typed) - 1][0]
    matches = [value for value, label in options if typed and label.lower().startswith(typed)]
    return matches[0] if len(matches) == 1 else None
