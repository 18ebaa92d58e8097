"""The lessons: every citation exists in its source, every situation has its lesson, every lesson renders."""

from __future__ import annotations

import re

import pytest

from bot.learn.lessons import Lesson, course, load_lessons
from flows.engine import Rulebook

from tests.conftest import ROOT

SEEDS = ROOT.parent / "shared" / "seeds"


def _normalised(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def lessons(rulebook: Rulebook) -> list[Lesson]:
    return course(rulebook)


def test_the_2017_rulebook_has_its_own_lessons_in_the_course(rulebook: Rulebook, lessons: list[Lesson]) -> None:
    own = [lesson for lesson in lessons if lesson not in load_lessons(rulebook)]
    assert [lesson.id for lesson in own] == ["flere_skal_med_2017"]
    assert lessons.index(own[0]) == len(load_lessons(rulebook)), "after Ungeløftet's lessons"
    text = "\n".join(screen for lesson in own for screen in lesson.screens)
    assert "Flere Skal Med Gr. 1 – Vis. til indsatsgruppen" in text and "ikke tilbagedateres" in text
    assert "Ungeløftet –" not in text  # the 2017 lesson names only its own markers
    assert all(citation.seed == "002" for lesson in own for citation in lesson.sources)


def test_every_situation_has_its_lesson(rulebook: Rulebook, lessons: list[Lesson]) -> None:
    situation = rulebook.flow(rulebook.programme.entry)
    situations = {value for value in situation.spec.questions["situation"].options if value in rulebook.flows}
    assert situations == {lesson.situation for lesson in load_lessons(rulebook) if lesson.situation}


def test_background_lessons_come_first(lessons: list[Lesson]) -> None:
    ids = [lesson.id for lesson in lessons]
    for topic in ("intro", "ips_youth", "ips_method", "ips_psychiatry", "target_group", "markers"):
        assert ids.index(topic) < ids.index("start")


def test_each_lesson_is_a_few_screens_with_two_or_three_checks(lessons: list[Lesson]) -> None:
    for lesson in lessons:
        assert 2 <= len(lesson.screens) <= 5, lesson.id
        assert 2 <= len(lesson.checks) <= 3, lesson.id
        assert lesson.sources, lesson.id
        for check in lesson.checks:
            assert len(set(check.options)) == len(check.options), (lesson.id, check.question)


def test_marker_names_and_dates_come_from_the_rulebook(lessons: list[Lesson]) -> None:
    switch = next(lesson for lesson in lessons if lesson.id == "switch")
    text = "\n".join(switch.screens)
    assert "29. februar 2028" in text  # day before 1 March 2028, computed by flows.dates
    assert "9. oktober 2025" in text and "31. januar 2026" in text  # the guide's own worked examples
    assert "»Ungeløftet – IPS«" in text


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_every_citation_exists_in_its_source(lessons: list[Lesson]) -> None:
    sources = {path.name[:3]: _normalised(path.read_text(encoding="utf-8")) for path in SEEDS.glob("*.txt")}
    for lesson in lessons:
        for citation in lesson.sources:
            text = sources[citation.seed]
            assert _normalised(citation.section) in text, (lesson.id, citation.section)
            if citation.quote:
                assert _normalised(citation.quote) in text, (lesson.id, citation.quote)


def test_no_code_words_on_a_lesson_screen(lessons: list[Lesson]) -> None:
    code = re.compile(r"\b(not_counted|ask_star|no_change|use_flow|fusm|move_out|day_before)\b")
    for lesson in lessons:
        for text in lesson.screens + tuple(c.question for c in lesson.checks):
            assert not code.search(text), (lesson.id, text)
