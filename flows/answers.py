"""Turn what a caseworker types into an answer value: yes/no, a choice, or a date."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from flows.dates import parse_date
from flows.errors import AnswerError
from flows.model import Question

_YES = {"ja", "j", "jo", "jep", "jeps", "ja tak", "ja da", "jada", "yes", "y", "ok", "okay", "sandt", "korrekt"}
_NO = {"nej", "n", "nej tak", "nix", "no", "ikke", "falsk"}
_SKIP = {"spring over", "spring", "ved ikke", "-", "skip", "nej tak"}
_PUNCTUATION = re.compile(r"[!.,?;:]+")


def normalise(text: str) -> str:
    """Lower case, single spaces, no end punctuation, dashes made plain: how labels and typed text are compared."""
    text = text.replace("–", "-").replace("—", "-").lower()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def parse_answer(question: Question, text: str, today: date, labels: Mapping[str, str]) -> str:
    """The canonical answer value for typed text; raise AnswerError with a message code if it cannot be read.

    `labels` maps each option value to the label shown, so a caseworker may type the value, its number or its label.
    """
    if not text.strip():
        raise AnswerError("empty")
    if question.kind == "date":
        if question.optional and normalise(text) in _SKIP:
            return ""
        return parse_date(text, today).isoformat()
    if (chosen := typed_answer(question, text)) is not None:
        return chosen
    options = question.options
    typed = normalise(text)
    if typed.isdecimal():
        # Only as many digits as an option number can have: int() refuses past 4,300 digits, and reads other
        # scripts' digits too (Arabic-Indic); a superscript such as "²" is a digit but not a decimal.
        index = int(typed) if len(typed) <= 3 else 0
        if 1 <= index <= len(options):
            return options[index - 1]
        raise AnswerError("choice_number", count=len(options))
    if question.kind == "yes_no" or set(options) >= {"yes", "no"}:
        if typed in _YES:
            return "yes"
        if typed in _NO:
            return "no"
    for value in options:
        if typed in (normalise(value), normalise(value.replace("_", " ")), normalise(labels.get(value, value))):
            return value
    if len(typed) >= 3:
        matches = [value for value in options if typed in normalise(labels.get(value, value))]
        if len(matches) == 1:
            return matches[0]
    raise AnswerError("yes_no_unreadable" if question.kind == "yes_no" else "choice_unknown", text=text.strip())


def typed_answer(question: Question, text: str) -> str | None:
    """The answer a question's `typed:` rules read from the text (e.g. a marker name typed as it stands in the
    fagsystem), or None; the rules are tried in order, before the labels."""
    typed = normalise(text)
    for rule in question.typed:
        if ((not rule.starts or typed.startswith(normalise(rule.starts)))
                and (not rule.contains or normalise(rule.contains) in typed)
                and (not rule.without or normalise(rule.without) not in typed)):
            return rule.answer
    return None


def parse_yes_no(text: str) -> bool | None:
    """True for a Danish yes, False for a no, None for anything else (used for confirmations)."""
    typed = normalise(text)
    if typed in _YES or typed == "1":
        return True
    if typed in _NO or typed == "2":
        return False
    return None
