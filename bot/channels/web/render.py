"""Turn replies into what the page shows: its messages (HTML, stored with the session per turn) and the answer forms."""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.responses import Response

from bot.chat.dialogue import DialogueState, Reply
from flows.loader import TEMPLATES_DIR


def page_environment() -> Environment:
    """The page templates in templates/web (autoescaped, strict)."""
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR / "web")), autoescape=True, auto_reload=False,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def shown(replies: list[Reply]) -> list[Reply]:
    """The replies to show: the hint after an outcome goes, as the outcome's buttons say the same (as in Telegram)."""
    return [reply for index, reply in enumerate(replies)
            if not (reply.kind == "hint" and index > 0 and replies[index - 1].kind == "outcome")]


def entries(echo: str | None, replies: list[Reply]) -> list[dict[str, str]]:
    """The messages of one turn: what the caseworker chose or typed, then the bot's replies."""
    found = [{"who": "me", "kind": "answer", "text": echo}] if echo else []
    return found + [{"who": "bot", "kind": reply.kind, "html": reply.text} for reply in shown(replies)]


OPENING = '<div class="message '  # how message.j2 begins


def for_page(messages: list[str]) -> list[Markup]:
    """Messages made by Messages, ready for messages.j2: the last one marked id="seneste" (where the page opens
    after an answer, and where chat.js scrolls to)."""
    marked = [Markup(html) for html in messages]
    if marked and marked[-1].startswith(OPENING):
        marked[-1] = Markup('<div id="seneste" class="message ') + marked[-1][len(OPENING):]
    return marked


class Messages:
    """Messages as the page shows them (message.j2), each made once: the bot's replies (HTML from our autoescaped
    templates, marked safe) and short echoes (button labels, dates) repeat across caseworkers and are remembered,
    up to `size` of them; longer text a caseworker typed is made each time. What a caseworker typed is escaped."""

    SHORT = 100  # echoes up to this long are remembered

    def __init__(self, environment: Environment, size: int = 2048) -> None:
        self.template = environment.get_template("message.j2")
        self.size = size
        self._made: dict[tuple[str, ...], str] = {}
        self._json: dict[str, str] = {}  # a remembered message's HTML as the inside of a JSON string

    def render(self, entries: list[dict[str, str]]) -> list[str]:
        """Each entry's HTML."""
        return [self._one(entry) for entry in entries]

    def _one(self, entry: dict[str, str]) -> str:
        text = entry.get("text") or entry.get("html") or ""
        key = (entry["who"], entry["kind"], text, entry.get("src", ""), entry.get("alt", ""))
        html = self._made.get(key)
        if html is None:
            message = entry if entry["who"] == "me" else {**entry, "html": Markup(entry.get("html", ""))}
            html = self.template.render(message=message).strip()
            if entry["who"] != "me" or len(text) <= self.SHORT:
                if len(self._made) >= self.size:
                    self._json.pop(self._made.pop(next(iter(self._made))), None)
                self._made[key] = html
                self._json[html] = encode_basestring(html)[1:-1]
        return html

    def json(self, html: str) -> str:
        """A message's HTML as the inside of a JSON string (json's own encoding; remembered with the message)."""
        found = self._json.get(html)
        return found if found is not None else encode_basestring(html)[1:-1]


def controls(replies: list[Reply], state: DialogueState, labels: dict[str, str], help_label: str) -> dict[str, Any]:
    """The answer forms for the last reply: its options, "I dag" where usual, and the command buttons."""
    kept = shown(replies)
    last = kept[-1] if kept else Reply("")
    actions: list[tuple[str, str]] = []
    if last.today_button:
        actions.append(("today", labels["today"]))
    if last.kind in ("outcome", "hint"):
        actions += [("new", labels["new"]), ("back", labels["back"]), ("star", labels["star"])]
    else:
        if last.kind == "question" and any(segment.answers for segment in state.segments):
            actions.append(("back", labels["back"]))
        if last.kind == "question" and not state.pending:
            actions.append(("help", help_label))
    # The options are the last reply's, also when that reply is the hint shown as the outcome's buttons (Hvorfor?,
    # Ret et svar, Ny sag): they are what the chat's current_options will read a pressed button against.
    options = [label for _, label in (replies[-1].options if replies else ())]
    actions = [(name, label) for name, label in actions if label not in options]
    return {"options": options, "actions": actions, "step": state.step,
            "date": last.kind == "question" and not last.options, "kind": last.kind}


class ControlsCache:
    """controls.j2 rendered once per set of forms (a question's options and buttons, the same for every caseworker
    there); each answer fills in its step and CSRF token. What it fills in is escaped; the rest is the template's."""

    _STEP, _CSRF = "\x00step\x00", "\x00csrf\x00"  # never in a template's output: it cannot hold a NUL

    def __init__(self, environment: Environment, size: int = 512) -> None:
        self.template = environment.get_template("controls.j2")
        self.size = size
        self._rendered: dict[tuple[Any, ...], tuple[str, str]] = {}  # key -> the HTML, and it as a JSON string

    def _made(self, controls: dict[str, Any], focus: bool) -> tuple[str, str]:
        key = (focus, *((name, _frozen(value)) for name, value in sorted(controls.items()) if name != "step"))
        made = self._rendered.get(key)
        if made is None:
            html = self.template.render(controls={**controls, "step": self._STEP}, csrf=self._CSRF, focus=focus)
            made = html, encode_basestring(html)
            if len(self._rendered) >= self.size:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[key] = made
        return made

    def render(self, controls: dict[str, Any], csrf: str, focus: bool) -> str:
        """The answer forms for these controls, this CSRF token and this step."""
        html = self._made(controls, focus)[0]
        return html.replace(self._STEP, str(escape(str(controls["step"])))).replace(self._CSRF, str(escape(csrf)))

    def json(self, controls: dict[str, Any], csrf: str, focus: bool) -> str:
        """`render`'s text as a JSON string (json's own encoding, of the forms once and of what is filled in)."""
        text = self._made(controls, focus)[1]
        step, token = (encode_basestring(str(escape(value)))[1:-1] for value in (str(controls["step"]), csrf))
        return text.replace(_JSON_STEP, step).replace(_JSON_CSRF, token)


_JSON_STEP, _JSON_CSRF = (encode_basestring(mark)[1:-1] for mark in (ControlsCache._STEP, ControlsCache._CSRF))


def _frozen(value: Any) -> Any:
    """A value of the answer forms as a key: lists (from memory or read back from JSON) as tuples."""
    return tuple(_frozen(item) for item in value) if isinstance(value, (list, tuple)) else value


_MARKED_JSON = encode_basestring('<div id="seneste" class="message ')[1:-1]
_OPENING_JSON = encode_basestring(OPENING)[1:-1]


def reply(made: Messages, messages: list[str], controls: str) -> Response:
    """What chat.js gets for an answer: the new messages (made by `made`, the last marked as for_page marks it) and
    the answer forms (ControlsCache.json), as JSON: the same bytes as Starlette's JSONResponse of the two texts,
    written from the messages' and forms' JSON remembered with them."""
    parts = [made.json(html) for html in messages]
    if parts and messages[-1].startswith(OPENING):
        parts[-1] = _MARKED_JSON + parts[-1][len(_OPENING_JSON):]
    body = '{"messages":"' + "\\n".join(parts) + '","controls":' + controls + "}"
    return Response(body.encode("utf-8"), media_type="application/json")
