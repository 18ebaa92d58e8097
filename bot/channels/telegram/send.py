"""Sending to Telegram: a reply as data (so it can be stored with the answer it acknowledges and sent again
exactly after a crash), and sends that log a failure instead of raising it.

Replies go out through PTB's `Bot.do_api_request` with the keyboard as the Bot API's own JSON and no return type:
the bot never reads the Message that Telegram sends back, and having PTB build one (every button of the keyboard
a frozen object) was the largest part of the time spent per answer (see bench/README.md)."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any

from telegram import Bot, CallbackQuery
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.warnings import PTBUserWarning

from bot.channels.telegram.ui import MESSAGE_LIMIT, Markup, split_message
from storage.records import to_json

log = logging.getLogger("ungebot.telegram")
NETWORK_RETRIES = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between tries of a send that did not reach Telegram
# do_api_request suggests the typed method for an endpoint PTB knows; we call it raw on purpose (module docstring).
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.(sendMessage|editMessageText)'", category=PTBUserWarning)


@dataclass(frozen=True)
class Outgoing:
    """One reply: HTML text and keyboard, sent to a chat or written over the message whose button was pressed."""

    chat_id: int
    text: str
    markup: Markup | None = None
    edit: int | None = None  # the id of the message to edit in place

    @cached_property
    def keyboard(self) -> str | None:
        """The keyboard as the JSON that is sent, made once: sending and storing use the same text."""
        return markup_json(self.markup)

    def to_json(self) -> str:
        """The reply as stored with its answer, written out around the keyboard's JSON (json.dumps of the whole
        reply encoded the keyboard a second time, and PTB a third when sending)."""
        return (f'{{"chat": {int(self.chat_id)}, "edit": {"null" if self.edit is None else int(self.edit)}, '
                f'"markup": {self.keyboard or "null"}, "text": {encode_basestring(self.text)}}}')

    @classmethod
    def from_json(cls, data: str) -> "Outgoing":
        raw: dict[str, Any] = json.loads(data)
        return cls(int(raw["chat"]), raw["text"], raw.get("markup") or None, raw.get("edit"))


async def deliver(bot: Bot, outgoing: Outgoing) -> None:
    """Edit in place where asked (an identical edit is a no-op: sending it again after a crash is harmless);
    otherwise, or if the edit fails, send a new message."""
    if outgoing.edit is not None and len(outgoing.text) <= MESSAGE_LIMIT:
        try:
            await bot.do_api_request("editMessageText", {
                "chat_id": outgoing.chat_id, "message_id": outgoing.edit, "text": outgoing.text,
                "parse_mode": ParseMode.HTML, "reply_markup": outgoing.keyboard})
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("editMessageText failed (%s); sending instead", type(exc).__name__)
        except TelegramError as exc:
            log.info("editMessageText failed (%s); sending instead", type(exc).__name__)
    await safe_send(bot, outgoing.chat_id, outgoing.text, outgoing.keyboard)


def markup_json(markup: Markup | None) -> str | None:
    """A keyboard as the JSON that is sent: PTB sends a text parameter as it is, and would encode a dict itself.
    The encoder is storage's, made once (json.dumps makes two per call); the same text."""
    return None if markup is None else to_json(markup)


async def safe_send(bot: Bot, chat_id: int, text: str, markup: Markup | str | None = None) -> None:
    """Send (split at Telegram's length limit); a failure is logged, never raised: the state is already on disk
    and the next message shows it. The keyboard goes with the last part, as a dict or as its JSON."""
    if isinstance(markup, dict):
        markup = markup_json(markup)
    parts = split_message(text)
    for index, part in enumerate(parts):
        for pause in (*NETWORK_RETRIES, None):
            try:
                await bot.do_api_request("sendMessage", {
                    "chat_id": chat_id, "text": part, "parse_mode": ParseMode.HTML,
                    "reply_markup": markup if index == len(parts) - 1 else None})
                break
            except NetworkError as exc:  # Telegram unreachable or slow (TimedOut is one): the reply is still due
                if pause is None:
                    log.warning("sendMessage to a chat failed %d times: %s", len(NETWORK_RETRIES) + 1,
                                type(exc).__name__)
                    return
                await asyncio.sleep(pause)
            except TelegramError as exc:
                log.warning("sendMessage to a chat failed: %s", type(exc).__name__)
                return


class Press:
    """A button press, acknowledged exactly once (which stops the client's spinner): alongside the reply (`soon`,
    after the answer is committed, so the reply never waits for a round trip of its own), or at the latest when its
    handling ends (`settle`, whatever failed in between)."""

    def __init__(self, query: CallbackQuery) -> None:
        self.query = query
        self._task: asyncio.Task[None] | None = None

    def soon(self, text: str | None = None) -> None:
        """Acknowledge now, without waiting for it (the first call's text counts)."""
        if self._task is None:
            self._task = asyncio.create_task(safe_answer(self.query, text))

    async def settle(self) -> None:
        """Acknowledge if not done yet, and wait until it is."""
        self.soon()
        assert self._task is not None
        await self._task


async def safe_answer(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a button press (stops the client's spinner); a query too old to answer is harmless."""
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.info("answerCallbackQuery failed: %s", type(exc).__name__)


async def clear_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off the pressed message; "message is not modified", or too old to edit, is harmless."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as exc:
        log.info("editMessageReplyMarkup failed: %s", type(exc).__name__)
