"""What to practise next: one FSRS card per rule and flow (the scheduler Anki uses), reviewed by each graded case.

A part answered wrong lapses its card; the next case goes to the same rule in another flow if one is due, so a missed
"day before" comes back where it looks different."""

from __future__ import annotations

import random
import zlib
from collections import defaultdict
from datetime import datetime, timezone

from fsrs import Card, Rating, Scheduler

from flows.engine import Rulebook

from bot.learn.cases import practice_flows
from bot.learn.grading import PartResult

RULE_NAMES = {
    "situation": "at genkende situationen",
    "action": "at vælge markørhandlingen",
    "day_before": "slutdato dagen før",
    "same_day": "dato samme dag som hændelsen",
    "own_start": "slutdato lig markørens startdato",
    "deadline": "fristen på tre måneder",
}

_SCHEDULER = Scheduler(enable_fuzzing=False)  # no fuzz: the same answers give the same schedule


def card_id(flow: str, rule: str) -> str:
    """The card for one rule in one flow."""
    return f"{flow}:{rule}"


def outcome_rules(rulebook: Rulebook, flow_id: str, node: str) -> set[str]:
    """The rules a case ending at this outcome trains (its own flow's; a hand-over trains the situation)."""
    spec = rulebook.flow(flow_id).spec.outcomes[node]
    rules = {"situation", "action"} | {rule.date_rule for rule in spec.actions}
    if spec.deadline_from:
        rules.add("deadline")
    return rules


def all_cards(rulebook: Rulebook) -> dict[str, list[str]]:
    """Every card the rulebook has, with the outcomes that train it."""
    found: dict[str, list[str]] = defaultdict(list)
    for flow_id in practice_flows(rulebook):
        for node in sorted(rulebook.flow(flow_id).spec.outcomes):
            for rule in outcome_rules(rulebook, flow_id, node):
                found[card_id(flow_id, rule)].append(node)
    return dict(found)


def review(stored: dict[str, str], flow: str, results: list[PartResult],
           now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Review each card the graded parts touch (Good if every part of that rule was right, else Again);
    returns (card, card JSON, due ISO time) for storage."""
    now = now or datetime.now(timezone.utc)
    by_rule: dict[str, bool] = {}
    for result in results:
        by_rule[result.rule] = by_rule.get(result.rule, True) and result.correct
    reviewed = []
    for rule, right in by_rule.items():
        key = card_id(flow, rule)
        card = Card.from_json(stored[key]) if key in stored else Card(card_id=zlib.crc32(key.encode()), due=now)
        card, _ = _SCHEDULER.review_card(card, Rating.Good if right else Rating.Again, now)
        reviewed.append((key, card.to_json(), card.due.isoformat()))
    return reviewed


def next_target(rulebook: Rulebook, stored: dict[str, str], rng: random.Random, missed: str | None = None,
                now: datetime | None = None) -> tuple[str, str, str]:
    """(flow, outcome, card) for the next practice case: a due card, the missed rule's first (in another flow)."""
    now = now or datetime.now(timezone.utc)
    cards = all_cards(rulebook)
    due: list[tuple[datetime, float, str]] = []
    for key in cards:
        when = Card.from_json(stored[key]).due if key in stored else datetime.min.replace(tzinfo=timezone.utc)
        due.append((when, rng.random(), key))
    due.sort()
    ready = [key for when, _, key in due if when <= now] or [due[0][2]]
    if missed:
        missed_flow, _, missed_rule = missed.partition(":")
        same_rule = [key for key in ready if key.endswith(f":{missed_rule}")]
        elsewhere = [key for key in same_rule if not key.startswith(f"{missed_flow}:")]
        ready = elsewhere or same_rule or ready
    key = ready[0]
    flow_id = key.partition(":")[0]
    return flow_id, rng.choice(cards[key]), key


def due_count(rulebook: Rulebook, stored: dict[str, str], now: datetime | None = None) -> int:
    """How many cards are due now (never-seen cards included)."""
    now = now or datetime.now(timezone.utc)
    return sum(1 for key in all_cards(rulebook) if key not in stored or Card.from_json(stored[key]).due <= now)
