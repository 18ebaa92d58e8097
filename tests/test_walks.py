"""bot/chat/walks.py: a kept walk or step is the one the engine makes, at every step of every scenario; only answers
that are options are kept, a refused answer is refused each time, and a new day starts afresh."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows.answers import parse_answer
from flows.catalogue import Catalogue
from flows.errors import AnswerError

import bot.chat.walks as walks_module
from bot.chat.texts import Texts
from bot.chat.walks import SharedWalks
from tests.scenarios import SCENARIO_DIR, load_scenarios

SCENARIOS = [*load_scenarios(), *load_scenarios(SCENARIO_DIR / "flere_skal_med_2017"),
             *load_scenarios(SCENARIO_DIR / "router")]


def test_kept_steps_and_walks_are_the_engines(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    walks, compared, kept = SharedWalks(), 0, 0
    for _ in range(2):  # the second time round, from what the first kept
        for scenario in SCENARIOS:
            flow, today = catalogue.flow(scenario["flow"]), scenario["today"]
            position = walks.walk(flow, {}, today)
            assert position == flow.walk({}, today)
            for question_id, text in scenario["answers"]:
                question = position.question
                assert question is not None and question.id == question_id
                labels = catalogue_texts.option_labels(flow, question) if question.kind != "date" else {}
                value = parse_answer(question, text, today, labels)
                ours, theirs = walks.step(flow, position, value, today), flow.step(position, value, today)
                assert ours == theirs and dict(ours.answers) == dict(theirs.answers), scenario["id"]
                assert walks.walk(flow, ours.answers, today) == flow.walk(ours.answers, today), scenario["id"]
                position = ours
                compared += 1
        kept = len(walks._kept)
    assert compared > 400 and 0 < kept == len(walks._kept)  # the second round kept nothing new
    typed = {key for key in walks._kept if any(flow_has_date(key[0], q) for q, _ in key[1])}
    assert not typed  # nothing through a date is kept


def flow_has_date(flow: object, question: str) -> bool:
    spec = flow.spec.questions.get(question)  # type: ignore[attr-defined]
    return spec is not None and not spec.options


def test_a_refused_answer_is_refused_each_time(catalogue: Catalogue) -> None:
    walks, flow, today = SharedWalks(), catalogue.flow("switch"), date(2026, 1, 15)
    position = walks.walk(flow, {}, today)
    for _ in range(2):
        with pytest.raises(AnswerError):
            walks.step(flow, position, "not_an_option", today)
    assert all(len(key) == 3 for key in walks._kept)  # only the walk was kept


def test_a_new_day_starts_afresh_and_the_store_is_bounded(catalogue: Catalogue,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(walks_module, "KEPT", 2)
    walks, flow, today = SharedWalks(), catalogue.flow("switch"), date(2026, 1, 15)
    start = walks.walk(flow, {}, today)
    walks.step(flow, start, "fusm", today)
    assert len(walks._kept) == 2
    walks.walk(flow, {"current_marker": "ips"}, today)
    assert len(walks._kept) == 1
    tomorrow = today + timedelta(days=1)
    assert walks.walk(flow, {}, tomorrow) == flow.walk({}, tomorrow)
    assert [key[-1] for key in walks._kept] == [tomorrow]
