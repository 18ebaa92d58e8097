"""Random and hostile text at every question of every flow of both programmes and of the programme question (the
catalogue the channels run): no exception, the question again or the next step, Telegram-safe HTML and no raw echo
(#15). bench/fuzz.py does the same 10,000 times per channel."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.chat.conversation import Conversation
from bot.chat.texts import Texts
from flows.catalogue import PROGRAMMES, Catalogue, load_catalogue
from tests.fuzzing import (FRAGMENTS, hostile_text, html_problems, judge, prompt_shown, question_states,
                           typed_path, unescaped_echo)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(PROGRAMMES)


@pytest.fixture(scope="module")
def conversation(catalogue: Catalogue) -> Conversation:
    return Conversation(catalogue, Texts(catalogue), "Testkommune")


@pytest.fixture(scope="module")
def states(catalogue: Catalogue, conversation: Conversation) -> list[Any]:
    return question_states(catalogue, conversation.texts)


def test_every_question_of_every_flow_is_fuzzed(catalogue: Catalogue, states: list[Any]) -> None:
    asked = {(flow, answers_question) for flow, _, answers in states
             for answers_question in [catalogue.flow(flow).walk(answers, _).question.id]}  # type: ignore[union-attr]
    every = {(flow.id, q) for flow in catalogue.flows.values() for q in flow.spec.questions}
    assert asked == every
    assert {flow.split("_")[0] for flow, _ in every} >= {"programme", "fsm2017", "switch"}  # both programmes


# What a hostile text may leave behind at a question, besides the fragments: a STAR question being written or
# drafted, an answer being changed, a far date to confirm, a programme chosen for the next cases.
LEFTOVERS = ("/star", "/star Hvad gør vi?", "/ret", "/ret 1", "/forfra", "1.1.2030", "/program ul", "/program 2017")


def test_every_question_is_reached_as_a_caseworker_types(conversation: Conversation, states: list[Any]) -> None:
    """bench/fuzz.py types its way to each question through the channels, which keep the dialogue from one input to
    the next: from wherever the last input left it, the typed path leads to the question, and the reply to its last
    step asks it."""
    state = conversation.new_state()
    leftovers = [*LEFTOVERS, *FRAGMENTS]
    for number, (flow, today, answers) in enumerate(states * 3):
        for text in typed_path(conversation, flow, today, answers):
            turn = conversation.handle(state, text, today)
            state = turn.state
        assert (state.segments[-1].flow, state.segments[-1].answers, state.pending) == (flow, answers, None)
        assert prompt_shown(conversation, flow, today, answers, turn.replies[-1].text)
        state = conversation.handle(state, leftovers[number * 7 % len(leftovers)], today).state


def test_every_fragment_at_every_question(conversation: Any, states: list[Any]) -> None:
    failures = [(flow, sorted(answers), text[:60], problems)
                for flow, today, answers in states for text in FRAGMENTS
                if (problems := judge(conversation, flow, today, answers, text))]
    assert failures == []


_hostile = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=5).map("".join),
    st.builds(lambda text, fragment: text + fragment, st.text(max_size=20), st.sampled_from(FRAGMENTS)),
    st.randoms(use_true_random=False).map(hostile_text),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), text=_hostile)
def test_hostile_text_at_any_question(conversation: Any, states: list[Any], data: Any, text: str) -> None:
    flow, today, answers = data.draw(st.sampled_from(states))
    assert judge(conversation, flow, today, answers, text) == []


def test_the_html_check_catches_what_telegram_refuses() -> None:
    assert html_problems('Svar <b>ja</b> &amp; <i>nej</i> <a href="https://star.dk">STAR</a>') == []
    for bad in ("<script>x</script>", "a < b", "AT&T", "<b>open", "</i>", '<a href="javascript:x">x</a>'):
        assert html_problems(bad), bad


def test_hostile_text_is_repeatable() -> None:
    assert hostile_text(random.Random(7)) == hostile_text(random.Random(7))


def test_the_echo_check_catches_a_raw_echo() -> None:
    from bot.chat.dialogue import DialogueState, Reply, Turn

    def turn(text: str) -> Turn:
        return Turn(DialogueState([]), [Reply(text, kind="error")])
    assert unescaped_echo(turn("Jeg forstod ikke »<b>x«."), turn("Jeg forstod ikke »‹b›x«."))
    assert not unescaped_echo(turn("Jeg forstod ikke »&lt;b&gt;x«."), turn("Jeg forstod ikke »‹b›x«."))
