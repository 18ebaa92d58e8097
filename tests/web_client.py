"""A web chat in a test: the app over Starlette's TestClient (HTTPS, so the Secure cookie travels) and a reader for
the answer forms, used by the web tests."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bot.channels.web.app import build_app
from bot.channels.web.chat import WebChat
from bot.channels.web.settings import WebSettings
from bot.config import read_mail_settings
from storage.db import open_database

_HIDDEN = re.compile(r'name="(csrf|step)" value="([^"]*)"')
_OPTION = re.compile(r'name="option" value="(\d+)"[^>]*>([^<]*)<')
_ACTION = re.compile(r'name="action" value="(\w+)"[^>]*>([^<]*)<')


def make_app(db_path: Path, rulebook: Any = None, **settings: Any) -> Any:
    """A web app over the database at db_path, in demo mode unless other settings say otherwise."""
    base = WebSettings(demo=True, secure_cookies=True)
    chat = WebChat(open_database(db_path), rulebook, read_mail_settings(environ={"UNGEBOT_DB": str(db_path)}),
                   "Testkommune")
    return build_app(replace(base, **settings), chat)


class Browser:
    """A TestClient that reads the page's forms and submits them like a browser without JavaScript."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000), headers: Any = None,
                 raise_server_exceptions: bool = True) -> None:
        self.client = TestClient(app, base_url="https://testserver", client=client, headers=headers,
                                 follow_redirects=False, raise_server_exceptions=raise_server_exceptions)
        self.page = ""

    def __enter__(self) -> "Browser":
        self.client.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.__exit__(*exc)

    def open(self, path: str = "/") -> str:
        """GET a page and remember it."""
        response = self.client.get(path)
        self.page = response.text
        return self.page

    def hidden(self) -> dict[str, str]:
        """The CSRF token and the step of the page's forms."""
        return dict(_HIDDEN.findall(self.page))

    def options(self) -> dict[str, str]:
        """The option buttons: label -> index."""
        return {html.unescape(label): index for index, label in _OPTION.findall(self.page)}

    def actions(self) -> dict[str, str]:
        """The command buttons: name -> label."""
        return {name: html.unescape(label) for name, label in _ACTION.findall(self.page)}

    def submit(self, **fields: str) -> Any:
        """Post a form as the page has it (plus the given fields), follow the redirect, and return the response."""
        response = self.client.post("/svar", data={**self.hidden(), **fields})
        if response.status_code == 303:
            self.open(response.headers["location"].split("#")[0])
        return response

    def type(self, text: str) -> Any:
        """Type into the answer field and send."""
        return self.submit(text=text)

    def press(self, label: str) -> Any:
        """Press the option button with this label."""
        return self.submit(option=self.options()[label])

    def messages(self) -> list[str]:
        """The conversation's messages as plain text."""
        found = re.findall(r'<div class="message-text">(.*?)</div>|<p class="message-text">(.*?)</p>', self.page, re.S)
        return [html.unescape(re.sub(r"<[^>]+>", "", bot or me)).strip() for bot, me in found]
