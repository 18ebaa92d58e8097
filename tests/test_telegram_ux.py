"""Telegram as a Telegram user expects (#9): edits, internal errors, the menu per scope, deep links, the outcome's
buttons, /ret with buttons, and a restart at every kind of pending step — through the fake Bot API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from tests.fake_telegram import buttons, user
from tests.test_telegram import CASEWORKER, SUPPORT, Harness, texts


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")


def edited(user_id: int, text: str) -> dict[str, Any]:
    return {"edited_message": {"message_id": 5, "date": int(time.time()) - 60, "edit_date": int(time.time()),
                               "chat": {"id": user_id, "type": "private"}, "from": user(user_id), "text": text}}


async def walk_to_date(harness: Harness) -> dict[str, Any]:
    menu = (await harness.send("/start"))[-1]
    question = (await harness.click(menu, "Skifter målgruppe"))[-1]
    question = (await harness.click(question, "Ungeløftet – Flere unge skal med"))[-1]
    return (await harness.click(question, "Ja"))[-1]


async def test_an_edited_message_is_not_read_and_says_how_to_change_an_answer(private_database: Path) -> None:
    async with Harness(private_database) as harness:
        await walk_to_date(harness)
        sent = await harness._process(edited(CASEWORKER, "1.1.2026"))
        assert "rettede beskeder" in sent[-1]["text"] and "/ret" in sent[-1]["text"]
        assert "startdato har den nuværende markør" in sent[-1]["text"]  # and the question again, unchanged


async def test_an_internal_error_apologises_in_danish_and_loses_nothing(private_database: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async with Harness(private_database) as harness:
        await walk_to_date(harness)

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(harness.bot.conversation, "handle", broken)
        sent = await harness.send("12.10.2025")
        assert "Beklager" in sent[-1]["text"] and "startdato har den nuværende markør" in sent[-1]["text"]
        assert "Traceback" not in texts(sent)
        monkeypatch.undo()
        monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
        sent = await harness.send("12.10.2025")  # the answers before the error are all there
        assert "Fra hvilken dag hører den unge til den nye målgruppe?" in sent[-1]["text"]


async def test_the_menu_per_scope_and_the_description(private_database: Path) -> None:
    async with Harness(private_database) as harness:
        await harness.bot._post_init(harness.app)
        menus = harness.fake.called("setMyCommands")
        private = [m for m in menus if m["scope"]["type"] == "all_private_chats"]
        support = [m for m in menus if m["scope"] == {"type": "chat", "chat_id": SUPPORT}]
        assert len(private) == 1 and len(support) == 1
        assert "log" not in [c["command"] for c in private[0]["commands"]]
        assert {"ret", "hvorfor", "log"} <= {c["command"] for c in support[0]["commands"]}
        assert "sagsbehandlere" in harness.fake.called("setMyDescription")[0]["description"]
        assert len(harness.fake.called("setMyShortDescription")[0]["short_description"]) <= 120


async def test_a_deep_link_opens_its_flow_unless_a_case_is_in_progress(private_database: Path) -> None:
    async with Harness(private_database) as harness:
        sent = await harness.send("/start no_such_flow")
        assert "link kender jeg ikke" in sent[-1]["text"] and buttons(sent[-1])  # and the usual first question
        sent = await harness.send("/start move_out")
        assert "Ungebot" in sent[-1]["text"] and "Var den unge i job eller uddannelse" in sent[-1]["text"]
        outcome = (await harness.click(sent[-1], "Ja"))[-1]
        assert "fraflytter kommunen" in outcome["text"]
        sent = await harness.send("/start leave")  # a case already begun is never thrown away by a link
        assert "sag i gang" in sent[-1]["text"] and "fraflytter kommunen" in sent[-1]["text"]


@pytest.mark.parametrize("pending", ["far_date", "restart", "amend_pick", "star_draft"])
async def test_a_restart_shows_the_recap_and_exactly_the_pending_step(private_database: Path,
                                                                      pending: str) -> None:
    async with Harness(private_database) as harness:
        question = await walk_to_date(harness)
        if pending == "far_date":
            await harness.send("12.10.2025")
            await harness.send("1.3.2027")
            expect = "1. marts 2027 ligger mere end et år frem"
        elif pending == "restart":
            await harness.send("/forfra")
            expect = "Vil du starte forfra?"
        elif pending == "amend_pick":
            await harness.send("/ret")
            expect = "Hvilket svar vil du ændre?"
        else:
            await harness.send("/star Gælder reglen også ved skift midt i måneden?")
            expect = "Gælder reglen også ved skift midt i måneden?"
        assert question
        next_update = harness.fake._next_update
    async with Harness(private_database) as harness:  # a new process on the same database
        harness.fake._next_update = next_update  # update ids go on
        sent = await harness.send("/start")
        assert "Du fortsætter sagen fra sidst" in texts(sent) and expect in sent[-1]["text"]
        assert buttons(sent[-1])  # the pending step's own choices
