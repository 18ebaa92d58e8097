"""Find CPR numbers in free text, in any form a person types, so the bot can refuse the text before it is parsed,
stored or echoed. The detector says only whether there is one: it never hands the number back to anybody."""

from __future__ import annotations

import re
from datetime import date

# Every dash a keyboard or a word processor makes (hyphen, non-breaking hyphen U+2011, figure dash, en and em dash,
# minus sign U+2212) and the slash; inside the date part also the full stop.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212/"
# Between the date's parts (ddmmyy): nothing, spaces, or one dash, slash or full stop with spaces around it.
_IN_DATE = rf"(?:\s*[{_DASHES}.]\s*|\s+)?"
# Between the date and the four-digit serial: the same, so "010190-1234", "010190 - 1234", "010190–1234".
_TO_SERIAL = rf"(?:\s*[{_DASHES}.]\s*|\s+)?"
# Not inside a longer number: no digit right before (nor a digit and a decimal mark, as in 1.010190 1234),
# and no digit, nor a decimal mark and a digit, right after (12.345,50 or a time 10:30 ends the run).
# The pattern starts with the digits and looks behind afterwards: that lets the regex engine skip to the next digit
# instead of trying every position (about twice as fast on a long message).
_CPR = re.compile(
    rf"(\d\d)(?<!\d\d\d)(?<!\d[.,]\d\d){_IN_DATE}(\d\d){_IN_DATE}(\d\d){_TO_SERIAL}(\d{{4}})(?!\d)(?![.,:]\d)")
# "cpr", "cpr-nr.", "cpr nummer:", "CPR.nr" right before the digits: then the digits are refused even when they
# do not form a real birth date, since the writer says what they are.
_LABELLED = re.compile(r"cpr\W{0,3}(?:n(?:umme)?r\.?\W{0,3})?$", re.IGNORECASE)


def _is_birth_date(day: int, month: int, year: int) -> bool:
    """True when ddmmyy is a real date in either century a CPR number can mean."""
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
            return True
        except ValueError:
            continue
    return False


def contains_cpr(text: str) -> bool:
    """True when the text holds something that reads as a CPR number: ddmmyy and a four-digit serial, with or without
    separators, the date real or the number labelled "cpr"."""
    start = 0
    while match := _CPR.search(text, start):
        day, month, year, _ = (int(group) for group in match.groups())
        if _is_birth_date(day, month, year) or _LABELLED.search(text, 0, match.start()):
            return True
        start = match.start() + 1  # a run that is no birth date may hold the start of one further on
    return False
