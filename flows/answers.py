"""Turn what a caseworker types into an answer value: one reader for every choice (questions, confirmations, the
STAR draft, /ret), and dates.

A choice is read from its number ("2", "2.", "2)"), its value, its label or the label's first word, and the common
forms of ja and nej; text that fits more than one option is asked back with the options, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache

from flows.dates import parse_date
from flows.errors import AnswerError
from flows.model import Question

_YES = {"ja", "j", "jo", "jep", "jeps", "ja tak", "ja da", "jada", "yes", "y", "ok", "okay", "sandt", "korrekt",
        "ja gerne", "gerne", "jamen ja", "javel", "jaja", "yep", "yup", "det er rigtigt", "rigtigt", "ja det er"}
_NO = {"nej", "n", "nej tak", "nix", "no", "nope", "ikke", "falsk", "nej da", "nejnej", "neej", "forkert",
       "nej det er ikke", "slet ikke"}
_SKIP = {"spring over", "spring", "ved ikke", "-", "skip", "nej tak"}
_PUNCTUATION = re.compile(r"[!.,?;:()\[\]\"'»«]+")
_NUMBER = re.compile(r"(?:nr|nummer)?\s*([0-9]+)")  # ASCII digits only (int() would read other scripts' too)
_ACCENTS = str.maketrans("éèêáàíó", "eeeaaio")


def normalise(text: str) -> str:
    """Lower case, single spaces, no punctuation or accents (but æ, ø, å kept), dashes made plain."""
    text = text.replace("–", "-").replace("—", "-").lower().translate(_ACCENTS)
    return " ".join(_PUNCTUATION.sub(" ", text).split())


@lru_cache(maxsize=2048)
def _known(text: str) -> str:
    """`normalise` for the options' own values and labels: a bounded set, read on every answer, so kept."""
    return normalise(text)


def read_choice(text: str, options: Sequence[tuple[str, str]], yes_no: tuple[str, str] | None = None) -> str:
    """The option value that typed text picks from (value, label) pairs; AnswerError if none or several fit.

    `yes_no` names the options a plain ja / nej picks (default: the options 'yes' and 'no', when there are)."""
    typed = normalise(text)
    if not typed:
        raise AnswerError("empty")
    values = [value for value, _ in options]
    if match := _NUMBER.fullmatch(typed):
        digits = match.group(1)
        index = int(digits) if len(digits) <= 3 else 0  # int() refuses past 4,300 digits
        if 1 <= index <= len(options):
            return values[index - 1]
        raise AnswerError("choice_number", count=len(options))
    for value, label in options:  # the value or the label itself
        if typed in (_known(value), _known(value.replace("_", " ")), _known(label)):
            return value
    if yes_no is None and {"yes", "no"} <= set(values):
        yes_no = ("yes", "no")
    candidates = set()
    if yes_no and typed in _YES:
        candidates.add(yes_no[0])
    if yes_no and typed in _NO:
        candidates.add(yes_no[1])
    for value, label in options:  # the label's first word, or its beginning
        words = _known(label).split()
        if words and (typed == words[0] or (len(typed) >= 3 and _known(label).startswith(typed))):
            candidates.add(value)
    if not candidates and len(typed) >= 3:  # a word from inside one label
        candidates = {value for value, label in options if f" {typed} " in f" {_known(label)} "}
    if len(candidates) == 1:
        return candidates.pop()
    labels = [label for value, label in options if value in candidates] or [label for _, label in options]
    code = "choice_ambiguous" if candidates else ("yes_no_unreadable" if values == ["yes", "no"] else "choice_unknown")
    raise AnswerError(code, text=text.strip(), options=labels)


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
    return read_choice(text, [(value, labels.get(value, value)) for value in question.options])


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
    """True for a Danish yes, False for a no, None for anything else (the CLI's own confirmations)."""
    try:
        return read_choice(text, (("yes", "Ja"), ("no", "Nej"))) == "yes"
    except AnswerError:
        return None
