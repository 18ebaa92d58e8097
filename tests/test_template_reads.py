"""bot/chat/template_reads.py: the answers a template block reads are found exactly, or not at all. Its texts are
kept by those answers (bot/chat/texts.py), so a read it missed would show one dialogue another's text: every
question block of every flow must be read exactly, and each block rendered with only the answers found must give
the text it gives with all of them, at every step of every scenario."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined

from flows.catalogue import Catalogue
from flows.engine import Position

from bot.chat.template_reads import answers_read
from bot.chat.texts import Texts
from tests.scenarios import SCENARIO_DIR, load_scenarios

ENV = Environment(undefined=StrictUndefined)


def reads(body: str, block: str = "question") -> tuple[str, ...] | None:
    return answers_read(ENV, "{% block " + block + " %}" + body + "{% endblock %}", block)


@pytest.mark.parametrize("body, expected", [
    ("Hvilken dato?", ()),
    ("{{ flow.title }} {{ marker_name('ips') }} {{ programme.id }}", ()),
    ("{{ marker_name(answers.current_marker) }}", ("current_marker",)),
    ("{{ answers['new_group'] }}{{ answers.get('decision') }}{{ answers.get('x', 'ingen') }}", ("new_group", "decision", "x")),
    ("{{ answer_date('start') }} {{ answer_date(\"start\") | upper }}", ("start",)),
    ("{% if answers.get('a') == 'ja' %}{{ answers.b }}{% else %}{{ answers.c | default('') }}{% endif %}", ("a", "b", "c")),
    ("{% if answers.a is defined %}x{% endif %}", ("a",)),
])
def test_reads_are_found(body: str, expected: tuple[str, ...]) -> None:
    assert reads(body) == expected


@pytest.mark.parametrize("body", [
    "{{ answers | length }}",  # the answers as a whole
    "{% for key in answers %}{{ key }}{% endfor %}",
    "{{ answers.items() }}", "{{ answers['keys'] }}", "{{ answers.get }}",  # the dict's own methods
    "{{ answers[flow.id] }}", "{{ answers.get(flow.id) }}", "{{ answer_date(flow.id) }}",  # a key not constant
    "{{ answers.get('a', flow.id) }}", "{{ answer_date('a', 'b') }}", "{{ answer_date(q='a') }}",
    "{{ answer_date }}", "{{ today }}", "{{ outcome.date }}",  # anything else that varies
    "{% set x = 1 %}{{ x }}", "{% for x in [1] %}{{ x }}{% endfor %}",  # names of its own
    "{{ [1, 2] | random }}",  # not the same each time
    "{{ self.help() }}", "{{ super() }}", "{{ range(3) | list }}", "{{ lipsum() }}",
    "{% include 'other.j2' %}",
    "{% macro m() %}{{ answers.a }}{% endmacro %}{{ m() }}",
    "{{ 'a' | unknown_filter }}", "{% if 'a' is unknown_test %}x{% endif %}",
])
def test_anything_else_is_not_read(body: str) -> None:
    assert reads(body) is None


def test_a_template_that_includes_imports_or_extends_is_not_read() -> None:
    for head in ("{% include 'x.j2' %}", "{% import 'x.j2' as x %}", "{% from 'x.j2' import y %}",
                 "{% extends 'x.j2' %}"):
        assert answers_read(ENV, head + "{% block question %}Tekst{% endblock %}", "question") is None


def test_a_missing_or_repeated_block_is_not_read() -> None:
    assert answers_read(ENV, "{% block help %}x{% endblock %}", "question") is None
    assert answers_read(ENV, "{% block question %}x{% endblock %}", "question") == ()


def test_every_question_block_of_every_flow_is_read(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    """Every question's text and help is kept by its answers: no question falls back to rendering each time."""
    for flow in catalogue.flows.values():
        for question in flow.spec.questions:
            name = f"{flow.programme.id}/{flow.id}/{question}.j2"
            for block in ("question", "help"):
                assert catalogue_texts.reads(name, block) is not None, (name, block)


def scenario_positions(catalogue: Catalogue, texts: Texts) -> list[tuple[Position, date]]:
    """Each position a scenario passes through: every question asked, and the outcome."""
    from tests.scenarios import walk

    positions = []
    for scenario in [*load_scenarios(), *load_scenarios(SCENARIO_DIR / "flere_skal_med_2017"),
                     *load_scenarios(SCENARIO_DIR / "router")]:
        flow, today = catalogue.flow(scenario["flow"]), scenario["today"]
        _, values = walk(catalogue, texts, scenario)
        position = flow.walk({}, today)
        positions.append((position, today))
        for value in values:
            position = flow.step(position, value, today)
            positions.append((position, today))
    return positions


def test_each_block_gives_the_same_text_with_only_the_answers_it_reads(catalogue: Catalogue,
                                                                       catalogue_texts: Texts) -> None:
    texts, checked = catalogue_texts, 0
    for position, _ in scenario_positions(catalogue, texts):
        node = position.question.id if position.question else position.outcome.node  # type: ignore[union-attr]
        template = texts._node_template(position.flow, node)
        extra: dict[str, Any] = {"outcome": position.outcome} if position.outcome else {}
        answers = dict(position.answers)
        for block in template.blocks:
            found = texts.reads(str(template.name), block)
            if found is None:
                continue
            full = texts._block(template, block, texts._context(position.flow, answers, **extra))
            only = {question: answers[question] for question in found if question in answers}
            assert texts._block(template, block, texts._context(position.flow, only, **extra)) == full, \
                (template.name, block)
            checked += 1
    assert checked > 1000
