"""Telegram's command menu, set per scope (caseworkers in private chats; support users also get /log), and the
bot's description and short description, all in Danish from the templates."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError

from bot.chat.texts import Texts, to_plain

log = logging.getLogger("ungebot.telegram")

# Telegram allows only a-z, 0-9 and _ in commands.
CASEWORKER_COMMANDS = ("start", "ret", "tilbage", "hvorfor", "forfra", "hjaelp", "star", "faq", "program", "laer")
SUPPORT_COMMANDS = ("log",)


def commands(texts: Texts, names: tuple[str, ...]) -> list[BotCommand]:
    """The menu entries, each with its Danish description."""
    return [BotCommand(name, to_plain(texts.common(f"command_{name}"))) for name in names]


async def set_menu(bot: Bot, texts: Texts, support_users: list[int]) -> None:
    """Set the menu and descriptions; each is a convenience, so a failure is logged and the bot runs on."""
    calls = [("setMyCommands", bot.set_my_commands(commands(texts, CASEWORKER_COMMANDS),
                                                   scope=BotCommandScopeAllPrivateChats())),
             ("setMyDescription", bot.set_my_description(description=to_plain(texts.common("bot_description")))),
             ("setMyShortDescription", bot.set_my_short_description(
                 short_description=to_plain(texts.common("bot_short_description"))))]
    support = commands(texts, CASEWORKER_COMMANDS + SUPPORT_COMMANDS)
    calls += [("setMyCommands for a support user", bot.set_my_commands(support, scope=BotCommandScopeChat(user_id)))
              for user_id in support_users]  # a support user who never wrote to the bot has no chat yet: harmless
    for name, call in calls:
        try:
            await call
        except TelegramError as exc:
            log.warning("%s failed: %s", name, type(exc).__name__)
