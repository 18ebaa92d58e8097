"""The Telegram adapter driven through Application.process_update with an offline request object."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.config import Settings, read_mail_settings
from bot.channels.telegram.app import TelegramBot
from bot.channels.telegram.ui import callback, parse_callback, split_message
from storage.db import open_database

from tests.fake_telegram import FakeTelegram, OfflineRequest, buttons, callback_update, message_update, press

CASEWORKER, SUPPORT, STRANGER = 111, 999, 555


class Harness:
    """One bot with an offline Bot API; send() and click() return the messages the bot sent in reply."""

    def __init__(self, db_path: Path, rate_limiter: bool = False) -> None:
        self.fake = FakeTelegram()
        self.db_path = db_path
        settings = Settings(token="123:TEST", api_url=None, allowed_users=frozenset({CASEWORKER}),
                            support_users=frozenset({SUPPORT}), database=db_path, municipality="Testkommune")
        mail = read_mail_settings(environ={"UNGEBOT_OUTBOX": str(db_path.parent / "outbox")})
        self.bot = TelegramBot(settings, db=open_database(db_path), mail=mail)
        request = OfflineRequest(self.fake)
        self.app = self.bot.build(request=request, updates_request=request, rate_limiter=rate_limiter)

    async def __aenter__(self) -> "Harness":
        await self.app.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()

    async def _process(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.fake.outbox)
        if "update_id" not in update:
            update["update_id"] = self.fake.next_update_id()
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.fake.outbox[before:]

    async def send(self, text: str | None, user_id: int = CASEWORKER, **kw: Any) -> list[dict[str, Any]]:
        return await self._process(message_update(user_id, text, **kw))

    async def click(self, message: dict[str, Any], label: str, user_id: int = CASEWORKER) -> list[dict[str, Any]]:
        return await self.click_data(message, press(message, label), user_id)

    async def click_data(self, message: dict[str, Any], data: str, user_id: int = CASEWORKER) -> list[dict[str, Any]]:
        """Press a button by its callback data: a client may still show a keyboard the bot has since removed."""
        return await self._process(callback_update(user_id, data, message))

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return sqlite3.connect(self.db_path).execute(sql).fetchall()


@pytest.fixture
async def harness(private_database: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    async with Harness(private_database) as h:
        yield h


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(message["text"] for message in messages)


async def test_start_shows_the_situations_as_buttons(harness: Harness) -> None:
    sent = await harness.send("/start")
    assert len(sent) == 1 and "Ungebot" in sent[0]["text"] and "Hvad er der sket" in sent[0]["text"]
    labels = [label for label, _ in buttons(sent[-1])]
    assert labels[0] == "Starter et forløb" and len(labels) == 10
    assert all(len(data.encode()) <= 64 for _, data in buttons(sent[-1]))


async def test_a_whole_switch_dialogue_with_buttons_and_typed_dates(harness: Harness) -> None:
    sent = await harness.send("/start")
    sent = await harness.click(sent[-1], "Skifter målgruppe")
    assert "Hvilken markør har den unge nu?" in sent[-1]["text"]
    sent = await harness.click(sent[-1], "Ungeløftet – Flere unge skal med")
    sent = await harness.click(sent[-1], "Ja")
    sent = await harness.send("12.10.2025")
    assert [label for label, _ in buttons(sent[-1])] == ["I dag", "↩ Tilbage"]
    sent = await harness.send("1/2-26")
    outcome = sent[0]
    assert len(sent) == 1, "the outcome is one message"
    assert "Sæt slutdato <b>31. januar 2026</b> på markøren »Ungeløftet – Flere unge skal med«" in outcome["text"]
    assert "Opret markøren »Ungeløftet – IPS« med startdato <b>1. februar 2026</b>" in outcome["text"]
    assert "Indsatsgruppen" in outcome["text"] and "Kilde" in outcome["text"]
    assert [label for label, _ in buttons(outcome)] == ["Hvorfor?", "Ret et svar", "Ny sag", "↩ Tilbage", "Spørg STAR"]
    rows = harness.rows("select channel, staff_id, staff_name, flow, outcome from decisions")
    assert len(rows) == 1 and rows[0][:4] == ("telegram", str(CASEWORKER), f"Sagsbehandler {CASEWORKER}", "switch")
    assert [a["date"] for a in json.loads(rows[0][4])["actions"]] == ["2026-01-31", "2026-02-01"]
    # Each pressed question was replaced in place by the chosen answer and the next question.
    edits = harness.fake.called("editMessageText")
    assert edits[1]["text"].startswith("<i>✓ Ungeløftet – Flere unge skal med</i>\n\nHar den unge nu et forløb")
    assert len(harness.fake.called("sendMessage")) == 3, "one message per typed turn, edits for presses"
    why = await harness.click(outcome, "Hvorfor?")  # the outcome's own buttons (#9)
    assert "1. februar 2026 − 1 dag = slutdato" in why[-1]["text"]
    amend = await harness.click(why[-1], "Ret et svar")
    assert "Ungeløftet – Flere unge skal med" in " ".join(label for label, _ in buttons(amend[-1]))


async def test_a_press_is_read_against_the_buttons_the_last_reply_showed(harness: Harness,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The options of the last reply are kept with the state, so a press is not answered by making the question's
    texts again to find them; after a restart (nothing kept) they are found again, with the same result."""
    sent = await harness.send("/start")
    found: list[int] = []
    original = harness.bot.conversation.current_options
    monkeypatch.setattr(harness.bot.conversation, "current_options",
                        lambda *args, **kw: found.append(1) or original(*args, **kw))
    sent = await harness.click(sent[-1], "Skifter målgruppe")
    assert "Hvilken markør har den unge nu?" in sent[-1]["text"] and found == []
    harness.bot._states.clear()  # as after a restart
    sent = await harness.click(sent[-1], "Ungeløftet – Flere unge skal med")
    assert "forløb i psykiatrien" in sent[-1]["text"] and found == [1]


async def test_the_state_kept_between_turns_is_the_state_as_committed(harness: Harness) -> None:
    """The next turn compares its state with the one kept to decide whether to write it: they must be equal to what
    was committed, also after a decision was logged and after an amended answer replaced one."""
    def kept() -> tuple[Any, Any]:
        _, state, as_dict, _ = harness.bot._states[str(CASEWORKER)]
        return as_dict, state.to_dict()

    sent = await harness.send("/start")
    for label in ("Skifter målgruppe", "Ungeløftet – Flere unge skal med", "Ja"):
        sent = await harness.click(sent[-1], label)
    await harness.send("12.10.2025")
    sent = await harness.send("1/2-26")
    first, now = kept()
    assert first == now and first["decision_id"] == harness.rows("SELECT max(id) FROM decisions")[0][0]
    sent = await harness.click(sent[-1], "Ret et svar")
    await harness.click(sent[-1], buttons(sent[-1])[3][0])  # the current marker's start date
    await harness.send("13.10.2025")  # the outcome again, with the amended answer: the first decision is replaced
    second, now = kept()
    assert second == now and "replaced" not in second and second["decision_id"] != first["decision_id"]
    assert harness.rows("SELECT count(*) FROM replaced_decisions")[0][0] == 1


async def test_an_answer_is_one_row_with_its_reply_and_how_far_replies_were_sent(harness: Harness) -> None:
    from storage.inbox import unsent

    sent = await harness.send("/start")
    sent = await harness.click(sent[-1], "Skifter målgruppe")
    ((update_id, seq, through, reply),) = harness.rows(
        "SELECT reply_update, reply_seq, sent_through, reply FROM dialogues WHERE channel = 'telegram'")
    assert seq == 2 and through == 1  # the welcome (reply 1) had been sent when this answer was committed
    assert update_id == harness.fake.next_update_id() - 1  # the press's
    ((number, stored),) = unsent(harness.bot.db, through)  # what a restart now would send again: this reply only
    assert number == 2 and json.loads(stored)["text"] == sent[-1]["text"]
    assert json.loads(stored)["edit"] == sent[-1]["message_id"]  # the pressed question, replaced in place
    assert harness.rows("SELECT count(*) FROM telegram_inbox") == [(0,)]


async def test_answers_that_arrive_together_share_a_commit_and_one_alone_commits_at_once(harness: Harness) -> None:
    """A polled batch's updates are all waiting for their answers: their commits are grouped; an update with no
    other waiting is committed in its handler, without a pass of the event loop."""
    harness.bot.settings = replace(harness.bot.settings, allowed_users=frozenset({CASEWORKER, 112}))
    updates = [message_update(user, "/start", update_id=harness.fake.next_update_id()) for user in (CASEWORKER, 112)]
    harness.bot.receipts.receive([(update["update_id"], json.dumps(update)) for update in updates])
    commits = harness.bot.journal.commits
    await asyncio.gather(*(harness.app.process_update(Update.de_json(update, harness.app.bot)) for update in updates))
    assert harness.bot.journal.commits == commits + 1 and harness.rows("select count(*) from dialogues") == [(2,)]
    alone = message_update(CASEWORKER, "/hjaelp", update_id=harness.fake.next_update_id())
    harness.bot.receipts.receive([(alone["update_id"], json.dumps(alone))])
    passes: list[str] = []
    seen_at_commit: list[list[str]] = []
    flush = harness.bot.journal.flush
    harness.bot.journal.flush = lambda: (seen_at_commit.append(list(passes)), flush())  # type: ignore[method-assign]
    asyncio.get_running_loop().call_soon(passes.append, "a pass of the loop")
    await harness.bot._on_text(Update.de_json(alone, harness.app.bot), None)  # type: ignore[arg-type]
    assert harness.bot.journal.commits == commits + 2 and seen_at_commit == [[]]


async def test_every_callback_query_is_answered(harness: Harness) -> None:
    sent = await harness.send("/start")
    sent = await harness.click(sent[-1], "Flytter til en anden kommune")
    sent = await harness.click(sent[-1], "Nej")
    await harness.click(sent[-1], "Ikke endnu")
    assert len(harness.fake.called("answerCallbackQuery")) == 3


async def test_a_reply_does_not_wait_for_the_press_to_be_acknowledged(harness: Harness,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram is a round trip away: the acknowledgement of a press goes out alongside the reply, not before it."""
    replied = asyncio.Event()
    original = OfflineRequest.do_request

    async def do_request(self: OfflineRequest, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if url.endswith("/answerCallbackQuery"):  # a slow acknowledgement: done only once the reply has gone
            await asyncio.wait_for(replied.wait(), 2)
        result = await original(self, url, *args, **kwargs)
        if url.endswith(("/editMessageText", "/sendMessage")):
            replied.set()
        return result

    menu = (await harness.send("/start"))[-1]
    monkeypatch.setattr(OfflineRequest, "do_request", do_request)
    before = len(harness.fake.calls)
    await harness.click(menu, "Får førtidspension")
    assert [name for name, _ in harness.fake.calls[before:]] == ["editMessageText", "answerCallbackQuery"]
    assert harness.rows("select flow from decisions") == [("early_pension",)]


@pytest.mark.parametrize("part", ["_load", "conversation.choose", "attach_draft", "compose", "journal.durable",
                                  "deliver"])
async def test_a_press_is_acknowledged_exactly_once_whatever_part_of_its_answer_fails(
        harness: Harness, monkeypatch: pytest.MonkeyPatch, part: str) -> None:
    from bot.channels.telegram import answering

    menu = (await harness.send("/start"))[-1]
    owner: Any = {"conversation": harness.bot.conversation, "journal": harness.bot.journal}.get(
        part.split(".")[0], harness.bot if part.startswith("_") else answering)
    name = part.split(".")[-1]
    original, failed = getattr(owner, name), []

    def once(*args: Any, **kwargs: Any) -> Any:  # the first call fails (the error handler's own calls then work)
        if not failed:
            failed.append(part)
            raise RuntimeError("a bug")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, once)
    sent = await harness.click(menu, "Får førtidspension")
    assert failed and len(harness.fake.called("answerCallbackQuery")) == 1  # the client's spinner stops, once
    assert "Beklager" in sent[-1]["text"]  # the apology (and, where it can be shown, the question again)
    assert harness.rows("select count(*) from decisions") == [(0 if part != "deliver" else 1,)]


async def test_stale_button_is_harmless_and_shows_the_current_question(harness: Harness) -> None:
    first = (await harness.send("/start"))[-1]
    old_button = press(first, "Flytter til en anden kommune")
    await harness.click(first, "Går på barsel")
    sent = await harness.click_data(first, old_button)  # an old message's button
    assert "gået videre" in texts(sent) and "Går den unge på barsel" in sent[-1]["text"]
    state = harness.rows("select state from dialogues")[0][0]
    assert "move_out" not in state and "leave" in state
    assert harness.fake.called("answerCallbackQuery")[-1].get("text") == "Sagen er gået videre"


async def test_a_double_press_counts_once(harness: Harness) -> None:
    question = (await harness.send("/start"))[-1]
    data = press(question, "Starter et forløb")
    await harness.click_data(question, data)
    sent = await harness.click_data(question, data)
    assert "Er den unge mellem 15 og 29 år?" in sent[-1]["text"]
    state = json.loads(harness.rows("select state from dialogues")[0][0])
    assert [segment["flow"] for segment in state["segments"]] == ["situation", "start"]
    assert state["segments"][1]["answers"] == []


async def test_an_edit_that_fails_falls_back_to_a_new_message(harness: Harness) -> None:
    harness.fake.fail("editMessageText", 400, "Bad Request: message to edit not found")
    sent = await harness.click((await harness.send("/start"))[-1], "Går på barsel")
    assert "Går den unge på barsel" in sent[-1]["text"] and harness.fake.called("sendMessage")


async def test_message_is_not_modified_is_harmless(harness: Harness) -> None:
    harness.fake.fail("editMessageText", 400, "Bad Request: message is not modified: specified new message "
                      "content and reply markup are exactly the same")
    menu = (await harness.send("/start"))[-1]
    before = len(harness.fake.calls)
    await harness.click(menu, "Får førtidspension")
    assert sorted(name for name, _ in harness.fake.calls[before:]) == ["answerCallbackQuery", "editMessageText"]
    assert harness.rows("select flow from decisions") == [("early_pension",)]


async def test_a_network_error_loses_no_answer(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.channels.telegram import send

    monkeypatch.setattr(send, "NETWORK_RETRIES", (0.01, 0.01))
    question = (await harness.send("/start"))[-1]
    harness.fake.raise_network["editMessageText"] = 1
    harness.fake.raise_network["sendMessage"] = 1
    sent = await harness.click(question, "Går på barsel")  # the edit failed; the send instead succeeds on a retry
    assert len(sent) == 1 and "Går den unge på barsel" in sent[0]["text"]
    question = (await harness.send("/tilbage"))[-1]
    harness.fake.raise_network["editMessageText"] = 1
    harness.fake.raise_network["sendMessage"] = 3
    assert await harness.click(question, "Går på barsel") == []  # Telegram unreachable through every retry
    state = json.loads(harness.rows("select state from dialogues")[0][0])
    assert state["segments"][0]["answers"] == [["situation", "leave"]]
    sent = await harness.send("hej")  # anything brings back the current question
    assert "Går den unge på barsel, eller kommer den unge tilbage" in sent[-1]["text"]


async def test_a_redelivered_update_is_not_applied_twice(harness: Harness) -> None:
    await harness.send("/start")
    await harness._process(message_update(CASEWORKER, "3", update_id=500))
    sent = await harness._process(message_update(CASEWORKER, "3", update_id=500))
    assert "Var den unge i job eller uddannelse" in sent[-1]["text"]
    state = json.loads(harness.rows("select state from dialogues")[0][0])
    assert state["segments"][-1] == {"flow": "move_out", "answers": []}


async def test_a_stranger_gets_one_refusal_and_nothing_is_stored(harness: Harness) -> None:
    first = await harness.send("/start", user_id=STRANGER)
    second = await harness.send("hallo?", user_id=STRANGER)
    assert "kun for kommunens sagsbehandlere" in texts(first) and second == []
    assert harness.rows("select count(*) from dialogues")[0][0] == 0
    await harness._process(callback_update(STRANGER, callback(0, "a", "0"), {
        "message_id": 1, "date": 0, "chat": {"id": STRANGER, "type": "private"}, "text": "x"}))
    assert "kun for kommunens sagsbehandlere" in harness.fake.called("answerCallbackQuery")[-1]["text"]
    assert harness.rows("select count(*) from dialogues")[0][0] == 0


async def test_support_staff_get_in(harness: Harness) -> None:
    sent = await harness.send("/start", user_id=SUPPORT)
    assert "Hvad er der sket med den unge?" in sent[-1]["text"]


async def test_only_private_chats(harness: Harness) -> None:
    sent = await harness.send("/start", chat_type="group")
    assert "kun i private chats" in texts(sent)
    assert harness.rows("select count(*) from dialogues")[0][0] == 0


async def test_cpr_number_is_refused_never_echoed_never_stored(harness: Harness) -> None:
    await harness.send("/start")
    sent = await harness.send("Den unge har 010203-1234")
    assert "CPR-nummer" in texts(sent) and "010203-1234" not in texts(sent)
    assert "010203" not in harness.rows("select state from dialogues")[0][0]
    sent = await harness.send("/star")
    sent = await harness.send("Kan vi det? 0102031234")
    assert "CPR-nummer" in texts(sent) and "0102031234" not in texts(sent)
    assert all("0102031234" not in str(params) for _, params in harness.fake.calls)


async def test_not_text_is_answered_kindly(harness: Harness) -> None:
    sent = await harness.send(None, sticker=True)
    assert "kan kun læse tekst" in texts(sent)


async def test_today_button_and_far_date_confirmation(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-03-10")
    sent = await harness.send("/start")
    for label in ("Starter et forløb", "Ja", "Ja", "Ja", "Nej, ingen", "Ja"):
        sent = await harness.click(sent[-1], label)
    sent = await harness.click(sent[-1], "I dag")
    assert "startdato <b>10. marts 2026</b>" in sent[0]["text"]
    sent = await harness.click(sent[0], "↩ Tilbage")
    sent = await harness.send("1.1.2020")
    assert "mere end et år tilbage" in sent[-1]["text"]
    sent = await harness.click(sent[-1], "Ja")
    assert "startdato <b>1. januar 2020</b>" in sent[0]["text"] and "mere end et år tilbage" in sent[0]["text"]


async def test_a_restart_at_a_far_date_shows_the_recap_and_that_date(harness: Harness) -> None:
    sent = await harness.send("/start")
    for label in ("Skifter målgruppe", "Ungeløftet – Flere unge skal med", "Ja"):
        sent = await harness.click(sent[-1], label)
    await harness.send("12.10.2025")
    assert "1. marts 2027 ligger mere end et år frem" in texts(await harness.send("1.3.2027"))
    async with Harness(harness.db_path) as restarted:  # a new process on the same database
        restarted.fake._next_update = harness.fake._next_update  # update ids go on
        sent = await restarted.send("/start")
        shown = texts(sent)
        assert "Du fortsætter sagen fra sidst: Den unge skifter målgruppe" in shown and "12. oktober 2025" in shown
        assert "1. marts 2027 ligger mere end et år frem" in sent[-1]["text"]
        assert [label for label, _ in buttons(sent[-1])][:2] == ["Ja", "Nej"]
        sent = await restarted.click(sent[-1], "Ja")  # confirms the date on the screen
        assert "Sæt slutdato <b>28. februar 2027</b>" in texts(sent) and "startdato <b>1. marts 2027</b>" in texts(sent)


async def test_a_restart_at_a_star_draft_shows_it_in_full_before_sending(harness: Harness) -> None:
    sent = await harness.click((await harness.send("/start"))[-1], "Forløbet slutter")
    sent = await harness.click(sent[-1], "Spørg STAR")
    await harness.send("Skal markøren have en slutdato, når den unge er i job?")
    async with Harness(harness.db_path) as restarted:
        restarted.fake._next_update = harness.fake._next_update  # update ids go on
        sent = await restarted.send("/start")
        assert "Skal markøren have en slutdato, når den unge er i job?" in sent[-1]["text"]
        assert "star@star.dk" in sent[-1]["text"]
        sent = await restarted.click(sent[-1], "Send til STAR")
    assert harness.rows("select status from star_questions") == [("handed_over",)]


async def test_outcome_buttons_new_case_and_star(harness: Harness) -> None:
    sent = await harness.click((await harness.send("/start"))[-1], "Forløbet slutter")
    sent = await harness.click(sent[-1], "Spørg STAR")
    assert "Skriv dit spørgsmål til STAR" in sent[-1]["text"]
    sent = await harness.send("Skal markøren have en slutdato, når den unge er i job?")
    draft = sent[0]
    assert "star@star.dk" in draft["text"] and "Testkommune" in draft["text"]
    assert harness.rows("select status, gap from star_questions") == [("draft", "X-13")]
    sent = await harness.click(draft, "Send til STAR")
    assert "send det fra din egen mail til star@star.dk" in sent[-1]["text"]
    assert harness.rows("select status, sent_via from star_questions") == [("handed_over", "mailto")]
    assert "reply_markup" not in harness.fake.messages[draft["message_id"]], "the draft cannot be sent twice"
    sent = await harness.click(sent[-1], "Ny sag")
    assert "Hvad er der sket med den unge?" in sent[-1]["text"]


async def test_a_question_confirmed_for_star_is_queued_in_the_commit_of_the_confirmation(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SMTP, the background sender sends what is queued: the question goes into the outbox in the same commit
    as the answer that confirmed it, so a crash right after that commit cannot leave it a draft nobody sends."""
    mail = read_mail_settings(environ={"UNGEBOT_OUTBOX": str(harness.db_path.parent / "outbox"),
                                       "UNGEBOT_SMTP_HOST": "127.0.0.1", "UNGEBOT_SMTP_FROM": "ungebot@testkommune.dk"})
    harness.bot.mail = harness.bot.star.mail = mail
    sent = await harness.click((await harness.send("/start"))[-1], "Forløbet slutter")
    sent = await harness.click(sent[-1], "Spørg STAR")
    draft = (await harness.send("Skal markøren have en slutdato, når den unge er i job?"))[0]

    async def killed(*args: Any) -> None:  # the process dies right after the commit, before anything is sent
        raise SystemError("killed")

    monkeypatch.setattr(harness.bot, "_send_to_star", killed)
    await harness.click(draft, "Send til STAR")
    assert harness.rows("SELECT status FROM star_questions") == [("queued",)]
    assert harness.rows("SELECT count(*) FROM star_outbox") == [(1,)]


async def test_commands_registered_with_danish_descriptions(harness: Harness) -> None:
    await harness.bot._post_init(harness.app)
    commands = harness.fake.called("setMyCommands")[0]["commands"]  # caseworkers' menu, all private chats
    assert [c["command"] for c in commands] == ["start", "ret", "tilbage", "hvorfor", "forfra", "hjaelp", "star", "faq",
                                                "program", "laer"]
    assert all(c["description"] and c["description"][0].isupper() for c in commands)


async def test_help_command_both_spellings(harness: Harness) -> None:
    await harness.send("/start")
    for command in ("/hjælp", "/hjaelp@ungebot_test_bot"):
        sent = await harness.send(command)
        assert "Kilde: STARs vejledning" in texts(sent)


async def test_no_dialogue_data_is_kept_in_memory(harness: Harness) -> None:
    sent = await harness.send("/start")
    await harness.click(sent[-1], "Skifter målgruppe")
    assert not harness.app.user_data and not harness.app.chat_data


async def test_429_is_retried_by_the_rate_limiter(private_database: Path) -> None:
    async with Harness(private_database, rate_limiter=True) as h:
        h.fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", {"retry_after": 1})
        sent = await h.send("/start")
        assert any("Hvad er der sket" in message["text"] for message in sent)


def test_callback_data_round_trip() -> None:
    data = callback(123456789, "a", "9")
    assert parse_callback(data) == (123456789, "a", "9") and len(data.encode()) <= 64
    assert parse_callback("garbage") is None and parse_callback(None) is None


def test_a_line_longer_than_a_message_is_never_cut_inside_an_entity_or_a_tag() -> None:
    from tests.fuzzing import html_problems

    for text in ("&amp;" * 2000, "x" + "&lt;b&gt;" * 900, ("<b>fed</b> " * 800)):
        for limit in (4096, 4095, 4094, 4093, 100, 97):
            parts = split_message(text, limit)
            assert "".join(parts) == text and all(len(part) <= limit for part in parts)
            assert not any(html_problems(part) for part in parts), (text[:20], limit)


def test_long_messages_are_split_at_paragraphs() -> None:
    text = "\n\n".join(f"<b>Afsnit {n}</b> " + "x" * 900 for n in range(10))
    parts = split_message(text)
    assert all(len(part) <= 4096 for part in parts) and "\n\n".join(parts) == text


async def test_updates_of_two_numberings_are_each_applied_once(harness: Harness) -> None:
    """Telegram numbers its updates afresh after a quiet week (bot/channels/telegram/inbox.py): an update of the old
    numbering still being handled is applied and keeps no id for the offset; the new numbering's lower ids are
    applied, and one of them handled again (redelivered after a restart) is not applied twice."""
    def state() -> dict[str, Any]:
        return json.loads(harness.rows("select state from dialogues")[0][0])

    sent = await harness.send("/start", update_id=5000)
    sent = await harness._process(callback_update(CASEWORKER, press(sent[-1], "Skifter målgruppe"), sent[-1],
                                                  update_id=5001))
    receipts = harness.bot.receipts
    receipts.pending([5002])
    receipts.renumbered()  # while 5002 is waiting to be handled
    sent = await harness._process(callback_update(
        CASEWORKER, press(sent[-1], "Ungeløftet – Flere unge skal med"), sent[-1], update_id=5002))
    assert "forløb i psykiatrien" in sent[-1]["text"]
    assert harness.rows("select reply_update from dialogues") == [(None,)]  # no old id for a restart's offset
    assert (state()["last_update"], state().get("numbering", 0)) == (5002, 0)
    sent = await harness._process(callback_update(CASEWORKER, press(sent[-1], "Ja"), sent[-1], update_id=7))
    assert "startdato har den nuværende markør" in sent[-1]["text"]
    sent = await harness.send("12. oktober 2025", update_id=8)
    assert "til den nye målgruppe" in sent[-1]["text"]
    answers = state()["segments"]
    assert (state()["last_update"], state()["numbering"]) == (8, 1)
    assert harness.rows("select reply_update from dialogues") == [(8,)]
    again = await harness.send("12. oktober 2025", update_id=8)  # handled again after a restart
    assert "til den nye målgruppe" in again[-1]["text"] and state()["segments"] == answers
