"""The dialogue as a caseworker meets it: bad input, confirmations, commands, redirects, resuming."""

from __future__ import annotations

from datetime import date

import pytest

from flows.engine import Rulebook

import bot.chat.conversation as conversation_module
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Reply, Segment, Turn
from bot.chat.texts import Texts, to_plain

TODAY = date(2026, 1, 15)


def say(conversation: Conversation, state: DialogueState, *texts: str) -> Turn:
    turn = Turn(state, [])
    for text in texts:
        turn = conversation.handle(turn.state, text, TODAY)
    return turn


def text_of(turn: Turn) -> str:
    return "\n".join(to_plain(reply.text) for reply in turn.replies)


def at(conversation: Conversation, state: DialogueState) -> str | None:
    question = conversation.position(state, TODAY).question
    return question.id if question else None


def test_bad_input_gets_a_danish_message_and_the_question_again(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch")])
    for typed, words in [("🙂", "Jeg forstod ikke"), ("7", "Der er kun 2"), ("ja", "Jeg forstod ikke")]:
        turn = say(conversation, state, typed)
        assert turn.replies[0].kind == "error" and words in text_of(turn)
        assert turn.replies[-1].kind == "question" and at(conversation, turn.state) == "current_marker"
        assert turn.state.segments[-1].answers == {}


def test_a_date_that_does_not_exist_is_explained(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "fusm", "psychiatry_course": "yes"})])
    turn = say(conversation, state, "31. februar 2026")
    assert "februar 2026 har kun 28 dage" in text_of(turn)
    assert at(conversation, turn.state) == "current_start_date"


def test_guard_re_asks_and_keeps_earlier_answers(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "fusm", "psychiatry_course": "yes",
                                              "current_start_date": "2025-10-12"})])
    turn = say(conversation, state, "1.10.2025")
    assert "kan ikke begynde før den nuværende markør startede (12. oktober 2025)" in text_of(turn)
    assert at(conversation, turn.state) == "new_start_date"
    assert len(turn.state.segments[-1].answers) == 3


def test_far_date_is_confirmed_once(conversation: Conversation) -> None:
    state = DialogueState([Segment("leave", {"phase": "returns", "still_needs": "yes", "psychiatry_course": "no"})])
    turn = say(conversation, state, "1.2.2020")
    assert "mere end et år tilbage" in text_of(turn) and turn.decision is None
    assert turn.state.segments[-1].answers.get("resume_date") is None
    turn = say(conversation, turn.state, "måske")
    assert "Svar ja eller nej" in text_of(turn)
    turn = say(conversation, turn.state, "ja")
    assert turn.decision is not None and turn.decision.outcome["warnings"] == ["far_past"]
    assert turn.decision.outcome["actions"][0]["date"] == "2020-02-01"


def test_an_existing_markers_old_start_date_is_not_confirmed(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "fusm", "psychiatry_course": "yes"})])
    turn = say(conversation, state, "1.3.2019")
    assert turn.state.pending is None and at(conversation, turn.state) == "new_start_date"
    assert turn.state.segments[-1].answers["current_start_date"] == "2019-03-01"


def test_two_digit_year_is_20yy_and_a_far_one_is_confirmed(conversation: Conversation) -> None:
    state = DialogueState([Segment("leave", {"phase": "returns", "still_needs": "yes", "psychiatry_course": "no"})])
    turn = say(conversation, state, "1.2.90")
    assert "1. februar 2090 ligger mere end et år frem" in text_of(turn) and turn.decision is None


def test_far_date_declined_asks_the_date_again(conversation: Conversation) -> None:
    state = DialogueState([Segment("leave", {"phase": "returns", "still_needs": "yes", "psychiatry_course": "no"})])
    turn = say(conversation, state, "1.2.2030", "nej")
    assert turn.state.pending is None and at(conversation, turn.state) == "resume_date"
    turn = say(conversation, turn.state, "1.2.2026")
    assert turn.decision is not None and turn.decision.outcome["warnings"] == []


def test_cpr_number_is_refused_not_echoed_not_stored(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch")])
    turn = say(conversation, state, "0102031234")
    assert "CPR-nummer" in text_of(turn) and "0102031234" not in text_of(turn)
    assert "0102031234" not in str(turn.state.to_dict())
    turn = say(conversation, state, "/star", "Hvad gør vi med 010203-1234?")
    assert "010203-1234" not in text_of(turn) and "010203-1234" not in str(turn.state.to_dict())
    assert turn.state.pending == {"kind": "star_text"} and "Skriv dit spørgsmål" in text_of(turn)


def test_a_cpr_number_after_a_command_is_refused_too(conversation: Conversation) -> None:
    for typed in ("/faq 0102031234", "/star Borgeren 010203-1234 er flyttet"):
        turn = say(conversation, DialogueState([Segment("situation")]), typed)
        assert "CPR-nummer" in text_of(turn) and "0102031234" not in text_of(turn) and "010203" not in text_of(turn)
        assert turn.star_draft is None and turn.state.pending is None


def test_star_draft_holds_the_case_and_the_gap(conversation: Conversation) -> None:
    state = DialogueState([Segment("situation")])
    turn = say(conversation, state, "8")
    assert turn.decision is not None and turn.decision.flow == "early_pension"
    turn = say(conversation, turn.state, "/star Skal markøren have slutdato?")
    assert turn.star_draft is not None and turn.star_draft.gap == "X-1"
    subject, body = turn.star_draft.subject, turn.star_draft.body
    assert turn.state.pending is not None and turn.state.pending["kind"] == "star_confirm"
    assert turn.state.pending["body"] == body
    assert "førtidspension" in subject
    assert "Skal markøren have slutdato?" in body and "Testkommune" in body
    assert "Det siger den ikke:" in body and "Får førtidspension" in body


def test_router_redirects_and_back_returns_to_the_router(conversation: Conversation) -> None:
    state = conversation.new_state()
    turn = say(conversation, state, "2")
    assert [s.flow for s in turn.state.segments] == ["situation", "switch"]
    assert at(conversation, turn.state) == "current_marker"
    turn = conversation.back(turn.state, TODAY)
    assert [s.flow for s in turn.state.segments] == ["situation"] and at(conversation, turn.state) == "situation"


def test_redirect_with_carried_answers(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "fusm", "psychiatry_course": "yes",
                                              "current_start_date": "2025-10-12"})])
    turn = say(conversation, state, "12.10.2025")
    assert "forkert fra starten" in text_of(turn) and "taget dine svar med" in text_of(turn)
    assert turn.state.segments[-1].flow == "error" and turn.state.segments[-1].answers["correct_marker"] == "ips"
    # Nothing the switch already settled is asked again: the error flow decides at once.
    assert turn.decision is not None
    assert [(a["do"], a["marker_key"], a["date"]) for a in turn.decision.outcome["actions"]] == [
        ("end", "fusm", "2025-10-12"), ("create", "ips", "2025-10-12")]


def test_commands(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "ips"})])
    turn = say(conversation, state, "/hjælp")
    assert "Kilde: STARs vejledning" in text_of(turn) and at(conversation, turn.state) == "psychiatry_course"
    turn = say(conversation, turn.state, "/findesikke")
    assert "kender jeg ikke" in text_of(turn)
    turn = say(conversation, turn.state, "/tilbage")
    assert at(conversation, turn.state) == "current_marker"
    turn = say(conversation, turn.state, "/tilbage")
    assert "første spørgsmål" in text_of(turn)
    turn = say(conversation, DialogueState([Segment("switch", {"current_marker": "ips"})]), "/forfra")
    assert "Vil du starte forfra?" in text_of(turn) and turn.state.segments[0].flow == "switch"
    turn = say(conversation, turn.state, "ja")
    assert turn.state.segments == [Segment("situation")]
    turn = say(conversation, turn.state, "/star", "/annuller")
    assert turn.state.pending is None and "droppet" in text_of(turn)


def test_after_the_outcome_ny_starts_a_new_case(conversation: Conversation) -> None:
    state = DialogueState([Segment("move_out")])
    turn = say(conversation, state, "ja")
    assert turn.decision is not None
    turn = say(conversation, turn.state, "hvad nu")
    assert "starte en ny sag" in text_of(turn) and turn.decision is None
    assert [label for _, label in turn.replies[-1].options] == ["Hvorfor?", "Ret et svar", "Ny sag"]
    turn = say(conversation, turn.state, "ny")
    assert turn.state.segments == [Segment("situation")]


def test_restore_replays_and_drops_what_no_longer_applies(conversation: Conversation) -> None:
    state = DialogueState([Segment("situation", {"situation": "switch"}),
                           Segment("switch", {"current_marker": "ips", "psychiatry_course": "maybe",
                                              "current_start_date": "2025-01-01"})], step=7)
    restored = conversation.restore(state.to_dict(), TODAY)
    assert restored.segments[-1] == Segment("switch", {"current_marker": "ips"}) and restored.step == 7
    assert conversation.restore({"v": 999}, TODAY).segments == [Segment("situation")]
    assert conversation.restore(None, TODAY).segments == [Segment("situation")]


def test_restore_at_a_redirect_enters_the_target_flow(conversation: Conversation) -> None:
    stored = DialogueState([Segment("situation", {"situation": "leave"})]).to_dict()
    restored = conversation.restore(stored, TODAY)
    assert [s.flow for s in restored.segments] == ["situation", "leave"]


def test_cpr_in_any_typed_form_is_refused_before_it_is_read(conversation: Conversation) -> None:
    from tests.test_privacy import FOUND

    state = DialogueState([Segment("switch", {"current_marker": "fusm", "psychiatry_course": "yes"})])
    for typed in FOUND:
        turn = say(conversation, state, typed)
        assert turn.replies[0].kind == "error" and "CPR-nummer" in text_of(turn), typed
        assert "1234" not in text_of(turn) and "1234" not in str(turn.state.to_dict()), typed
        assert at(conversation, turn.state) == "current_start_date" and turn.state.pending is None


def test_a_weekday_that_does_not_match_is_asked_back_with_the_real_one(conversation: Conversation) -> None:
    state = DialogueState([Segment("leave", {"phase": "returns", "still_needs": "yes", "psychiatry_course": "no"})])
    turn = say(conversation, state, "mandag 3. februar 2026")
    assert "3. februar 2026 er en tirsdag, ikke en mandag" in text_of(turn)
    assert turn.decision is None and at(conversation, turn.state) == "resume_date"
    turn = say(conversation, turn.state, "tirsdag 3. februar 2026")
    assert turn.decision is not None and turn.decision.outcome["actions"][0]["date"] == "2026-02-03"


def test_an_error_repeats_a_long_answer_shortened(conversation: Conversation) -> None:
    """What the caseworker typed is repeated back, but a pasted page is not: its first 100 characters, then "…"."""
    from bot.chat.texts import ECHO_LIMIT

    (reply, *_) = say(conversation, DialogueState([Segment("situation")]), "hvad med " + "x" * 5000).replies
    assert "Jeg forstod ikke »hvad med xxx" in reply.text and "x" * ECHO_LIMIT not in reply.text
    assert "…«" in reply.text and len(reply.text) < 400


def test_a_question_as_asked_is_kept_by_its_text(rulebook: Rulebook, texts: Texts,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The same question with the same text is the same Reply; one that names an answer differs by that answer."""
    monkeypatch.setattr(conversation_module, "REPLIES_KEPT", 2)
    conversation = Conversation(rulebook, texts)

    def asked(answers: dict[str, str]) -> Reply:
        return conversation.current_step(DialogueState([Segment("switch", dict(answers))]), TODAY)[-1]

    ips = {"current_marker": "ips", "psychiatry_course": "no", "benefits_from_effort": "yes"}
    first = asked(ips)
    assert asked(ips) is first and "IPS" in first.text and first.kind == "question" and not first.options
    assert "Flere unge skal med" in asked({"current_marker": "fusm", "psychiatry_course": "yes"}).text
    options = asked({})
    assert options.options and options is asked({}) and len(conversation._replies) <= 2
    assert asked(ips) == first  # made again after the kept ones were cleared, the same
