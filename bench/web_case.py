"""The case the web benches answer, and how they answer it: the script, the page's patterns, the form a caseworker
sends, and the environment `ungebot web` runs in (shared by bench/web.py, web_loopback.py, web_parts.py and
web_pages.py)."""

from __future__ import annotations

import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One case as a caseworker answers it: the guide's switch example, buttons pressed by their label and dates typed,
# to the outcome (a decision logged), then "Ny sag". Seven answers; each is one POST.
SCRIPT: list[tuple[str, str]] = [
    ("press", "Ungeløftet"), ("press", "Skifter målgruppe"), ("press", "Ungeløftet – Flere unge skal med"),
    ("press", "Ja"), ("type", "12.10.2025"), ("type", "1/2-26"), ("press", "Ny sag"),
]
STEP = re.compile(r'name="step" value="(\d+)"')
OPTION = re.compile(r'name="option" value="(\d+)"[^>]*>([^<]*)</button>')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def field(kind: str, text: str, controls: str) -> dict[str, str]:
    """The form field a caseworker sends: the pressed button's index (by its label), or the typed text."""
    if kind == "type":
        return {"text": text}
    for index, label in OPTION.findall(controls):
        if html.unescape(label).startswith(text):
            return {"option": index}
    raise SystemExit(f"no button {text!r} in the answer forms: the bench's case no longer fits the dialogue")


def environment(folder: Path, sessions: int) -> dict[str, str]:
    """`ungebot web` behind a pretend login proxy (this machine) for users bench-0 …, its database in `folder`."""
    users = ",".join(f"bench-{n}" for n in range(max(sessions, 1)))
    return {"UNGEBOT_DB": str(folder / "ungebot.db"), "UNGEBOT_TODAY": "2026-01-15",
            "UNGEBOT_WEB_TRUSTED_HEADER": "X-Bench-User", "UNGEBOT_WEB_TRUSTED_PROXIES": "127.0.0.1",
            "UNGEBOT_WEB_ALLOWED_USERS": users, "UNGEBOT_WEB_RATE_ANSWERS": "99999", "PYTHONPATH": str(ROOT)}
