"""`ungebot decide`: answer a flow non-interactively, with the chat's own parsing, texts and decision log."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from bot.chat.dialogue import current_day
from bot.chat.texts import Texts, to_plain
from flows.answers import parse_answer
from flows.engine import Flow, Position, Rulebook
from flows.errors import AnswerError
from flows.model import Outcome, Question
from flows.privacy import contains_cpr
from flows.trace import trace, trace_dicts


@dataclass
class DecideError(Exception):
    """Why decide stopped: a code for scripts, the question it concerns, and a Danish message."""

    code: str
    message: str
    question: str | None = None
    accepts: list[str] | None = None


def accepts(flow: Flow, question: Question, texts: Texts) -> list[str]:
    """What a question takes, for the message naming a missing answer."""
    if question.kind == "date":
        return ["en dato, fx 1.2.2026, 1. februar 2026 eller i dag"] + (["spring over"] if question.optional else [])
    labels = texts.option_labels(flow, question)
    return [f"{value} ({labels[value]})" for value in question.options]


def walk_answers(rulebook: Rulebook, texts: Texts, flow_id: str, raw: dict[str, str], complete: bool = True) -> Position:
    """Walk a flow with typed answers by question id, parsed as the chat parses them.

    `complete`: every question up to the outcome must be answered (DecideError names the first that is not);
    otherwise the walk stops at the first unanswered question (the case so far, for a question to STAR)."""
    if flow_id not in rulebook.flows:
        raise DecideError("unknown_flow", f"Ukendt situation »{flow_id}«. Kendte: {', '.join(rulebook.flows)}.")
    flow = rulebook.flow(flow_id)
    unknown = sorted(set(raw) - set(flow.spec.questions))
    if unknown:
        raise DecideError("unknown_question", f"Forløbet »{flow_id}« har ikke spørgsmålet "
                          f"{', '.join(unknown)}. Spørgsmålene er: {', '.join(flow.spec.questions)}.")
    today = current_day()
    position = flow.walk({}, today)
    while position.question is not None:
        question = position.question
        if question.id not in raw and not complete:
            break
        if question.id not in raw and not question.optional:
            text = to_plain(texts.question(flow, question, position.answers)).replace("\n", " ")
            options = accepts(flow, question, texts)
            raise DecideError("missing_answer", f"Mangler svar på {question.id}: {text} Svar: {' | '.join(options)}",
                              question.id, options)
        try:
            labels = texts.option_labels(flow, question) if question.kind != "date" else {}
            value = parse_answer(question, raw[question.id], today, labels) if question.id in raw else ""
            position = flow.step(position, value, today)
        except AnswerError as error:
            message = to_plain(texts.error(error, flow, question, position.answers))
            raise DecideError("bad_answer", f"{question.id}: {message}", question.id) from None
    return position


def decide(rulebook: Rulebook, texts: Texts, flow_id: str, raw: dict[str, str]) -> tuple[Flow, Outcome, dict[str, str]]:
    """Walk a flow with typed answers to its outcome; raise DecideError where it cannot go on."""
    position = walk_answers(rulebook, texts, flow_id, raw)
    assert position.outcome is not None
    return position.flow, position.outcome, dict(position.answers)


def run_decide(flow_id: str, pairs: list[str], as_json: bool) -> int:
    """The decide command: print the outcome (text or JSON), log it, exit 0; exit 2 with a message otherwise."""
    from bot.chat.programmes import enabled_catalogue

    rulebook = enabled_catalogue()
    texts = Texts(rulebook)
    try:
        if any(contains_cpr(text) for text in [flow_id, *pairs]):  # before anything is parsed, echoed or logged
            raise DecideError("cpr_refused", to_plain(texts.common("cpr_refused")))
        raw = answer_pairs(pairs)
        flow, outcome, answers = decide(rulebook, texts, flow_id, raw)
    except DecideError as error:
        if as_json:
            print(json.dumps({"error": error.code, "question": error.question, "accepts": error.accepts,
                              "message": error.message}, ensure_ascii=False, indent=2))
        print(error.message, file=sys.stderr)
        return 2
    unused = sorted(set(raw) - set(answers))
    if unused:
        print(f"Bemærk: disse svar blev ikke brugt på denne vej gennem spørgsmålene: {', '.join(unused)}", file=sys.stderr)
    text = to_plain(texts.outcome(flow, outcome, answers))
    steps = trace_dicts(trace(rulebook, [(flow.id, answers)], current_day()))
    _log(rulebook, flow, answers, {**outcome.to_dict(), "trace": steps})
    if as_json:
        payload: dict[str, Any] = {"flow": flow.id, "programme": flow.programme.id,
                                   "rulebook_edition": flow.programme.edition, **outcome.to_dict(),
                                   "answers": answers, "trace": steps, "text": text}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(text)
    return 0


def answer_pairs(pairs: list[str]) -> dict[str, str]:
    """--answer ID=TEXT options as a mapping; DecideError for one without '='."""
    answers: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise DecideError("bad_argument", f"--answer skal have formen ID=TEKST, fx --answer age_15_29=ja (fik »{pair}«).")
        answers[key.strip()] = value
    return answers


def _log(rulebook: Rulebook, flow: Flow, answers: dict[str, str], outcome: dict[str, Any]) -> None:
    from bot.channels.staff import terminal_staff
    from storage.db import open_database
    from storage.records import Staff, append_decision

    staff = terminal_staff()
    append_decision(open_database(), Staff("cli", staff.staff_id, staff.name), flow.programme.id, flow.id,
                    flow.programme.edition, [{"flow": flow.id, "question": q, "value": v} for q, v in answers.items()],
                    outcome, current_day().isoformat())
