"""The learning session, channel-free: a menu, lessons with check questions, practice cases, the test of ten and
the trainee's progress. Each turn is committed (storage.learn) before its screens are returned."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from flows.engine import Rulebook

from bot.chat.texts import Texts
from bot.learn import progress
from bot.learn.diagrams import Labels, diagram_file, draw_path
from bot.learn.lessons import Lesson, course
from bot.learn.practice import PASS_MARK, TEST_SIZE, Practice, pick, test_cases
from bot.learn.screens import LearnTurn, Screen
from storage import learn as store
from storage.learn import GradedPart
from storage.records import Staff

STATE_VERSION = 1
MENU = (("menu:lessons", "Lektioner"), ("menu:practice", "Øv en sag"), ("menu:test", "Prøv en test"),
        ("menu:progress", "Min fremgang"))
TO_MENU = ("menu", "Til menuen")


class Trainer:
    """Runs learning sessions for any channel; holds the rulebook, texts, lessons and database, nothing per trainee."""

    def __init__(self, rulebook: Rulebook, texts: Texts, db: sqlite3.Connection) -> None:
        self.rulebook = rulebook
        self.texts = texts
        self.db = db
        self.lessons = course(rulebook)
        self.practice = Practice(rulebook, texts)
        self.labels = Labels(texts, rulebook)
        # Staff whose stored session is known not to be active: a channel asks about every message and button,
        # and most of them are real cases. Only this trainer writes their sessions (see _commit), so it stays true.
        self._inactive: set[tuple[str, str]] = set()

    def picture(self, flow_id: str, nodes: tuple[str, ...] = (), fmt: str = "png") -> Path | None:
        """A flow's picture: the committed one, or with a path highlighted (None when Graphviz is missing)."""
        if not nodes:
            committed = diagram_file(flow_id, fmt)
            return committed if committed.is_file() else None
        return draw_path(self.rulebook.flow(flow_id), self.labels, nodes, fmt)

    # -- the channel's three calls ------------------------------------------------------------------------------------
    def open(self, staff: Staff, seed: int | None = None) -> list[Screen]:
        """Begin or resume: the step the trainee was on, or the menu. A seed fixes the cases (a trainer's set)."""
        state = self.state(staff)
        state["active"] = True
        if seed is not None:
            state.update(seed=seed, count=0)
        if state["mode"] == "case" and state["case"]["part"] != "done":
            screens = [Screen("Du var i gang med en sag. Her er den igen:")] + self.practice.repeat(state)
        else:
            state["mode"] = "menu"
            screens = [self._menu()]
        return self._commit(staff, LearnTurn(state, screens))

    def press(self, staff: Staff, value: str) -> list[Screen]:
        """A chosen option (its value)."""
        state = self.state(staff)
        return self._commit(staff, self._choose(staff, state, value))

    def type(self, staff: Staff, text: str) -> list[Screen]:
        """Typed text: a date where one is asked, else a choice by number or label."""
        state = self.state(staff)
        if state["mode"] == "case" and state["case"]["part"] != "done":
            screens, result = self.practice.typed(state, text)
            return self._commit(staff, self._after_part(staff, state, screens, result))
        options = self.options(state)
        value = pick(options, text)
        if value is None:
            return self._commit(staff, LearnTurn(state, [Screen("Vælg et af svarene med tallet ud for det.",
                                                                 options)]))
        return self._commit(staff, self._choose(staff, state, value))

    def awaits_text(self, staff: Staff) -> bool:
        """True while the trainee is in a case (a channel then sends typed text here, not to the dialogue)."""
        if (staff.channel, staff.staff_id) in self._inactive:
            return False
        state = self.state(staff)
        if not state.get("active"):
            self._inactive.add((staff.channel, staff.staff_id))
        return bool(state.get("active")) and state["mode"] == "case" and state["case"]["part"] != "done"

    def pause(self, staff: Staff) -> None:
        """The trainee went back to real cases: typed text is no longer taken as a training answer."""
        if (staff.channel, staff.staff_id) in self._inactive:
            return
        state = store.load_session(self.db, staff)
        if state and state.get("active"):
            state["active"] = False
            store.save_turn(self.db, staff, state)
        self._inactive.add((staff.channel, staff.staff_id))

    def state(self, staff: Staff) -> dict[str, Any]:
        """The trainee's session as stored (a fresh one at the menu if none, or from an older version)."""
        stored = store.load_session(self.db, staff)
        if not stored or stored.get("v") != STATE_VERSION:
            return {"v": STATE_VERSION, "mode": "menu", "step": 0, "count": 0}
        return stored

    def options(self, state: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        """The options open at the current step (what a typed number picks)."""
        return state.get("options") and tuple(tuple(pair) for pair in state["options"]) or ()  # type: ignore[return-value]

    # -- dispatch ------------------------------------------------------------------------------------------------------
    def _choose(self, staff: Staff, state: dict[str, Any], value: str) -> LearnTurn:
        if value == "menu":
            state["mode"] = "menu"
            return LearnTurn(state, [self._menu()])
        if value == "menu:lessons":
            state["mode"] = "lessons"
            return LearnTurn(state, [self._lesson_list(staff)])
        if value == "menu:progress":
            return LearnTurn(state, [self._progress(staff)])
        if value == "menu:practice":
            return LearnTurn(state, self._new_case(staff, state))
        if value == "menu:test":
            seed = state.get("seed", random.randrange(1, 10**6))
            state["test"] = {"seed": seed, "index": 0, "score": 0, "wrong": []}
            case_seed, flow = test_cases(self.rulebook, seed)[0]
            return LearnTurn(state, [Screen(f"<b>Prøv en test</b>\n{TEST_SIZE} sager fra alle situationer. "
                                            f"Du består med {PASS_MARK} rigtige. Du får svarene til sidst.")]
                             + self.practice.begin(state, case_seed, flow, None, "test"))
        if value.startswith("lesson:"):
            return self._lesson_start(staff, state, value.partition(":")[2])
        if state["mode"] == "lesson" and (value == "next" or value.startswith("c:")):
            return self._lesson_step(state, value)
        if state["mode"] == "case" and state["case"]["part"] != "done":
            screens, result = self.practice.choose(state, value)
            return self._after_part(staff, state, screens, result)
        return LearnTurn(state, [Screen("Den knap hører til et tidligere trin.")] + [self._menu()])

    def _menu(self) -> Screen:
        return Screen("<b>Lær at registrere i Ungeløftet</b>\nHvad vil du?", MENU)

    # -- lessons --------------------------------------------------------------------------------------------------------
    def _lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def _lesson_list(self, staff: Staff) -> Screen:
        done = set(store.lessons_done(self.db, staff))
        options = tuple((f"lesson:{lesson.id}", ("✓ " if lesson.id in done else "") + lesson.title)
                        for lesson in self.lessons)
        return Screen("<b>Lektioner</b>\nVælg en lektion. ✓ betyder, at du har gennemført den.", options + (TO_MENU,))

    def _lesson_start(self, staff: Staff, state: dict[str, Any], lesson_id: str) -> LearnTurn:
        if self._lesson(lesson_id) is None:
            return LearnTurn(state, [self._lesson_list(staff)])
        state.update(mode="lesson", lesson=lesson_id, screen=0, check=-1, right=0, answers=[])
        return LearnTurn(state, [self._lesson_screen(state)])

    def _lesson_screen(self, state: dict[str, Any]) -> Screen:
        lesson = self._lesson(state["lesson"])
        assert lesson is not None
        index = state["screen"]
        text = f"<b>{lesson.title}</b> ({index + 1}/{len(lesson.screens)})\n\n{lesson.screens[index]}"
        if index == len(lesson.screens) - 1:
            text += "\n\n<i>Kilde: " + "; ".join(citation.label() for citation in lesson.sources) + "</i>"
        return Screen(text, (("next", "Videre"), TO_MENU), diagram=lesson.diagram if index == 0 else None)

    def _check_screen(self, lesson: Lesson, index: int) -> Screen:
        check = lesson.checks[index]
        options = tuple((f"c:{k}", label) for k, label in enumerate(check.options))
        return Screen(f"<b>Tjek {index + 1} af {len(lesson.checks)}</b>\n{check.question}", options)

    def _lesson_step(self, state: dict[str, Any], value: str) -> LearnTurn:
        lesson = self._lesson(state["lesson"])
        assert lesson is not None
        if value == "next" and state["check"] < 0:
            if state["screen"] + 1 < len(lesson.screens):
                state["screen"] += 1
                return LearnTurn(state, [self._lesson_screen(state)])
            state["check"] = 0
            return LearnTurn(state, [self._check_screen(lesson, 0)])
        if not value.startswith("c:") or state["check"] < 0 or not value[2:].isdigit():
            return LearnTurn(state, [self._check_screen(lesson, max(state["check"], 0))])
        check = lesson.checks[state["check"]]
        right = int(value[2:]) == check.answer
        state["right"] += right
        mark = "✅ Rigtigt." if right else f"❌ Ikke rigtigt. Svaret er: {check.options[check.answer]}."
        part = GradedPart("lesson", 0, lesson.id, "", f"check{state['check'] + 1}", "lesson", value[2:],
                          str(check.answer), right)
        screens = [Screen(f"{mark}\n{check.why}")]
        state["check"] += 1
        if state["check"] < len(lesson.checks):
            return LearnTurn(state, screens + [self._check_screen(lesson, state["check"])], parts=[part])
        state["mode"] = "menu"
        following = self.lessons.index(lesson) + 1
        options: tuple[tuple[str, str], ...] = ()
        if following < len(self.lessons):
            options = ((f"lesson:{self.lessons[following].id}", f"Næste: {self.lessons[following].title}"),)
        done = Screen(f"<b>Lektionen er gennemført</b> – {state['right']} af {len(lesson.checks)} rigtige.",
                      options + (("menu:practice", "Øv en sag"), TO_MENU))
        return LearnTurn(state, screens + [done], parts=[part], lesson=(lesson.id, state["right"], len(lesson.checks)))

    # -- practice -------------------------------------------------------------------------------------------------------
    def _new_case(self, staff: Staff, state: dict[str, Any]) -> list[Screen]:
        count = state.get("count", 0)
        state["count"] = count + 1
        if "seed" in state:  # a trainer's fixed set: the same cases in the same order for everyone
            return self.practice.begin(state, state["seed"] * 1000 + count, None, None, "case")
        rng = random.Random()
        flow, outcome, _ = progress.next_target(self.rulebook, store.cards(self.db, staff), rng, state.get("missed"))
        return self.practice.begin(state, rng.randrange(1, 10**9), flow, outcome, "case")

    def _after_part(self, staff: Staff, state: dict[str, Any], screens: list[Screen], result: Any) -> LearnTurn:
        if state["mode"] != "case" or state["case"]["part"] != "done":
            return LearnTurn(state, screens)
        final, parts, results = self.practice.finish(state)
        cards = progress.review(store.cards(self.db, staff), state["case"]["flow"], results)
        wrong = [r for r in results if not r.correct]
        state["missed"] = progress.card_id(state["case"]["flow"], wrong[0].rule) if wrong else None
        if state["case"]["kind"] == "test":
            return self._test_step(state, screens, parts, cards, not wrong)
        next_options = (("menu:practice", "Ny øvelsessag"), TO_MENU)
        return LearnTurn(state, screens + final[:-1] + [Screen(final[-1].text, next_options, path=final[-1].path)],
                         parts=parts, cards=cards)

    def _test_step(self, state: dict[str, Any], screens: list[Screen], parts: list[GradedPart],
                   cards: list[tuple[str, str, str]], right: bool) -> LearnTurn:
        test = state["test"]
        test["score"] += int(right)
        if not right:
            test["wrong"].append([test["index"] + 1, state["case"]["flow"]])
        test["index"] += 1
        plan = test_cases(self.rulebook, test["seed"])
        if test["index"] < len(plan):
            case_seed, flow = plan[test["index"]]
            return LearnTurn(state, screens + self.practice.begin(state, case_seed, flow, None, "test"),
                             parts=parts, cards=cards)
        passed = test["score"] >= PASS_MARK
        verdict = "Bestået – du er klar til rigtige sager." if passed else f"Ikke bestået – der skal {PASS_MARK} til."
        lines = [f"<b>Testen er slut: {test['score']} af {TEST_SIZE} rigtige.</b>", verdict]
        for number, flow in test["wrong"]:
            lines.append(f"• Sag {number}: {self.rulebook.flow(flow).title}")
        if test["wrong"]:
            lines.append("Øv de situationer under »Øv en sag« – de kommer igen først.")
        state["mode"] = "menu"
        return LearnTurn(state, screens + [Screen("\n".join(lines), (("menu:test", "Prøv igen"), TO_MENU))],
                         parts=parts, cards=cards, test=(test["seed"], test["score"], TEST_SIZE, passed))

    # -- progress -------------------------------------------------------------------------------------------------------
    def _progress(self, staff: Staff) -> Screen:
        done = store.lessons_done(self.db, staff)
        lines = ["<b>Din fremgang</b>", f"Lektioner: {len(done)} af {len(self.lessons)} gennemført."]
        rows = store.accuracy(self.db, staff)
        case_rows = [(flow, right, asked) for flow, right, asked in rows if self.rulebook.flows.get(flow)]
        if case_rows:
            lines.append("Rigtige svar pr. situation:")
            lines += [f"• {self.rulebook.flow(flow).title}: {right} af {asked}" for flow, right, asked in case_rows]
        mistakes = [m for m in store.mistakes(self.db, staff, 5) if m.kind != "lesson"]
        if mistakes:
            lines.append("Seneste fejl: " + "; ".join(
                f"{self.rulebook.flow(m.flow).title} – {progress.RULE_NAMES.get(m.rule, m.rule)}" for m in mistakes))
        lines.append(f"Øvelser, der venter: {progress.due_count(self.rulebook, store.cards(self.db, staff))}.")
        tests = store.tests(self.db, staff)
        if tests:
            best = max(score for _, score, _, _ in tests)
            lines.append(f"Tests: {len(tests)}, bedste {best} af {TEST_SIZE}"
                         + (" – bestået." if any(passed for *_, passed in tests) else "."))
        return Screen("\n".join(lines), (TO_MENU,))

    # -- storage ------------------------------------------------------------------------------------------------------
    def _commit(self, staff: Staff, turn: LearnTurn) -> list[Screen]:
        turn.state["step"] = turn.state.get("step", 0) + 1
        last = turn.screens[-1] if turn.screens else None
        turn.state["options"] = [list(pair) for pair in last.options] if last else []
        store.save_turn(self.db, staff, turn.state, turn.parts, turn.cards, turn.lesson, turn.test)
        if turn.state.get("active"):
            self._inactive.discard((staff.channel, staff.staff_id))
        else:
            self._inactive.add((staff.channel, staff.staff_id))
        return turn.screens
