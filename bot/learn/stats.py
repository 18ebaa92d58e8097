"""Training statistics for the support desk: how often each flow and each question is answered right, across all
trainees, to see which rule is hard to learn and which text should be clearer. Never from the decision log."""

from __future__ import annotations

import sqlite3

from flows.engine import Rulebook

from bot.learn.lessons import course
from storage import learn as store

PART_NAMES = {"situation": "situationen", "action": "markørhandlingen", "deadline": "fristen på tre måneder"}


def _percent(right: int, asked: int) -> str:
    return f"{right} af {asked} ({round(100 * right / asked)} %)" if asked else "–"


def part_name(part: str) -> str:
    """A graded part in Danish."""
    if part.startswith("date"):
        return f"dato {part[4:]}"
    if part.startswith("check"):
        return f"tjek {part[5:]}"
    return PART_NAMES.get(part, part)


def stats_text(db: sqlite3.Connection, rulebook: Rulebook) -> str:
    """Accuracy per flow and per question across all trainees, and the tests taken (plain text)."""
    titles = {lesson.id: lesson.title for lesson in course(rulebook)}
    titles.update({flow_id: flow.title for flow_id, flow in rulebook.flows.items()})
    per_flow = store.accuracy(db, by="flow")
    if not per_flow:
        return "Ingen har øvet endnu."
    lines = [f"Kursister: {store.trainees(db)}", "", "Rigtige svar pr. forløb og lektion:"]
    width = max(len(titles.get(key, key)) for key, _, _ in per_flow)
    lines += [f"  {titles.get(key, key):<{width}}  {_percent(right, asked)}" for key, right, asked in per_flow]
    lines += ["", "Rigtige svar pr. spørgsmål (det sværeste først):"]
    per_part = sorted(store.accuracy(db, by="part"), key=lambda row: (row[1] / row[2], row[0]))
    for key, right, asked in per_part:
        flow, _, part = key.partition(" · ")
        lines.append(f"  {titles.get(flow, flow)} · {part_name(part)}: {_percent(right, asked)}")
    taken = db.execute("SELECT COUNT(*), COALESCE(SUM(passed), 0) FROM learn_tests").fetchone()
    lines += ["", f"Tests: {taken[0]} taget, {taken[1]} bestået."]
    return "\n".join(lines)
