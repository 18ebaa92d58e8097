"""Turn replies into what the page shows: its messages (HTML, stored with the session per turn) and the answer forms."""

from __future__ import annotations

import functools
import json
import re
from json.encoder import encode_basestring
from typing import Any, NamedTuple

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response

from bot.channels.web.headers import first
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

    def render(self, entries: list[dict[str, str]], remember: bool = True) -> list[str]:
        """Each entry's HTML; with `remember` False none is kept (a caseworker's own text: see Turns.make)."""
        return [self._one(entry, remember) for entry in entries]

    def _one(self, entry: dict[str, str], remember: bool = True) -> str:
        text = entry.get("text") or entry.get("html") or ""
        key = (entry["who"], entry["kind"], text, entry.get("src", ""), entry.get("alt", ""))
        html = self._made.get(key)
        if html is None:
            message = entry if entry["who"] == "me" else {**entry, "html": Markup(entry.get("html", ""))}
            html = self.template.render(message=message).strip()
            if remember and (entry["who"] != "me" or len(text) <= self.SHORT):
                if len(self._made) >= self.size:
                    self._json.pop(self._made.pop(next(iter(self._made))), None)
                self._made[key] = html
                self._json[html] = encode_basestring(html)[1:-1]
        return html

    def json(self, html: str) -> str:
        """A message's HTML as the inside of a JSON string (json's own encoding; remembered with the message)."""
        found = self._json.get(html)
        return found if found is not None else encode_basestring(html)[1:-1]

    def array(self, messages: list[str]) -> str:
        """Messages as a JSON array of strings (json.dumps's text), as a turn stores them."""
        return "[" + ", ".join(['"' + self.json(html) + '"' for html in messages]) + "]"


class Forms(NamedTuple):
    """The answer forms after a turn: the last reply's options, the command buttons (name, label), the dialogue's
    step (every form carries it), whether a date is asked for, the reply's kind, where the forms post, and the text
    field's hint ("" for the usual one). Stored with the turn as JSON (`stored`, `read`)."""

    options: tuple[str, ...]
    actions: tuple[tuple[str, str], ...]
    step: int
    date: bool
    kind: str
    action: str = "/svar"
    hint: str = ""

    @property
    def key(self) -> tuple[Any, ...]:
        """Everything but the step: the forms of one question are the same for every caseworker there."""
        return self.options, self.actions, self.date, self.kind, self.action, self.hint

    def stored(self) -> str:
        """As stored with the turn: a JSON object (the step written into the rest, which is made once per key)."""
        return _stored(self.key) + str(int(self.step)) + "}"

    @classmethod
    def read(cls, text: str) -> "Forms":
        """Forms as `stored` wrote them (or as a turn from before Forms stored its answer forms: the same object)."""
        data = json.loads(text)
        return cls(tuple(data.get("options", ())), tuple((name, label) for name, label in data.get("actions", ())),
                   int(data.get("step", 0)), bool(data.get("date", False)), str(data.get("kind", "")),
                   str(data.get("action", "/svar")), str(data.get("hint", "")))


@functools.lru_cache(maxsize=1024)
def _stored(key: tuple[Any, ...]) -> str:
    options, actions, date, kind, action, hint = key
    data: dict[str, Any] = {"options": list(options), "actions": [list(pair) for pair in actions], "date": date,
                            "kind": kind}
    if action != "/svar" or hint:
        data.update(action=action, hint=hint)
    return json.dumps(data, ensure_ascii=False)[:-1] + ', "step": '


def controls(replies: list[Reply], state: DialogueState, labels: dict[str, str], help_label: str) -> Forms:
    """The answer forms for the last reply: its options, "I dag" where usual, and the command buttons."""
    last = replies[-1] if replies else Reply("")
    if last.kind == "hint" and len(replies) > 1 and replies[-2].kind == "outcome":
        last = replies[-2]  # the hint after an outcome is not shown (see `shown`): the outcome is the last shown
    actions: list[tuple[str, str]] = []
    if last.today_button:
        actions.append(("today", labels["today"]))
    if last.kind in ("outcome", "hint"):
        actions += [("new", labels["new"]), ("back", labels["back"]), ("star", labels["star"])]
    elif last.kind == "question":
        if any(segment.answers for segment in state.segments):
            actions.append(("back", labels["back"]))
        if not state.pending:
            actions.append(("help", help_label))
    # The options are the last reply's, also when that reply is the hint shown as the outcome's buttons (Hvorfor?,
    # Ret et svar, Ny sag): they are what the chat's current_options will read a pressed button against.
    options = _labels(tuple(replies[-1].options)) if replies else ()
    return Forms(options, tuple([action for action in actions if action[1] not in options]), state.step,
                 last.kind == "question" and not last.options, last.kind)


@functools.lru_cache(maxsize=1024)
def _labels(options: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """A reply's options' labels (a question's options are the same tuple each time it is asked)."""
    return tuple([label for _, label in options])


class Made(NamedTuple):
    """A turn as the page has it: its messages (HTML), them as stored, the answer forms after it, and its messages as
    chat.js gets them (the inside of a JSON string; `messages_json`)."""

    messages: list[str]
    array: str
    forms: Forms
    json: str


class Turns:
    """A turn's messages (HTML), them as a turn stores them, and the answer forms after it, made once per echo, replies
    and the state's part in the forms (its step is filled in): caseworkers at the same question with the same answer
    get the same turn. Up to `size` are remembered; a long echo (typed text) is made each time."""

    def __init__(self, messages: Messages, labels: dict[str, str], help_label: str, size: int = 1024) -> None:
        self.messages, self.labels, self.help_label, self.size = messages, labels, help_label, size
        self._made: dict[tuple[Any, ...], Made] = {}

    def make(self, echo: str | None, replies: list[Reply], state: DialogueState) -> Made:
        """The turn's messages, them as stored (Messages.array), its answer forms, and its messages for chat.js.
        A turn with a caseworker's own words in it (a draft for STAR, which quotes the question typed; the decision
        log's listings) is never kept, nor are its messages: only the dialogue's row holds them."""
        keep = (echo is None or len(echo) <= self.messages.SHORT) and not _own_words(echo, replies)
        key = (echo, *replies, any(segment.answers for segment in state.segments), not state.pending)
        try:
            made = self._made.get(key) if keep else None
        except TypeError:  # a reply that cannot be a key (not as the conversation makes them): made each time
            made, key = None, ()
        if made is None:
            messages = self.messages.render(entries(echo, replies), remember=keep)
            made = Made(messages, self.messages.array(messages), controls(replies, state, self.labels, self.help_label),
                        messages_json(self.messages, messages))
            if key and keep:
                if len(self._made) >= self.size:
                    self._made.pop(next(iter(self._made)))
                self._made[key] = made
        return made._replace(messages=list(made.messages), forms=made.forms._replace(step=state.step))


def _own_words(echo: str | None, replies: list[Reply]) -> bool:
    """Whether a turn shows what a caseworker wrote or looked up: a draft for STAR, or the decision log (/log)."""
    return any(reply.kind == "draft" for reply in replies) or (echo or "").lstrip().lower().startswith("/log")


class ControlsCache:
    """controls.j2 rendered once per set of forms (a question's options and buttons, the same for every caseworker
    there); each answer fills in its step and CSRF token. What it fills in is escaped; the rest is the template's."""

    _STEP, _CSRF = "\x00step\x00", "\x00csrf\x00"  # never in a template's output: it cannot hold a NUL

    def __init__(self, environment: Environment, size: int = 512) -> None:
        self.template = environment.get_template("controls.j2")
        self.size = size
        self._rendered: dict[tuple[Any, ...], tuple[_Filled, _Filled]] = {}  # key -> the HTML, and it as JSON
        self._token: tuple[str, str, str] = ("", "", "")  # the last CSRF token, escaped for HTML and for JSON

    def _made(self, forms: Forms, focus: bool) -> tuple[_Filled, _Filled]:
        key = (focus, forms.key)
        made = self._rendered.get(key)
        if made is None:
            html = self.template.render(controls={**forms._asdict(), "step": self._STEP}, csrf=self._CSRF, focus=focus)
            made = _Filled(html, self._STEP, self._CSRF), _Filled(encode_basestring(html), _JSON_STEP, _JSON_CSRF)
            if len(self._rendered) >= self.size:
                self._rendered.pop(next(iter(self._rendered)))
            self._rendered[key] = made
        return made

    def _escaped(self, csrf: str) -> tuple[str, str]:
        """The CSRF token escaped for HTML, and that as the inside of a JSON string (the last token remembered: a
        session sends the same one with every answer)."""
        if self._token[0] != csrf:
            html = str(escape(csrf))
            self._token = (csrf, html, encode_basestring(html)[1:-1])
        return self._token[1], self._token[2]

    def render(self, forms: Forms, csrf: str, focus: bool) -> str:
        """The answer forms for these controls, this CSRF token and this step."""
        return self._made(forms, focus)[0].fill(str(int(forms.step)), self._escaped(csrf)[0])

    def json(self, forms: Forms, csrf: str, focus: bool) -> str:
        """`render`'s text as a JSON string (json's own encoding, of the forms once and of what is filled in)."""
        return self._made(forms, focus)[1].fill(str(int(forms.step)), self._escaped(csrf)[1])


class _Filled:
    """A text with two marks in it (the step's and the CSRF token's), cut at them once, filled in by joining."""

    __slots__ = ("parts", "steps", "tokens")

    def __init__(self, text: str, step: str, token: str) -> None:
        self.parts = re.split(f"({re.escape(step)}|{re.escape(token)})", text)
        self.steps = [index for index in range(1, len(self.parts), 2) if self.parts[index] == step]
        self.tokens = [index for index in range(1, len(self.parts), 2) if self.parts[index] == token]

    def fill(self, step: str, token: str) -> str:
        parts = self.parts.copy()
        for index in self.steps:
            parts[index] = step
        for index in self.tokens:
            parts[index] = token
        return "".join(parts)


_JSON_STEP, _JSON_CSRF = (encode_basestring(mark)[1:-1] for mark in (ControlsCache._STEP, ControlsCache._CSRF))


_MARKED_JSON = encode_basestring('<div id="seneste" class="message ')[1:-1]
_OPENING_JSON = encode_basestring(OPENING)[1:-1]


def fetched(request: Request) -> bool:
    """Whether chat.js sent the form (it asks for JSON with `X-Ungebot-Fetch: 1`), read as Starlette's headers read
    it (the first such header) from the raw headers."""
    return first(request.scope, b"x-ungebot-fetch") == b"1"


def messages_json(made: Messages, messages: list[str]) -> str:
    """New messages (made by `made`) as chat.js gets them: the inside of a JSON string, joined by newlines, the last
    marked as for_page marks it; written from the messages' JSON remembered with them."""
    parts = [made.json(html) for html in messages]
    if parts and messages[-1].startswith(OPENING):
        parts[-1] = _MARKED_JSON + parts[-1][len(_OPENING_JSON):]
    return "\\n".join(parts)


def reply(made: Messages, messages: list[str], controls: str, written: str | None = None) -> Response:
    """What chat.js gets for an answer: the new messages (made by `made`; `written`: messages_json's text for them,
    if the caller has it) and the answer forms (ControlsCache.json), as JSON: the same bytes as Starlette's
    JSONResponse of the two texts."""
    text = messages_json(made, messages) if written is None else written
    body = '{"messages":"' + text + '","controls":' + controls + "}"
    return Response(body.encode("utf-8"), media_type="application/json")
