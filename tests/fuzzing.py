"""Hostile input for the fuzz test and bench/fuzz.py: what to type, where to type it, and how to judge the reply."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment, Turn
from bot.chat.texts import to_plain
from flows.engine import Rulebook

from tests.scenarios import DEFAULT_TODAY, load_scenarios

# What a caseworker's keyboard, a paste from a case file or an attacker may send: control characters, NUL, direction
# marks, other scripts' digits, Jinja, HTML, Markdown, SQL, format strings, 100 kB lines, dates that do not exist.
FRAGMENTS = (
    "", " ", "\x00", "\x00ja\x00", "\t\r\n\x0b\x0c", "\x1b[31mrød\x1b[0m", "\u200b", "\ufeffja", "\u202eaj\u202c",
    "\u200fנעם\u200e", "مرحبا", "😀👍🏽👨‍👩‍👧", "ﷺ", "Z̴̡̛a̶l̷g̸o̵", "\ud7ff", "𝟙", "²", "١٢", "１２",
    "{{ 7*7 }}", "{{ config }}", "{% for x in range(9**9) %}x{% endfor %}", "{# #}", "${7*7}", "#{7*7}",
    "<b>fed</b>", "<script>alert(1)</script>", "<a href=\"javascript:alert(1)\">x</a>", "</i>", "<i>", "&", "&amp;",
    "&lt;", "&#0;", "<!--", "]]>", "*fed* _kursiv_ `kode` [link](http://x)", "||spoiler||", "\\", "'", "\"",
    "'; DROP TABLE decisions; --", "1 OR 1=1", "Robert'); DROP TABLE dialogues;--", "%s%s%n", "{0}{1}",
    "/", "//", "/ukendt", "/hjælp@", "@ungebot_test_bot", "ja" * 3, "nej!!!", "JA.", "n", "0", "-1", "11", "999",
    "1" * 5000, "9" * 100_000, "31.02.2026", "29.02.2025", "30-02-26", "00.00.0000", "32/13-2026", "2026-13-45",
    "1.1.1899", "31.12.2200", "0001-01-01", "9999-12-31", "d. 31. februar 2026", "i går i morgen", "1. smarch 2026",
    "1.2", "15 januar", "man. d. 1. januar 2026", "010190-1234", "0101901234",
)


def hostile_text(rng: random.Random) -> str:
    """One hostile input: a fragment, several glued together, random code points, or a 100 kB line."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(FRAGMENTS)
    if roll < 0.65:
        return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(2, 5)))
    if roll < 0.9:
        return "".join(chr(_code_point(rng)) for _ in range(rng.randint(1, 40)))
    return rng.choice(("x", "<", "&", "æ", "9", "{{", "😀", "\u202e", " ")) * rng.randint(20_000, 100_000)


def _code_point(rng: random.Random) -> int:
    """Mostly ASCII and Latin-1 (where parsers look), sometimes anything up to U+10FFFF but surrogates."""
    point = rng.choice((rng.randint(0, 0x7F), rng.randint(0x80, 0x2FF), rng.randint(0, 0x10FFFF)))
    return point if not 0xD800 <= point <= 0xDFFF else 0xFFFD


# -- where to type: a state at every question of every flow --------------------------------------------------------
def question_states(rulebook: Rulebook, texts: Any) -> list[tuple[str, date, dict[str, str]]]:
    """(flow, today, answers) standing at each question of each flow: the scenarios' prefixes, plus a search of
    the flows for any question no scenario stops at. Sorted, so a run is repeatable."""
    from flows.answers import parse_answer

    found: dict[tuple[str, str], tuple[str, date, dict[str, str]]] = {}
    for scenario in load_scenarios():
        flow, today = rulebook.flow(scenario["flow"]), scenario["today"]
        position, answers = flow.walk({}, today), {}
        for question_id, text in scenario["answers"]:
            assert position.question is not None and position.question.id == question_id
            found.setdefault((flow.id, question_id), (flow.id, today, dict(answers)))
            labels = texts.option_labels(flow, position.question) if position.question.kind != "date" else {}
            answers[question_id] = parse_answer(position.question, text, today, labels)
            position = flow.step(position, answers[question_id], today)
    for flow in rulebook.flows.values():
        for question_id, answers in _search(flow, DEFAULT_TODAY):
            found.setdefault((flow.id, question_id), (flow.id, DEFAULT_TODAY, answers))
    return [found[key] for key in sorted(found)]


def _search(flow: Any, today: date) -> Iterator[tuple[str, dict[str, str]]]:
    """Every question reachable by options and a few dates around today (breadth first, bounded)."""
    dates = [(today + timedelta(days=d)).isoformat() for d in (0, -40, 40, -200, -400, 400)] + [""]
    queue, seen = [dict[str, str]()], set()
    while queue and len(seen) < 2000:
        answers = queue.pop(0)
        position = flow.walk(answers, today)
        if position.question is None or position.rejected is not None:
            continue
        question = position.question
        if question.id not in {q for q, _ in seen}:
            yield question.id, dict(answers)
        for value in (dates if question.kind == "date" else question.options):
            if (question.id, value) not in seen:
                seen.add((question.id, value))
                queue.append({**answers, question.id: value})


def state_at(flow: str, answers: dict[str, str]) -> DialogueState:
    """A fresh dialogue state standing in `flow` after `answers`."""
    return DialogueState([Segment(flow, dict(answers))])


# -- how to judge a reply ------------------------------------------------------------------------------------------
# Telegram's HTML parse mode: these tags only, <a> with an href, everything else escaped.
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                 "tg-spoiler", "span"}
_ENTITY = re.compile(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


class _TagCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"tag <{tag}>")
        if tag == "a" and not any(k == "href" and v and re.match(r"(https?|mailto|tg):", v) for k, v in attrs):
            self.problems.append("link without a safe href")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.problems.append("comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("declaration")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("declaration")


def html_problems(text: str) -> list[str]:
    """Why Telegram's HTML parse mode would refuse or misread this text (empty when it is fine)."""
    check = _TagCheck()
    check.feed(text)
    check.close()
    bare = _ENTITY.sub("", re.sub(r"<[^<>]*>", "", text))
    if "<" in bare or ">" in bare or "&" in bare:
        check.problems.append("bare < > or &")
    return check.problems + [f"unclosed <{tag}>" for tag in check.open]


_LOOKALIKE = str.maketrans({"<": "‹", ">": "›", "&": "＆"})
_ESCAPED = (("&lt;", "‹"), ("&gt;", "›"), ("&amp;", "＆"), ("&quot;", '"'), ("&#34;", '"'), ("&#39;", "'"))


def lookalike(text: str) -> str:
    """The text with HTML's special characters swapped for look-alikes that need no escaping."""
    return text.translate(_LOOKALIKE)


def unescaped_echo(turn: Turn, twin: Turn) -> bool:
    """True when the reply to a text shows a typed < > or & raw: `twin` is the reply to lookalike(text), so the two
    agree exactly when every special character the user typed came back escaped. Replies of different shape
    (the swap changed what the text means) are not compared."""
    if [r.kind for r in turn.replies] != [r.kind for r in twin.replies]:
        return False
    for reply, other in zip(turn.replies, twin.replies):
        text = reply.text
        for entity, plain in _ESCAPED:
            text = text.replace(entity, plain)
        if text != other.text.replace("&#34;", '"').replace("&#39;", "'").replace("&quot;", '"'):
            return True
    return False


def judge(conversation: Conversation, flow: str, today: date, answers: dict[str, str], text: str) -> list[str]:
    """Type `text` at this question: the problems with what came back (empty when the reply is right).

    Right is: no exception; the question again (answers unchanged, its prompt last) or the next step (this
    question's answer recorded, or a far date to confirm); well-formed Telegram HTML; no raw echo."""
    state = state_at(flow, answers)
    question = conversation.position(state, today).question
    assert question is not None
    prompt = conversation.prompt(state_at(flow, answers), today)[-1].text
    turn = conversation.handle(state, text, today)
    problems = [f"{p}: {r.text[:80]!r}" for r in turn.replies for p in html_problems(r.text)]
    if text.strip().startswith("/"):  # a command (help, STAR, start again): its own path, judged by its HTML
        return problems
    after = turn.state.segments
    same = [(s.flow, s.answers) for s in after] == [(flow, answers)]
    if same and not turn.state.pending:
        if not turn.replies or turn.replies[-1].text != prompt:
            problems.append("answer refused but the question was not asked again")
    elif same and (turn.state.pending or {}).get("kind") == "confirm_date":
        if turn.replies[-1].kind != "question":
            problems.append("far date without a confirmation question")
    elif after[0].flow != flow or question.id not in after[0].answers or after[0].answers.items() < answers.items():
        problems.append("the dialogue moved somewhere it should not")
    elif not turn.replies or turn.replies[-1].kind not in ("question", "outcome", "hint"):
        problems.append("accepted without showing the next step")
    if any(ch in text for ch in "<>&"):
        twin = conversation.handle(state_at(flow, answers), lookalike(text), today)
        if unescaped_echo(turn, twin):
            problems.append("unescaped echo")
    return problems


def typed_path(conversation: Conversation, flow: str, today: date, answers: dict[str, str]) -> list[str]:
    """What a caseworker types to stand at this question, wherever the dialogue stands (the channels keep it from one
    input to the next): with several programmes "/program begge" (a programme chosen with /program would be kept by
    /forfra), then /forfra and "ja" (which confirms throwing a half-finished case away, and is refused at the first
    question when /forfra started afresh at once), the routers' options into the flow (the programme's first), then
    each answer (option numbers, ISO dates, "ja" to a far date's confirmation)."""
    typed = _route(conversation, flow, today)
    state = _typed_state(conversation, typed, today)
    for question_id, value in answers.items():
        question = conversation.position(state, today).question
        assert question is not None and question.id == question_id
        text = (value or "spring over") if question.kind == "date" else str(question.options.index(value) + 1)
        typed.append(text)
        state = conversation.handle(state, text, today).state
        if (state.pending or {}).get("kind") == "confirm_date":
            typed.append("ja")
            state = conversation.handle(state, "ja", today).state
    assert state.segments[-1].flow == flow and state.segments[-1].answers == answers
    return typed


def prompt_shown(conversation: Conversation, flow: str, today: date, answers: dict[str, str], shown: str) -> bool:
    """Whether `shown` (a channel's reply to the path's last step, HTML or plain) asks this question: it holds the
    question's whole prompt, as the conversation words it at this point of the flow. A channel typed into checks with it that
    the typed path led where it should before the hostile text comes. (Questions of several flows worded alike are
    told apart only by the path: tests/test_fuzz.py walks every path in process.)"""
    prompt = " ".join(to_plain(conversation.prompt(state_at(flow, answers), today)[-1].text).split())
    return prompt in " ".join(to_plain(shown).split())


def _typed_state(conversation: Conversation, typed: list[str], today: date) -> DialogueState:
    state = conversation.new_state()
    for text in typed:
        state = conversation.handle(state, text, today).state
    return state


def _route(conversation: Conversation, flow: str, today: date) -> list[str]:
    """The options typed from a fresh dialogue through the routers into `flow` (breadth first, so the shortest)."""
    routers = conversation.rulebook.routers
    start = (["/program begge"] if len(getattr(conversation.rulebook, "rulebooks", ())) > 1 else []) + ["/forfra", "ja"]
    queue = [start]
    while queue:
        typed = queue.pop(0)
        state = _typed_state(conversation, typed, today)
        if state.segments[-1].flow == flow:
            return typed
        question = conversation.position(state, today).question
        if state.segments[-1].flow in routers and question is not None and len(typed) < len(start) + 3:
            queue += [typed + [str(number)] for number in range(1, len(question.options) + 1)]
    raise AssertionError(f"no router leads to {flow}")
