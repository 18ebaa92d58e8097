"""Lessons as data: one YAML file per lesson in learn/<programme>/lessons/, its texts rendered with Jinja2 so marker names
and dates come from the rulebook and the engine's own date arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined

from flows.dates import add_months, day_before, format_date
from flows.engine import Rulebook
from flows.errors import FlowError
from flows.loader import FLOWS_DIR

LEARN_DIR = FLOWS_DIR.parent / "learn"


class LessonError(FlowError):
    """A lesson file that is not what the loader expects; the message names the file."""


@dataclass(frozen=True)
class Citation:
    """Where a lesson's content comes from: a seed document, a section heading in it, optionally a phrase."""

    seed: str
    section: str
    quote: str = ""

    def label(self) -> str:
        """How the citation is shown to the trainee."""
        return f"{self.seed}: {self.section.rstrip(':')}"


@dataclass(frozen=True)
class Check:
    """A check question at a lesson's end: options, the right one (0-based), and why it is right."""

    question: str
    options: tuple[str, ...]
    answer: int
    why: str


@dataclass(frozen=True)
class Lesson:
    """A short lesson: a few screens, its sources, and two or three check questions."""

    id: str
    title: str
    screens: tuple[str, ...]
    checks: tuple[Check, ...]
    sources: tuple[Citation, ...]
    situation: str | None = None
    diagram: str | None = None


def _dansk(value: str | date) -> str:
    return format_date(value if isinstance(value, date) else date.fromisoformat(value))


def _environment(rulebook: Rulebook) -> Environment:
    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["dansk"] = _dansk
    env.filters["day_before"] = lambda value: day_before(date.fromisoformat(value) if isinstance(value, str) else value)
    env.filters["add_months"] = lambda value, months: add_months(
        date.fromisoformat(value) if isinstance(value, str) else value, months)
    env.globals["marker"] = dict(rulebook.programme.markers)
    return env


def load_lessons(rulebook: Rulebook, directory: Path | None = None) -> list[Lesson]:
    """Every lesson of the rulebook's programme, in file-name order, rendered and checked."""
    folder = directory or LEARN_DIR / rulebook.programme.id / "lessons"
    env = _environment(rulebook)
    lessons = [_lesson(path, env, rulebook) for path in sorted(folder.glob("*.yaml"))]
    ids = [lesson.id for lesson in lessons]
    if len(set(ids)) != len(ids):
        raise LessonError(f"{folder}: two lessons share an id")
    return lessons


def _lesson(path: Path, env: Environment, rulebook: Rulebook) -> Lesson:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {"id", "title", "screens", "checks", "sources", "situation", "diagram"}
    if not isinstance(data, dict) or set(data) - known or not {"id", "title", "screens", "checks", "sources"} <= set(data):
        raise LessonError(f"{path}: a lesson needs id, title, screens, checks, sources (and may have situation, diagram)")
    for key in ("situation", "diagram"):
        if data.get(key) and data[key] not in rulebook.flows:
            raise LessonError(f"{path}: {key} {data[key]!r} is not a flow")

    def render(text: Any) -> str:
        return env.from_string(str(text)).render().strip()

    checks = []
    for item in data["checks"]:
        options = tuple(render(option) for option in item["options"])
        if not 1 <= int(item["answer"]) <= len(options):
            raise LessonError(f"{path}: check {item['question']!r}: answer must be 1..{len(options)}")
        checks.append(Check(render(item["question"]), options, int(item["answer"]) - 1, render(item["why"])))
    if not 2 <= len(checks) <= 3:
        raise LessonError(f"{path}: a lesson ends with two or three check questions")
    sources = tuple(Citation(str(s["seed"]), str(s["section"]), str(s.get("quote", ""))) for s in data["sources"])
    return Lesson(id=str(data["id"]), title=str(data["title"]), screens=tuple(render(s) for s in data["screens"]),
                  checks=tuple(checks), sources=sources, situation=data.get("situation"), diagram=data.get("diagram"))


def course(rulebook: Rulebook) -> list[Lesson]:
    """The whole course: the rulebook's lessons, then each other programme's own (e.g. the 2017 'Flere skal med'),
    rendered with that programme's marker names."""
    from flows.engine import load_rulebook

    lessons = load_lessons(rulebook)
    for folder in sorted(path for path in LEARN_DIR.iterdir() if path.is_dir()):
        if folder.name != rulebook.programme.id and (FLOWS_DIR / folder.name / "programme.yaml").is_file():
            lessons += load_lessons(load_rulebook(folder.name))
    return lessons
