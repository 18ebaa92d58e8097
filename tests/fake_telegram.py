"""A fake Telegram Bot API for tests: the behaviour in one class, reachable offline (a PTB request object) or over
HTTP on 127.0.0.1 (a real server speaking the Bot API wire format, long-polled by a real Application)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "ungebot", "username": "ungebot_test_bot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
_INT_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "link_preview_options"}


class _NotModified(Exception):
    """An edit that would change nothing."""


class FakeTelegram:
    """What the Bot API does for the methods ungebot uses; records every call and every message sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[int, dict[str, Any]] = {}  # message_id -> message, as the bot last left it
        self.sent: list[dict[str, Any]] = []  # every sendMessage, in order
        self.photos: list[dict[str, Any]] = []  # every sendPhoto, in order
        self.outbox: list[dict[str, Any]] = []  # every message the bot sent or edited, in order (as it now reads)
        self.failures: dict[str, list[tuple[int, str, dict[str, Any] | None]]] = {}
        self.raise_network: dict[str, int] = {}
        self.pushed: list[dict[str, Any]] = []  # every update ever queued, redeliveries included
        self.by_chat: dict[int, list[dict[str, Any]]] = {}  # the outbox, per chat
        self.on_message: Callable[[int], None] | None = None  # told the chat id of each message sent or edited
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._highest = 0  # the highest update_id given in the current numbering
        self.offsets_beyond_confirm = False  # see renumber
        self._next_message = 1000
        self._poll_generation = 0
        self._lock = threading.Condition()

    # -- the test's side ----------------------------------------------------------------------------------------------
    def fail(self, method: str, status: int, description: str, parameters: dict[str, Any] | None = None,
             times: int = 1) -> None:
        """Make the next `times` calls of `method` fail with this Bot API error."""
        self.failures.setdefault(method, []).extend([(status, description, parameters)] * times)

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates, giving it the next update_id unless it has one (a redelivery)."""
        with self._lock:
            if "update_id" not in update:
                update = {"update_id": self._next_update, **update}
                self._next_update += 1
            self._highest = max(self._highest, update["update_id"])
            self._updates.append(update)
            self.pushed.append(update)
            self._lock.notify_all()
        return update

    def renumber(self, start: int, offsets_beyond_confirm: bool = False) -> None:
        """Number the next updates afresh from `start`, as Telegram does after a week without any update ("chosen
        randomly instead of sequentially", so maybe far below the old numbers). An offset beyond the new numbering
        confirms nothing, so the new updates still come (seen by go-telegram-bot-api, issue 156: getUpdates with
        offset 727334708 returned update 117314199, again and again while the offset stayed); with
        `offsets_beyond_confirm`, as the Bot API's text reads: every update below the offset counts as confirmed."""
        with self._lock:
            self._next_update, self._highest = start, 0
            self.offsets_beyond_confirm = offsets_beyond_confirm

    def next_update_id(self) -> int:
        with self._lock:
            self._next_update += 1
            return self._next_update - 1

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # -- the bot's side -----------------------------------------------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        with self._lock:
            self.calls.append((method, params))
            queued = self.failures.get(method)
            if queued:
                status, description, parameters = queued.pop(0)
                body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
                if parameters:
                    body["parameters"] = parameters
                return status, body
        if method == "getUpdates":
            updates = self._get_updates(params)
            if updates is None:
                return 409, {"ok": False, "error_code": 409,
                             "description": "Conflict: terminated by other getUpdates request"}
            return 200, {"ok": True, "result": updates}
        try:
            return 200, {"ok": True, "result": self._result(method, params)}
        except _NotModified:  # as Telegram answers an edit that changes nothing
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified: "
                         "specified new message content and reply markup are exactly the same"}

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        with self._lock:
            if method == "getMe":
                return BOT_USER
            if method == "sendMessage":
                self._next_message += 1
                message = {"message_id": self._next_message, "date": int(time.time()), "from": BOT_USER,
                           "chat": {"id": int(params["chat_id"]), "type": "private"}, "text": params["text"]}
                if params.get("reply_markup"):
                    message["reply_markup"] = params["reply_markup"]
                self.messages[message["message_id"]] = message
                self.sent.append(message)
                self.outbox.append(message)
                self._record(message)
                return message
            if method == "sendPhoto":
                self._next_message += 1
                photo = {"message_id": self._next_message, "date": int(time.time()), "from": BOT_USER,
                         "chat": {"id": int(params["chat_id"]), "type": "private"},
                         "photo": [{"file_id": f"photo{self._next_message}", "file_unique_id": "p", "width": 1,
                                    "height": 1}]}
                self.messages[photo["message_id"]] = photo
                self.photos.append(photo)
                return photo
            if method in ("editMessageText", "editMessageReplyMarkup"):
                message = self.messages.get(int(params.get("message_id", 0)))
                if message is None:
                    return True
                if (method == "editMessageText" and params["text"] == message["text"]
                        and params.get("reply_markup") == message.get("reply_markup")):
                    raise _NotModified
                # An edit makes a new version: earlier copies (what a client still shows) keep their buttons.
                message = dict(message)
                if method == "editMessageText":
                    message["text"] = params["text"]
                if params.get("reply_markup"):
                    message["reply_markup"] = params["reply_markup"]
                else:
                    message.pop("reply_markup", None)
                self.messages[message["message_id"]] = message
                if method == "editMessageText":
                    self.outbox.append(message)
                    self._record(message)
                return message
            return True  # answerCallbackQuery, setMyCommands, deleteWebhook, close, ...

    def _record(self, message: dict[str, Any]) -> None:
        self.by_chat.setdefault(message["chat"]["id"], []).append(message)
        if self.on_message is not None:
            self.on_message(message["chat"]["id"])

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Long-poll as Telegram does; None when a newer getUpdates terminated this one (Telegram's 409)."""
        offset, timeout = int(params.get("offset") or 0), float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._lock:
            self._poll_generation += 1
            generation = self._poll_generation
            while True:
                if generation != self._poll_generation:
                    return None
                # Updates below the offset are confirmed: Telegram forgets them (see renumber for an offset beyond
                # the numbering).
                if offset <= self._highest + 1 or self.offsets_beyond_confirm:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
                self._lock.wait(max(0.0, min(0.05, deadline - time.monotonic())))


class OfflineRequest(BaseRequest):
    """A PTB request object that never touches the network: every call goes to a FakeTelegram."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        remaining = self.fake.raise_network.get(api_method, 0)
        if remaining:
            self.fake.raise_network[api_method] = remaining - 1
            raise NetworkError("offline test: connection reset")
        params = dict(request_data.parameters) if request_data else {}
        for key in _JSON_FIELDS & params.keys():  # sent as JSON text (as the Bot API reads them), not as a dict
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        status, body = self.fake.handle(api_method, params)
        return status, json.dumps(body).encode()


def _decode(body: bytes, content_type: str) -> dict[str, Any]:
    """Bot API parameters from a JSON or form-encoded body, typed the way the Bot API reads them."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(body))
    params: dict[str, Any] = {key: values[-1] for key, values in parse_qs(body.decode(), keep_blank_values=True).items()}
    for key in _INT_FIELDS & params.keys():
        params[key] = int(params[key])
    for key in _JSON_FIELDS & params.keys():
        params[key] = json.loads(params[key])
    return params


class FakeBotApiServer:
    """The FakeTelegram behind a real HTTP server on 127.0.0.1 (a free port), as https://api.telegram.org/bot…"""

    def __init__(self, fake: FakeTelegram, token: str) -> None:
        self.fake, self.token = fake, token
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def __enter__(self) -> "FakeBotApiServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                prefix = f"/bot{outer.token}/"
                if not self.path.startswith(prefix):
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the client died mid-request (a killed bot): Telegram never sees it
                    return
                params = _decode(body, self.headers.get("Content-Type", ""))
                status, body = outer.fake.handle(self.path[len(prefix):].split("?")[0], params)
                self._reply(status, body)

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a long poll (a bot stopping or killed): as with Telegram

            do_POST = _serve
            do_GET = _serve

        return Handler


# -- updates as Telegram sends them -----------------------------------------------------------------------------------
def user(user_id: int, first_name: str = "Sagsbehandler") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": str(user_id), "language_code": "da"}


def message_update(user_id: int, text: str | None, chat_type: str = "private", update_id: int | None = None,
                   sticker: bool = False) -> dict[str, Any]:
    chat = {"id": user_id if chat_type == "private" else -100 - user_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Sagsbehandler"
    message: dict[str, Any] = {"message_id": int(time.time() * 1000) % 1_000_000, "date": int(time.time()),
                               "chat": chat, "from": user(user_id)}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if sticker:
        message["sticker"] = {"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1, "is_animated": False,
                              "is_video": False, "type": "regular"}
    update: dict[str, Any] = {"message": message}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def callback_update(user_id: int, data: str, message: dict[str, Any], update_id: int | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {"callback_query": {
        "id": str(int(time.time() * 1_000_000)), "from": user(user_id), "chat_instance": "ci", "data": data,
        "message": message}}
    if update_id is not None:
        update["update_id"] = update_id
    return update


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button of a sent message."""
    markup = message.get("reply_markup") or {}
    return [(button["text"], button["callback_data"]) for row in markup.get("inline_keyboard", []) for button in row]


def press(message: dict[str, Any], label: str) -> str:
    """The callback data of the button with this label (or label prefix)."""
    for text, data in buttons(message):
        if text == label or text.startswith(label):
            return data
    raise AssertionError(f"no button {label!r} in {buttons(message)}")
