"""Drafts for STAR that tell the truth: the municipality asked once and kept, the e-mail in the municipality's voice,
"Noget andet" keeps the caseworker's words, a declined draft saved, changed, sent later or deleted; the FAQ finds
Danish word forms and shows the question each answer answers."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment, Turn
from bot.chat.texts import Texts, to_plain
from bot.config import read_mail_settings
from bot.desk.star import StarDesk, attach_draft
from flows.engine import Rulebook
from storage import star
from storage.db import open_database
from storage.records import Staff

TODAY = date(2026, 1, 15)
STAFF = Staff("telegram", "111", "Anna")


class Chat:
    """A conversation over a real database, storing drafts as a channel does."""

    def __init__(self, rulebook: Rulebook, texts: Texts, path: Path, municipality: str = "") -> None:
        self.desk = StarDesk(open_database(path), read_mail_settings(environ={}))
        self.conversation = Conversation(rulebook, texts, municipality, answers=self.desk)
        self.state = self.conversation.new_state()

    def say(self, *lines: str) -> Turn:
        for line in lines:
            turn = self.conversation.handle(self.state, line, TODAY)
            attach_draft(self.desk, STAFF, turn)
            self.state = turn.state
        return turn

    def text(self, turn: Turn) -> str:
        return "\n".join(to_plain(reply.text) for reply in turn.replies)


def test_the_municipality_is_asked_once_and_kept(rulebook: Rulebook, texts: Texts, private_database: Path) -> None:
    chat = Chat(rulebook, texts, private_database)
    turn = chat.say("/star")
    assert "Hvilken kommune skriver du fra?" in chat.text(turn)
    assert "kun bogstaver" in chat.text(chat.say("1234"))  # asked again
    turn = chat.say("aarhus")
    assert "underskrives nu »Aarhus Kommune«" in chat.text(turn) and "Skriv dit spørgsmål" in chat.text(turn)
    body = chat.text(chat.say("Hvornår slutter markøren?"))
    assert body.rstrip().count("Aarhus Kommune") == 1 and "kommune ikke angivet" not in body
    later = Chat(rulebook, texts, private_database)  # another process, the same database: not asked again
    assert "Med venlig hilsen\nAarhus Kommune" in later.text(later.say("/star Et spørgsmål"))


def test_the_email_speaks_for_the_municipality(rulebook: Rulebook, texts: Texts, private_database: Path) -> None:
    chat = Chat(rulebook, texts, private_database, "Æbeltoft Kommune")
    state = DialogueState([Segment("move_out", {})])
    chat.state = state
    position = chat.conversation.position(state, TODAY)
    assert position.question is not None
    chat.say("/star Hvad gør vi?")
    draft = star.find(chat.desk.conn)[0]
    chat.state = DialogueState([Segment("early_pension", {})])
    chat.say("/star Skal markøren slutte?")
    pension = star.find(chat.desk.conn)[0]
    for body in (draft["body"], pension["body"]):
        assert not re.search(r"\b(du|dig|din|dit|dine|jeres)\b", body, re.IGNORECASE), body
        assert "jeg" not in body.lower().split() and "lånes her" not in body and "sagsbehandler" not in body.lower()
        assert body.startswith("Kære STAR") and body.rstrip().endswith("Æbeltoft Kommune")
    assert "Vores spørgsmål:\nSkal markøren slutte?" in pension["body"]
    assert "Det siger den ikke: Om vi skal sætte en slutdato" in pension["body"]


def test_noget_andet_keeps_the_caseworkers_words(rulebook: Rulebook, texts: Texts, private_database: Path) -> None:
    chat = Chat(rulebook, texts, private_database, "Testkommune")
    turn = chat.say("Noget andet")
    assert "Beskriv situationen med dine egne ord" in chat.text(turn)
    turn = chat.say("Den unge er udsendt med Forsvaret i et halvt år")
    assert "Udkast til spørgsmål" in chat.text(turn)
    (question,) = star.find(chat.desk.conn)
    assert question["words"] == "Den unge er udsendt med Forsvaret i et halvt år"
    assert "Den unge er udsendt med Forsvaret i et halvt år" in question["body"]


def test_a_declined_draft_is_kept_changed_sent_later_or_deleted(rulebook: Rulebook, texts: Texts,
                                                               private_database: Path) -> None:
    chat = Chat(rulebook, texts, private_database, "Testkommune")
    chat.say("/star Første udgave")
    turn = chat.say("Gem til senere")
    (saved,) = star.find(chat.desk.conn)
    assert saved["status"] == "draft" and f"gemt som nr. {saved['id']}" in chat.text(turn)
    assert chat.state.star_drafts == [str(saved["id"])]
    turn = chat.say("/forfra", "/star")  # a new case; the saved draft comes back
    assert "Første udgave" in chat.text(turn) and chat.state.pending is not None
    assert {k: chat.state.pending[k] for k in ("kind", "question")} == {"kind": "star_confirm",
                                                                         "question": str(saved["id"])}
    turn = chat.say("Ret teksten", "Anden udgave")
    (changed,) = star.find(chat.desk.conn)  # the same question, changed
    assert changed["id"] == saved["id"] and changed["words"] == "Anden udgave" and "Anden udgave" in changed["body"]
    turn = chat.say("Send til STAR")
    assert turn.star_send == saved["id"]
    chat.say("/star Et andet spørgsmål")
    turn = chat.say("Slet udkastet")
    assert "slettet" in chat.text(turn) and [q["id"] for q in star.find(chat.desk.conn)] == [saved["id"]]


@pytest.mark.parametrize("words", ["barsel", "barselsorlov", "barslen", "Barselsperioden"])
def test_the_faq_finds_danish_word_forms(rulebook: Rulebook, texts: Texts, private_database: Path,
                                         words: str) -> None:
    chat = Chat(rulebook, texts, private_database, "Testkommune")
    draft = star.Draft("Spørgsmål: barsel", "Krop", "Hvad gør vi, når barslen begynder før markøren?",
                       "Den unge går på barsel", "leave", "X-11", "ungeloeftet")
    question = chat.desk.store_draft(STAFF, draft)
    chat.desk.hand_over(question)
    star.record_answer(chat.desk.conn, question, "Opret ingen markør før barslen er slut.", "support")
    text = chat.text(chat.say(f"/faq {words}"))
    assert "Opret ingen markør før barslen er slut." in text
    assert "Spørgsmålet: Hvad gør vi, når barslen begynder før markøren?" in text
    assert f"STARs svar ({TODAY.day}. " not in text and "STARs svar (" in text  # the day it was recorded
    assert "ingen svar" in chat.text(chat.say("/faq udrejse"))
