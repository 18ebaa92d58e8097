"""Grading a practice case part by part against the engine's own outcome: the situation, the marker action, each
date (typed as in the dialogue and read by the same date parser)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from flows.dates import format_date, parse_date
from flows.engine import Rulebook
from flows.model import Outcome

from bot.learn.cases import Case, practice_flows

NO_REGISTRATION = "none"  # results with no marker action: nothing changes, not eligible, no marker, cannot take part
ASK_STAR = "ask_star"  # the guide gives no step
Signature = tuple[str, ...]
# Dates the trainee works out (the skill being trained); the others are the day of an event the story tells.
COMPUTED_RULES = ("day_before", "deadline")


@dataclass(frozen=True)
class DateItem:
    """A date the trainee must give: which action (or the deadline), its rule, and the right date."""

    key: str
    kind: str  # "end", "create" or "deadline"
    marker: str  # the exact marker name ("" for the deadline)
    rule: str  # day_before, same_day, own_start, deadline
    expected: date
    other_person: bool = False


@dataclass(frozen=True)
class PartResult:
    """One graded part: what was asked, what was given, what was right."""

    part: str  # situation, action, or a DateItem key
    rule: str  # the card this part trains: situation, action, or a date rule
    given: str
    expected: str
    correct: bool


def signature(outcome: Outcome) -> Signature:
    """The marker action of an outcome in a comparable form."""
    if outcome.actions:
        return tuple(f"{a.do}:{a.marker_key}{':other' if a.other_person else ''}" for a in outcome.actions)
    return (ASK_STAR,) if outcome.result == "ask_star" else (NO_REGISTRATION,)


def action_label(rulebook: Rulebook, sig: Signature) -> str:
    """A signature as the trainee reads it (plain text)."""
    if sig == (ASK_STAR,):
        return "Vejledningen beskriver intet skridt – spørg STAR"
    if sig == (NO_REGISTRATION,):
        return "Ingen markør skal oprettes eller ændres"
    parts = []
    for item in sig:
        do, key, *other = item.split(":")
        marker = rulebook.programme.markers[key]
        if do == "end":
            parts.append(f"sæt slutdato på »{marker}«")
        else:
            parts.append(f"opret »{marker}«" + (" på en anden ung" if other else ""))
    text = ", og ".join(parts)
    return text[0].upper() + text[1:]


def catalogue(rulebook: Rulebook) -> list[Signature]:
    """Every marker action the practice flows can yield, for the choices offered (each marker in every place)."""
    keys = list(rulebook.programme.markers)
    found: set[Signature] = {(NO_REGISTRATION,), (ASK_STAR,)}
    for key in keys:
        found.add((f"create:{key}",))
        found.add((f"end:{key}",))
        for other in keys:
            found.add((f"end:{key}", f"create:{other}"))
            found.add((f"end:{key}", f"create:{other}:other"))
    return sorted(found)


def action_choices(rulebook: Rulebook, case: Case, count: int = 4) -> list[Signature]:
    """The right action and some wrong ones, in an order fixed by the case's seed."""
    rng = random.Random(case.seed * 31 + 7)
    right = signature(case.outcome)
    wrong = [sig for sig in catalogue(rulebook) if sig != right]
    near = [sig for sig in wrong if len(sig) == len(right)]
    rng.shuffle(near)
    rest = [sig for sig in wrong if sig not in near]
    rng.shuffle(rest)
    choices = [right] + (near + rest)[:count - 1]
    rng.shuffle(choices)
    return choices


def situation_choices(rulebook: Rulebook) -> list[str]:
    """The situations offered: the router's, in its order, without "something else"."""
    return [flow for flow in rulebook.flow(rulebook.programme.entry).spec.questions["situation"].options
            if flow in practice_flows(rulebook)]


def date_items(rulebook: Rulebook, case: Case) -> list[DateItem]:
    """The dates the case asks for: each marker action's date, then the 3-month deadline if there is one."""
    final = rulebook.flow(case.outcome.flow).spec.outcomes[case.outcome.node]
    items = [DateItem(f"date{index + 1}", action.do, action.marker, rule.date_rule, action.date, action.other_person)
             for index, (action, rule) in enumerate(zip(case.outcome.actions, final.actions))]
    if case.outcome.deadline is not None:
        items.append(DateItem("deadline", "deadline", "", "deadline", case.outcome.deadline))
    return items


def grade_situation(case: Case, flow_id: str) -> PartResult:
    """Right when the chosen situation is one the case passes through (the router leads on from there)."""
    return PartResult("situation", "situation", flow_id, case.flows[-1], flow_id in case.flows)


def grade_action(case: Case, chosen: Signature) -> PartResult:
    """Right when the chosen marker action is the engine's."""
    right = signature(case.outcome)
    return PartResult("action", "action", "|".join(chosen), "|".join(right), chosen == right)


def grade_date(item: DateItem, text: str, today: date) -> PartResult:
    """Read a typed date with the dialogue's parser (AnswerError if unreadable) and compare it with the right one."""
    given = parse_date(text, today)
    return PartResult(item.key, item.rule, given.isoformat(), item.expected.isoformat(), given == item.expected)


def date_prompt(item: DateItem) -> str:
    """The question for one date (HTML)."""
    if item.kind == "deadline":
        return "Til og med hvilken dag kan den unge nå at komme i job eller uddannelse og stadig tælle med hos jer?"
    if item.kind == "end":
        return f"Hvilken slutdato sætter du på »{item.marker}«?"
    where = " på den anden unge" if item.other_person else ""
    return f"Hvilken startdato får »{item.marker}«{where}?"


def rule_text(item: DateItem) -> str:
    """How the right date follows from the rule (plain Danish, one line)."""
    day = format_date(item.expected)
    if item.rule == "day_before":
        return f"Dagen før den nye startdato: {day}."
    if item.rule == "own_start":
        return f"Samme dag som markørens egen startdato: {day}."
    if item.rule == "deadline":
        return f"Tre kalendermåneder efter flytningen: {day}."
    return f"Samme dag som hændelsen: {day}."
