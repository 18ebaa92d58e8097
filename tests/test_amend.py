"""Changing answers in the turn layer: /ret keeps what still applies and names what it drops, /tilbage names what it
removed, /forfra asks first, "Hvorfor?" on every outcome, and one way of reading a choice."""

from __future__ import annotations

from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment
from tests.test_conversation import TODAY, say, text_of

SWITCH = {"current_marker": "fusm", "psychiatry_course": "yes", "current_start_date": "2025-10-12",
          "new_start_date": "2026-02-01"}




def switch_state() -> DialogueState:
    return DialogueState([Segment("situation", {"situation": "switch"}), Segment("switch", dict(SWITCH))])


def test_ret_lists_the_answers_and_keeps_later_answers_that_still_apply(conversation: Conversation) -> None:
    turn = say(conversation, switch_state(), "/ret")
    labels = [label for _, label in turn.replies[-1].options]
    assert labels[0] == "Hvad er der sket med den unge? – Skifter målgruppe (IPS ↔ Flere unge skal med)"
    assert labels[-1] == "Fra hvilken dag hører den unge til den nye målgruppe? – 1. februar 2026"
    turn = say(conversation, turn.state, "5", "1.3.2026")  # change only the new start date
    assert turn.decision is not None and turn.decision.outcome["actions"][0]["date"] == "2026-02-28"
    assert "fjernet" not in text_of(turn)
    assert turn.state.segments[-1].answers["current_start_date"] == "2025-10-12"  # kept: still on the path


def test_ret_names_the_answers_that_no_longer_apply(conversation: Conversation) -> None:
    turn = say(conversation, switch_state(), "/ret", "2", "ips")
    text = text_of(turn)
    assert "Jeg har ændret dit svar på »Hvilken markør har den unge nu?« til Ungeløftet – IPS" in text
    assert "Jeg har fjernet dit svar på »Fra hvilken dag hører den unge til den nye målgruppe?« (1. februar 2026)" in text
    assert turn.decision is not None and turn.decision.outcome["outcome"] == "still_ips"


def test_ret_to_another_situation_drops_the_old_flow(conversation: Conversation) -> None:
    turn = say(conversation, switch_state(), "/ret", "1", "move_out")
    assert turn.state.segments[-1].flow == "move_out" and len(turn.state.segments) == 2
    assert "Jeg har fjernet dit svar på »Hvilken markør har den unge nu?«" in text_of(turn)


def test_tilbage_names_the_answer_it_removed(conversation: Conversation) -> None:
    state = DialogueState([Segment("situation", {"situation": "switch"}), Segment("switch", {"current_marker": "ips"})])
    turn = say(conversation, state, "/tilbage")
    assert "Jeg har fjernet dit svar på »Hvilken markør har den unge nu?« (Ungeløftet – IPS)" in text_of(turn)
    turn = say(conversation, turn.state, "/tilbage")  # leaving the flow: the situation answer goes
    assert "Skifter målgruppe" in text_of(turn) and turn.state.segments == [Segment("situation")]


def test_tilbage_over_a_hand_over_skips_the_carried_answers(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {**SWITCH, "new_start_date": "2025-10-12"}),
                           Segment("error", {"wrong_marker": "fusm", "wrong_start_date": "2025-10-12"})])
    turn = say(conversation, state, "/tilbage")
    assert "Fra hvilken dag hører den unge til den nye målgruppe?" in text_of(turn)
    assert [segment.flow for segment in turn.state.segments] == ["switch"]


def test_forfra_asks_first_and_no_keeps_the_case(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {"current_marker": "ips"})])
    turn = say(conversation, state, "/forfra")
    assert "Vil du starte forfra?" in text_of(turn)
    turn = say(conversation, turn.state, "nej tak")
    assert turn.state.segments == [Segment("switch", {"current_marker": "ips"})] and turn.state.pending is None
    assert say(conversation, DialogueState([Segment("situation")]), "/forfra").state.pending is None  # nothing to lose


def test_every_outcome_offers_why(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {k: v for k, v in SWITCH.items() if k != "new_start_date"})])
    turn = say(conversation, state, "1.2.2026")
    assert [label for _, label in turn.replies[-1].options] == ["Hvorfor?", "Ret et svar", "Ny sag"]
    why = text_of(say(conversation, turn.state, "hvorfor"))
    assert "ny startdato 1. februar 2026 − 1 dag = slutdato 31. januar 2026" in why
    assert why == text_of(say(conversation, turn.state, "/hvorfor"))
    assert "når du har svaret" in text_of(say(conversation, DialogueState([Segment("switch")]), "/hvorfor"))


def test_choices_are_read_one_way_and_ambiguity_is_asked_back(conversation: Conversation) -> None:
    state = DialogueState([Segment("move_out", {"in_job_or_education": "no"})])
    turn = say(conversation, state, "ikke")
    assert "kan betyde flere af svarene" in text_of(turn)
    assert turn.state.segments[-1].answers == {"in_job_or_education": "no"}
    for typed, value in (("2)", "no"), ("2.", "no"), ("nope", "no"), ("ikke endnu", "not_yet")):
        answered = say(conversation, DialogueState([Segment("move_out", {"in_job_or_education": "no"})]), typed)
        assert answered.state.segments[-1].answers["job_or_education_within_3_months"] == value


def test_an_empty_message_asks_the_open_step_again(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch")])
    turn = say(conversation, state, "")
    assert "Hvilken markør har den unge nu?" in text_of(turn) and turn.state.segments == [Segment("switch")]
    turn = say(conversation, state, "/slut")
    assert turn.ends and "Farvel" in text_of(turn)



def test_a_hand_over_shows_what_it_carried_and_does_not_ask_it(conversation: Conversation) -> None:
    state = DialogueState([Segment("switch", {k: v for k, v in SWITCH.items() if k != "new_start_date"})])
    turn = say(conversation, state, "12.10.2025")
    text = text_of(turn)
    assert "• Hvilken markør blev oprettet ved en fejl? – Ungeløftet – Flere unge skal med" in text
    assert "Skal der oprettes en korrekt markør i stedet?" in text  # the first question not answered before
