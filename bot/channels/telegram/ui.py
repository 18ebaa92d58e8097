"""Telegram's side of a turn: callback data, keyboards, one message per turn, and Telegram's length limit."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.chat.dialogue import DialogueState, Reply, Turn

Markup = dict[str, Any]  # an inline keyboard as the Bot API's JSON (sent as it is, stored with the reply)

CALLBACK_VERSION = "1"
MESSAGE_LIMIT = 4096


def callback(step: int, action: str, argument: str = "") -> str:
    """Callback data for a button: version, the dialogue step it belongs to, the action and its argument."""
    data = f"{CALLBACK_VERSION}:{step}:{action}:{argument}"
    assert len(data.encode()) <= 64, data
    return data


def parse_callback(data: str | None) -> tuple[int, str, str] | None:
    """(step, action, argument) from callback data, or None if it is not ours or not this version."""
    parts = (data or "").split(":", 3)
    if len(parts) != 4 or parts[0] != CALLBACK_VERSION or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2], parts[3]


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split a long message at paragraph breaks (our HTML never spans one) so each part fits Telegram's limit."""
    parts, current = [], ""
    for paragraph in text.split("\n\n"):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > 0 else _unbroken(paragraph, limit)
            parts.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip("\n")
        current = paragraph
    return parts + ([current] if current else [])


def _unbroken(text: str, limit: int) -> int:
    """Where to cut a line longer than `limit`: at `limit`, or earlier, so that no entity (&amp;), tag or element
    (<b>…</b>) is cut in two (Telegram refuses a message whose HTML is broken)."""
    cut = limit
    for opener, closer, reach in (("&", ";", 10), ("<", ">", limit)):
        start = text.rfind(opener, max(0, cut - reach), cut)
        if start > 0 and closer not in text[start:cut]:
            cut = start
    depth, outermost = 0, 0
    for tag in _TAG.finditer(text, 0, cut):
        if tag.group(1):
            depth = max(0, depth - 1)
        else:
            outermost = tag.start() if depth == 0 else outermost
            depth += 1
    return outermost if depth and outermost > 0 else cut


_TAG = re.compile(r"<(/?)[a-zA-Z][^<>]*>")


def button(text: str, data: str) -> dict[str, str]:
    return {"text": text, "callback_data": data}


def keyboard(reply: Reply, state: DialogueState, labels: dict[str, str]) -> Markup | None:
    """The buttons for a reply: its options, "I dag" where a date is usually today, and the outcome's choices."""
    step, rows = state.step, []
    if reply.options:
        buttons = [button(label, callback(step, "a", str(index)))
                   for index, (_, label) in enumerate(reply.options)]
        short = all(len(label) <= 12 for _, label in reply.options) and len(buttons) <= 3
        rows = [buttons] if short else [[one] for one in buttons]
    if reply.today_button:
        rows.append([button(labels["today"], callback(step, "t"))])
    if reply.kind in ("outcome", "hint"):
        shown = {label for _, label in reply.options}  # "Ny sag" may already be one of the outcome's options
        rows.append([button(labels[name], callback(step, code))
                     for name, code in (("new", "n"), ("back", "b"), ("star", "s")) if labels[name] not in shown])
    elif reply.kind == "question" and any(segment.answers for segment in state.segments):
        rows.append([button(labels["back"], callback(step, "b"))])
    return {"inline_keyboard": rows} if rows else None


def compose(turn: Turn, labels: dict[str, str], chosen: str | None = None) -> tuple[str, Markup | None]:
    """A turn's replies as one message (the chosen answer first, if any), with the keyboard of its last reply."""
    kept = [reply for index, reply in enumerate(turn.replies)
            if not (reply.kind == "hint" and index > 0 and turn.replies[index - 1].kind == "outcome")]
    parts = [reply.text for reply in kept]
    if chosen:
        parts.insert(0, f"<i>{chosen}</i>")
    if not kept:
        return "\n\n".join(parts), None
    # The hint after an outcome is folded into it, but its options (Hvorfor?, Ret et svar, Ny sag) are the buttons:
    # they are what the chat's current_options reads a pressed button against.
    last = replace(kept[-1], options=turn.replies[-1].options) if turn.replies[-1] is not kept[-1] else kept[-1]
    return "\n\n".join(parts), keyboard(last, turn.state, labels)
