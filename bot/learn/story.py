"""A practice case told as a short Danish story: a made-up first name, the facts the answers stand for, never the
registration itself (learn/<programme>/stories.yaml holds one sentence per answer)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined

from flows.dates import format_date
from flows.engine import Rulebook

from bot.learn.cases import Case
from bot.learn.grading import COMPUTED_RULES, date_items
from bot.learn.lessons import LEARN_DIR


@lru_cache(maxsize=4)
def _stories(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _environment() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


_ENV = _environment()


@lru_cache(maxsize=512)
def _template(source: str) -> Any:
    return _ENV.from_string(source)


def _sentence(template: Any, value: str) -> str | None:
    """The template for an answer: a string for any value, or a mapping by value."""
    if isinstance(template, dict):
        return template.get(value)
    return str(template) if template is not None else None


def _told(day: date, computed: set[date]) -> str:
    """A date as the story tells it; one that is also an answer the trainee must work out (an end date that falls
    on the marker's start) is told by the day after it, so the story never states the answer."""
    if day in computed:
        return f"dagen før den {format_date(day + timedelta(days=1))}"
    return format_date(day)


def tell(rulebook: Rulebook, case: Case) -> str:
    """The case as a story (HTML-escaped text, one paragraph)."""
    stories = _stories(LEARN_DIR / rulebook.programme.id / "stories.yaml")
    rng = random.Random(case.seed * 7919 + 1)
    female = rng.random() < 0.5
    name = rng.choice(stories["names"]["female" if female else "male"])
    answers = case.answers()
    computed = {item.expected for item in date_items(rulebook, case) if item.rule in COMPUTED_RULES}
    age = rng.randint(31, 34) if "no" == answers.get("age_15_29") else rng.randint(16, 29)
    context: dict[str, Any] = {
        "name": name, "age": age, "han": "hun" if female else "han", "ham": "hende" if female else "ham",
        "answers": answers, "today": format_date(case.today),
        "d": lambda question: _told(date.fromisoformat(answers[question]), computed),
        "m": lambda question: rulebook.programme.markers[answers[question]],
        "pick": lambda *variants: variants[rng.randrange(len(variants))],
    }
    sentences = [stories["opening"]]
    for segment in case.segments:
        own = stories["flows"].get(segment.flow, {})
        if "_situation" in own:
            sentences.append(own["_situation"])
        for question, value in segment.answers:
            template = own.get(question, stories["shared"].get(question))
            if template is None:
                raise KeyError(f"stories.yaml has no sentence for {segment.flow}.{question}")
            sentence = _sentence(template, value)
            if sentence is None:
                raise KeyError(f"stories.yaml has no sentence for {segment.flow}.{question}={value}")
            sentences.append(sentence)
    sentences.append(stories["closing"])
    rendered = (_template(sentence).render(context).strip() for sentence in sentences)
    return " ".join(text for text in rendered if text)
