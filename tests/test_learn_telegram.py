"""/laer through the fake Bot API: a lesson with its diagram as a photo, a case right and wrong with the path drawn,
a restart, the test of ten; real cases' answers never go to training, training never to the decision log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.chat.texts import Texts
from bot.learn.grading import action_choices, action_label, date_items, signature
from bot.learn.trainer import Trainer
from flows.engine import load_rulebook
from storage.db import open_database
from storage.records import Staff

from tests.fake_telegram import buttons
from tests.test_telegram import CASEWORKER, Harness

TRAINEE = Staff("telegram", str(CASEWORKER))


@pytest.fixture
async def harness(private_database: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    async with Harness(private_database) as h:
        yield h


def reader(harness: Harness) -> Trainer:
    """A trainer on the bot's database, to read the case the bot is showing (made once per test)."""
    if not hasattr(harness, "reader"):
        rulebook = load_rulebook()
        harness.reader = Trainer(rulebook, Texts(rulebook), open_database(harness.db_path))  # type: ignore[attr-defined]
    return harness.reader  # type: ignore[attr-defined, no-any-return]


async def answer_case(harness: Harness, message: dict[str, Any], right: bool = True) -> list[dict[str, Any]]:
    """Answer the case on screen with the buttons and typed dates, rightly or with a wrong situation."""
    trainer = reader(harness)
    case = trainer.practice.case(trainer.state(TRAINEE))
    labels = trainer.practice.situation_labels
    flow = case.flow if right else ("move_out" if case.flow != "move_out" else "start")
    sent = await harness.click(message, labels[flow])
    index = action_choices(trainer.rulebook, case).index(signature(case.outcome))
    label = action_label(trainer.rulebook, signature(case.outcome))
    numbered = label not in [text for text, _ in buttons(sent[-1])]
    assert not numbered or f"{index + 1}. {label}" in sent[-1]["text"]
    sent = await harness.click(sent[-1], str(index + 1) if numbered else label)
    for item in date_items(trainer.rulebook, case):
        sent = await harness.send(f"{item.expected.day}/{item.expected.month}-{item.expected.year % 100}")
    return sent


async def test_a_lesson_with_its_diagram_as_a_photo(harness: Harness) -> None:
    sent = await harness.send("/laer")
    assert [label for label, _ in buttons(sent[-1])] == ["Lektioner", "Øv en sag", "Prøv en test", "Min fremgang"]
    sent = await harness.click(sent[-1], "Lektioner")
    sent = await harness.click(sent[-1], "Den unge skifter målgruppe")
    assert "(1/4)" in sent[-1]["text"] and len(harness.fake.photos) == 1
    for _ in range(4):
        sent = await harness.click(sent[-1], "Videre")
    assert "Tjek 1 af 3" in sent[-1]["text"]
    sent = await harness.click(sent[-1], "9. oktober 2025")
    assert "✅ Rigtigt." in sent[-1]["text"]
    sent = await harness.click(sent[-1], "29. februar 2028")
    sent = await harness.click(sent[-1], "Den får en slutdato")
    assert "<b>Lektionen er gennemført</b> – 3 af 3 rigtige." in sent[-1]["text"]
    assert all(len(data.encode()) <= 64 for _, data in buttons(sent[-1]))


async def test_a_case_right_then_wrong_with_the_path_drawn(harness: Harness) -> None:
    await harness.send("/laer 11")
    sent = await harness.click((await harness.send("/laer"))[-1], "Øv en sag")
    assert "Hvilken situation er det?" in sent[-1]["text"]
    sent = await answer_case(harness, sent[-1])
    final = sent[-1]["text"]
    assert "Resultat:" in final and "❌" not in final and "Sådan kom vi frem til resultatet" in final
    assert harness.fake.photos, "the path is sent as a photo"
    sent = await harness.click(sent[-1], "Ny øvelsessag")
    sent = await answer_case(harness, sent[-1], right=False)
    assert "❌ Ikke rigtigt. Situationen er" in "\n".join(m["text"] for m in harness.fake.outbox[-8:])
    assert harness.rows("select count(*) from decisions") == [(0,)]
    assert harness.rows("select count(*) from learn_answers where correct = 0") == [(1,)]


async def test_a_real_case_pauses_training(harness: Harness) -> None:
    sent = await harness.send("/laer")
    await harness.click(sent[-1], "Øv en sag")
    assert reader(harness).awaits_text(TRAINEE)
    sent = await harness.send("/start")
    assert "Hvad er der sket" in sent[-1]["text"]
    assert not reader(harness).awaits_text(TRAINEE)
    sent = await harness.send("12.10.2025")  # goes to the dialogue, not to the paused case
    assert "Resultat" not in sent[-1]["text"]


async def test_stale_learning_button_and_restart(harness: Harness) -> None:
    menu = (await harness.send("/laer"))[-1]
    sent = await harness.click(menu, "Øv en sag")
    story = sent[-1]["text"]
    stale = await harness.click(menu, "Lektioner")  # the menu's button, pressed again later
    assert "tidligere trin" in stale[-1]["text"] and "Du var i gang med en sag" in stale[-1]["text"]
    async with Harness(harness.db_path) as again:
        resumed = await again.send("/laer")
        assert "Du var i gang med en sag" in resumed[-1]["text"]
        assert story.split("\n\n")[1] in resumed[-1]["text"]


async def test_the_test_of_ten(harness: Harness) -> None:
    sent = await harness.send("/laer 5")
    sent = await harness.click(sent[-1], "Prøv en test")
    assert "Test – sag 1 af 10" in sent[-1]["text"]
    for number in range(10):
        sent = await answer_case(harness, sent[-1], right=number != 0)
    assert "Testen er slut: 9 af 10 rigtige." in sent[-1]["text"] and "Bestået" in sent[-1]["text"]
    assert harness.rows("select score, total, passed from learn_tests") == [(9, 10, 1)]


async def test_training_figures_for_the_support_desk_only(harness: Harness) -> None:
    from tests.test_telegram import SUPPORT

    sent = await harness.send("/laer")
    sent = await harness.click(sent[-1], "Øv en sag")
    await answer_case(harness, sent[-1], right=False)
    assert "for supportteamet" in (await harness.send("/laer stats"))[-1]["text"]
    figures = (await harness.send("/laer stats", user_id=SUPPORT))[-1]["text"]
    assert "Kursister: 1" in figures and "situationen" in figures
