"""The learning session played through: a lesson, a practice case answered right and one wrong, progress across a
restart, the test of ten. Training answers never reach the decision log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.chat.texts import Texts, to_plain
from bot.learn.grading import action_choices, date_items, signature
from bot.learn.screens import Screen
from bot.learn.trainer import Trainer
from flows.engine import Rulebook
from storage import learn as store
from storage.db import open_database
from storage.records import Staff

TRAINEE = Staff("terminal", "kursist", "Kursist")


def trainer_at(path: Path, rulebook: Rulebook, texts: Texts) -> Trainer:
    return Trainer(rulebook, texts, open_database(path))


def text(screens: list[Screen]) -> str:
    return "\n".join(to_plain(screen.text) for screen in screens)


def answer_case(trainer: Trainer, right: bool = True, wrong_part: str = "date1") -> list[Screen]:
    """Answer the current case part by part, rightly (or one part wrongly); returns every screen shown."""
    state = trainer.state(TRAINEE)
    case = trainer.practice.case(state)
    flow = case.flows[-1] if right or wrong_part != "situation" else ("move_out" if case.flow != "move_out" else "start")
    screens = list(trainer.press(TRAINEE, f"s:{flow}"))
    choices = action_choices(trainer.rulebook, case)
    index = choices.index(signature(case.outcome))
    if not right and wrong_part == "action":
        index = (index + 1) % len(choices)
    screens += trainer.press(TRAINEE, f"a:{index}")
    for item in date_items(trainer.rulebook, case):
        day = item.expected
        if not right and wrong_part == item.key:
            day = day.replace(day=1) if day.day != 1 else day.replace(day=2)
        screens += trainer.type(TRAINEE, f"{day.day}.{day.month}.{day.year}")
    return screens


def test_a_lesson_played_to_the_end(tmp_path: Path, rulebook: Rulebook, texts: Texts) -> None:
    trainer = trainer_at(tmp_path / "db.sqlite", rulebook, texts)
    assert ("menu:lessons", "Lektioner") in trainer.open(TRAINEE)[0].options
    assert "Den unge skifter målgruppe" in [label for _, label in trainer.press(TRAINEE, "menu:lessons")[0].options]
    first = trainer.press(TRAINEE, "lesson:switch")
    assert "(1/4)" in text(first) and first[0].diagram == "switch"
    for _ in range(3):
        screens = trainer.press(TRAINEE, "next")
    assert "Kilde: 000: Den unge skifter målgruppe" in text(screens)
    screens = trainer.press(TRAINEE, "next")
    assert "Tjek 1 af 3" in text(screens)
    screens = trainer.press(TRAINEE, "c:1")  # 9. oktober 2025: right
    assert "✅ Rigtigt." in text(screens) and "Tjek 2 af 3" in text(screens)
    screens = trainer.type(TRAINEE, "1")  # 28. februar 2028: wrong, typed as its number
    assert "❌ Ikke rigtigt. Svaret er: 29. februar 2028." in text(screens)
    screens = trainer.press(TRAINEE, "c:1")
    assert "Lektionen er gennemført – 2 af 3 rigtige." in text(screens)
    assert store.lessons_done(trainer.db, TRAINEE) == {"switch": (2, 3)}
    assert f"Lektioner: 1 af {len(trainer.lessons)} gennemført." in text(trainer.press(TRAINEE, "menu:progress"))


def test_a_case_answered_right(tmp_path: Path, rulebook: Rulebook, texts: Texts) -> None:
    trainer = trainer_at(tmp_path / "db.sqlite", rulebook, texts)
    trainer.open(TRAINEE, seed=11)
    story = text(trainer.press(TRAINEE, "menu:practice"))
    assert "Øvelsessag" in story and "Hvilken situation er det?" in story
    screens = answer_case(trainer)
    shown = text(screens)
    assert "❌" not in shown and "Resultat:" in shown and "Hvorfor? Sådan kom vi frem til resultatet" in shown
    assert screens[-1].path, "the path is drawn on the diagram"
    assert ("menu:practice", "Ny øvelsessag") in screens[-1].options
    rows = trainer.db.execute("SELECT COUNT(*), SUM(correct) FROM learn_answers").fetchone()
    assert rows[0] >= 2 and rows[0] == rows[1]
    assert trainer.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0] == 0  # never in the decision log


def test_a_case_answered_wrong_explains_and_comes_back_elsewhere(tmp_path: Path, rulebook: Rulebook,
                                                                 texts: Texts) -> None:
    trainer = trainer_at(tmp_path / "db.sqlite", rulebook, texts)
    trainer.open(TRAINEE)
    state = trainer.state(TRAINEE)
    trainer.practice.begin(state, 5, "switch", "switched", "case")
    store.save_turn(trainer.db, TRAINEE, state)
    case = trainer.practice.case(trainer.state(TRAINEE))
    end = date_items(rulebook, case)[0]
    screens = answer_case(trainer, right=False, wrong_part="date1")
    shown = text(screens)
    from flows.dates import format_date

    assert f"det rigtige er {format_date(end.expected)}" in shown
    assert "ny startdato" in shown and "− 1 dag" in shown or "dagen før" in shown
    assert f"Sæt slutdato {format_date(end.expected)}" in shown
    missed = trainer.state(TRAINEE)["missed"]
    assert missed == "switch:day_before"
    following = trainer.press(TRAINEE, "menu:practice")
    again = trainer.practice.case(trainer.state(TRAINEE))
    assert again.flow != "switch" and any(item.rule == "day_before" for item in date_items(rulebook, again))
    assert "Hvilken situation er det?" in text(following)


def test_an_unreadable_date_is_asked_again(tmp_path: Path, rulebook: Rulebook, texts: Texts) -> None:
    trainer = trainer_at(tmp_path / "db.sqlite", rulebook, texts)
    trainer.open(TRAINEE)
    state = trainer.state(TRAINEE)
    trainer.practice.begin(state, 5, "switch", "switched", "case")
    store.save_turn(trainer.db, TRAINEE, state)
    trainer.press(TRAINEE, "s:switch")
    case = trainer.practice.case(trainer.state(TRAINEE))
    trainer.press(TRAINEE, f"a:{action_choices(rulebook, case).index(signature(case.outcome))}")
    screens = trainer.type(TRAINEE, "31. februar 2026")
    assert "Den dato findes ikke" in text(screens) and "Hvilken slutdato" in text(screens)
    assert trainer.state(TRAINEE)["case"]["part"] == "date1"


def test_progress_survives_a_restart(tmp_path: Path, rulebook: Rulebook, texts: Texts) -> None:
    path = tmp_path / "db.sqlite"
    first = trainer_at(path, rulebook, texts)
    first.open(TRAINEE, seed=3)
    story = text(first.press(TRAINEE, "menu:practice"))
    first.press(TRAINEE, f"s:{first.practice.case(first.state(TRAINEE)).flow}")
    first.db.close()
    second = trainer_at(path, rulebook, texts)
    resumed = text(second.open(TRAINEE))
    assert "Du var i gang med en sag" in resumed
    assert story.split("\n\n")[1].split("\n")[0] in resumed and "Hvad skal du gøre i fagsystemet?" in resumed
    answer_case_rest(second)
    assert "Rigtige svar pr. situation" in text(second.press(TRAINEE, "menu:progress"))


def answer_case_rest(trainer: Trainer) -> None:
    case = trainer.practice.case(trainer.state(TRAINEE))
    trainer.press(TRAINEE, f"a:{action_choices(trainer.rulebook, case).index(signature(case.outcome))}")
    for item in date_items(trainer.rulebook, case):
        trainer.type(TRAINEE, item.expected.isoformat())
    assert trainer.state(TRAINEE)["case"]["part"] == "done"


def test_the_test_of_ten(tmp_path: Path, rulebook: Rulebook, texts: Texts) -> None:
    trainer = trainer_at(tmp_path / "db.sqlite", rulebook, texts)
    trainer.open(TRAINEE, seed=8)
    screens = trainer.press(TRAINEE, "menu:test")
    assert "Test – sag 1 af 10" in text(screens)
    flows = set()
    for number in range(10):
        flows.add(trainer.practice.case(trainer.state(TRAINEE)).flow)
        screens = answer_case(trainer, right=number != 4, wrong_part="situation")
        if number < 9:
            assert f"sag {number + 2} af 10" in text(screens) and "✅" not in text(screens)
            assert "Hvilken situation er det?" in text(screens[-1:])
    assert flows == set(trainer.rulebook.flows) - {"situation"}
    assert "Testen er slut: 9 af 10 rigtige." in text(screens) and "Bestået" in text(screens)
    assert "Sag 5:" in text(screens)
    assert store.tests(trainer.db, TRAINEE)[0][1:] == (9, 10, True)
    screens = trainer.press(TRAINEE, "menu:test")
    for number in range(10):
        screens = answer_case(trainer, right=number > 1, wrong_part="action")
    assert "8 af 10" in text(screens) and "Ikke bestået" in text(screens)
    assert [passed for *_, passed in store.tests(trainer.db, TRAINEE)] == [False, True]


def test_the_terminal_course_and_the_support_desks_figures(private_database: Path, capsys: Any) -> None:
    import io

    from bot.channels.terminal_learn import run_learn
    from bot.cli.main import main

    out = io.StringIO()
    assert run_learn(4, io.StringIO("2\n1\n1\n1.1.2026\n1.1.2026\n1.1.2026\n"), out) == 0
    shown = out.getvalue()
    assert "Øvelsessag" in shown and "Hvilken situation er det?" in shown and "Farvel" in shown
    assert main(["learn", "stats"]) == 0
    figures = capsys.readouterr().out
    assert "Kursister: 1" in figures and "Rigtige svar pr. spørgsmål" in figures
    assert main(["learn", "--seed", "x"]) == 2
