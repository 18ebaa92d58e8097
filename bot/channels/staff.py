"""Who is at the keyboard: the log identifies staff by login name, never citizens."""

from __future__ import annotations

import getpass
import os

from storage.records import Staff

def terminal_staff() -> Staff:
    """The person at the keyboard, by login name: the log identifies staff, never citizens."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "ukendt"
    return Staff(channel="terminal", staff_id=login, name=os.environ.get("UNGEBOT_STAFF_NAME", login))
