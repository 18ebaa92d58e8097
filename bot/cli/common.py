"""What every sub-command shares: the refusal of bad input and the reading of whole numbers."""

from __future__ import annotations


class Refused(Exception):
    """Bad input to a command: the Danish message is printed, the exit code is 2, and nothing was stored."""


def whole_number(text: str, name: str) -> int:
    """A whole number above 0 typed on the command line, or Refused naming the option."""
    if not str(text).strip().isdigit() or int(text) < 1:
        raise Refused(f"{name} skal være et helt tal større end 0 (fik »{text}«).")
    return int(text)
