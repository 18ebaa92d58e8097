"""The Telegram adapter: the terminal chat's dialogue with buttons. Thin: rules and texts come from the shared
conversation layer and the templates; every answer is committed to SQLite before the reply is sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import OrderedDict
from typing import Any

from telegram import BotCommand, InlineKeyboardMarkup, Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    AIORateLimiter, Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes, MessageHandler,
    TypeHandler, filters,
)
from telegram.request import BaseRequest

from bot.config import MailSettings, Settings, read_imap_settings, read_mail_settings, read_retention
from bot.desk.log import Desk
from bot.desk.retention import run_daily
from bot.desk.star import Delivery, StarDesk, attach_draft, delivery_replies
from bot.desk.star.sender import Sender
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Reply, Turn, current_day
from bot.channels.telegram.learn import register as register_learn
from bot.channels.telegram.ui import MESSAGE_LIMIT, compose, parse_callback, split_message
from bot.chat.texts import Texts, to_plain
from bot.chat.programmes import enabled_catalogue
from flows.engine import Rulebook
from flows.privacy import contains_cpr
from storage import log as decision_log
from storage.db import open_database
from storage.records import Staff, load_dialogue, record_turn

log = logging.getLogger("ungebot.telegram")

COMMANDS = ("start", "tilbage", "forfra", "hjaelp", "star", "faq", "program", "laer")  # Telegram allows only a-z, 0-9 and _ in commands
REFUSAL_INTERVAL = 3600.0  # a stranger is told no at most once an hour
REFUSAL_MEMORY = 10_000  # strangers remembered (in memory only) for that purpose


class TelegramBot:
    """Handlers for one Application. Holds the rulebook, texts and database; nothing per dialogue."""

    def __init__(self, settings: Settings, rulebook: Rulebook | None = None,
                 db: sqlite3.Connection | None = None, mail: MailSettings | None = None) -> None:
        self.settings = settings
        self.rulebook = rulebook or enabled_catalogue()
        self.texts = Texts(self.rulebook)
        self.db = db if db is not None else open_database(settings.database)
        self.mail = mail or read_mail_settings()
        self.star = StarDesk(self.db, self.mail)
        self.conversation = Conversation(self.rulebook, self.texts, settings.municipality, answers=self.star,
                                         recipient=self.mail.recipient)
        self._refused: OrderedDict[int, float] = OrderedDict()
        self.sender = Sender(self.star, self._tell_delivery)
        self._tasks: list[asyncio.Task[None]] = []
        self._bot: Any = None
        self.desk = Desk(self.rulebook, self.texts)
        self._labels = {name: to_plain(self.texts.common(f"button_{name}")) for name in ("new", "back", "star", "today")}

    # -- building ---------------------------------------------------------------------------------------------------
    def build(self, request: BaseRequest | None = None, updates_request: BaseRequest | None = None,
              rate_limiter: bool = True) -> Application:  # type: ignore[type-arg]
        """An Application with our handlers; requests can be replaced (offline tests, a fake Bot API)."""
        builder = Application.builder().token(self.settings.token).post_init(self._post_init).post_stop(self._post_stop)
        if self.settings.api_url:
            builder = builder.base_url(self.settings.api_url)
        if request is not None:
            builder = builder.request(request)
        if updates_request is not None:
            builder = builder.get_updates_request(updates_request)
        if rate_limiter:
            builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._gate), group=-1)
        register_learn(application, self)  # /laer: onboarding (bot/channels/telegram/learn.py), before the dialogue
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_text))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_other))
        application.add_error_handler(self._on_error)
        return application

    async def _post_init(self, application: Application) -> None:  # type: ignore[type-arg]
        commands = [BotCommand(name, to_plain(self.texts.common(f"command_{name}"))) for name in COMMANDS]
        try:
            await application.bot.set_my_commands(commands)
        except TelegramError as exc:  # the menu is a convenience; the bot works without it
            log.warning("setMyCommands failed: %s", type(exc).__name__)
        # Our own tasks, stopped in _post_stop (PTB only manages tasks made while running): the STAR sender, off
        # the conversation path, and the daily retention.
        self._bot = application.bot
        if self.mail.smtp:
            self._tasks.append(asyncio.create_task(self.sender.run(), name="ungebot: send questions to STAR"))
        self._tasks.append(asyncio.create_task(run_daily(self.db, read_retention()), name="ungebot: retention"))
        imap = read_imap_settings()
        if imap is not None:  # optional: STAR's replies matched to the questions by Message-ID
            from bot.desk.star.imap import ReplyMatcher

            matcher = ReplyMatcher(self.db, imap, self.mail.oauth)
            self._tasks.append(asyncio.create_task(matcher.run(self.mail.retry_seconds), name="ungebot: replies"))

    async def _post_stop(self, application: Application) -> None:  # type: ignore[type-arg]
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _tell_delivery(self, delivery: Delivery) -> None:
        """The background sender's result, to the caseworker who asked; a question given up, to support too."""
        if self._bot is None:
            return
        repeated = delivery.status == "queued" and delivery.attempts > 1  # said once already: no message per retry
        if delivery.channel == "telegram" and delivery.staff_id.lstrip("-").isdigit() and not repeated:
            for reply in delivery_replies(self.texts, delivery, self.mail.recipient, in_terminal=False):
                await self._bot.send_message(int(delivery.staff_id), reply.text, parse_mode=ParseMode.HTML)
        if delivery.status == "failed":
            text = self.texts.common("star_failed_support", id=delivery.question_id, attempts=delivery.attempts,
                                     error=delivery.error or "")
            for user_id in sorted(self.settings.support_users):
                with contextlib.suppress(TelegramError):
                    await self._bot.send_message(user_id, text, parse_mode=ParseMode.HTML)

    # -- who gets in ----------------------------------------------------------------------------------------------------
    async def _gate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop every update that is not from an allowed user in a private chat; store nothing about it."""
        user, chat = update.effective_user, update.effective_chat
        if user is None:
            raise ApplicationHandlerStop
        if chat is not None and chat.type != ChatType.PRIVATE:
            if update.message is not None:
                await self._safe_send(context, chat.id, self.texts.common("private_only"))
            elif update.callback_query is not None:
                await self._safe_answer(update, to_plain(self.texts.common("private_only")))
            raise ApplicationHandlerStop
        if not self.settings.may_use(user.id):
            await self._refuse(update, context, user)
            raise ApplicationHandlerStop

    async def _refuse(self, update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
        text = self.texts.common("refused_stranger")
        if update.callback_query is not None:
            await self._safe_answer(update, to_plain(text))
            return
        now = time.monotonic()
        if now - self._refused.get(user.id, -REFUSAL_INTERVAL) < REFUSAL_INTERVAL:
            return
        self._refused[user.id] = now
        self._refused.move_to_end(user.id)
        while len(self._refused) > REFUSAL_MEMORY:
            self._refused.popitem(last=False)
        if update.effective_chat is not None:
            await self._safe_send(context, update.effective_chat.id, text)

    # -- the dialogue -------------------------------------------------------------------------------------------------
    def _staff(self, user: User) -> Staff:
        return Staff(channel="telegram", staff_id=str(user.id), name=user.full_name)

    def _load(self, staff: Staff) -> tuple[DialogueState, dict[str, Any] | None]:
        """The staff member's dialogue, replayed through today's flows, and its state as it was loaded."""
        stored = load_dialogue(self.db, staff)
        state = self.conversation.restore(stored, current_day())
        return state, (state.to_dict() if stored is not None else None)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        assert message is not None and user is not None and message.text is not None
        staff = self._staff(user)
        state, loaded = self._load(staff)
        today = current_day()
        command, _, argument = message.text.partition(" ")
        command = command.split("@")[0].lower()
        # The support team's look into the decision log; the dialogue is left as it is. Text with a CPR number goes
        # to the conversation instead, which refuses it without echoing.
        if command == "/log" and not contains_cpr(message.text):
            await self._deliver(update, context, Turn(state, [Reply(self._log(user.id, argument.strip()))]))
            return
        if update.update_id <= state.last_update:  # redelivered after a restart: already applied
            turn = Turn(state, self.conversation.prompt(state, today))
        elif command == "/start":
            replies = [Reply(self.texts.common("welcome"))]
            if loaded is not None and any(segment.answers for segment in state.segments):
                replies.append(Reply(self.texts.common("resumed", title=self.conversation.flow(state).title)))
            turn = Turn(state, replies + self.conversation.prompt(state, today))
        else:
            turn = self.conversation.handle(state, message.text, today)
        self._commit(staff, turn, update.update_id, loaded)
        await self._deliver(update, context, turn)

    def _log(self, user_id: int, argument: str) -> str:
        """/log (the last 10 decisions) or /log ID, for support staff; caseworkers are politely refused."""
        if user_id not in self.settings.support_users:
            return self.desk.text("not_support")
        if not argument:
            return self.desk.recent(decision_log.find(self.db, limit=10))
        record = decision_log.get(self.db, int(argument)) if argument.isdigit() else None
        return self.desk.show(record) if record else self.desk.text("no_such_decision", id=argument)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        staff = self._staff(user)
        state, loaded = self._load(staff)
        today = current_day()
        parsed = parse_callback(query.data)
        if update.update_id <= state.last_update:
            await self._safe_answer(update)
            return
        if parsed is None or parsed[0] != state.step:
            # An old message's button, or the second of a double press: harmless, and the user sees where we are.
            await self._safe_answer(update, to_plain(self.texts.common("stale_button_short")))
            await self._clear_keyboard(update)
            await self._deliver(update, context, Turn(state, [Reply(self.texts.common("stale_button"))]
                                                      + self.conversation.prompt(state, today, brief=True)))
            return
        await self._safe_answer(update)
        # A pressed question is replaced by what comes next; an outcome or a draft for STAR is never overwritten.
        pending = (state.pending or {}).get("kind")
        on_question = pending == "confirm_date" or (
            not pending and self.conversation.position(state, today).question is not None)
        if pending == "star_confirm":
            await self._clear_keyboard(update)
        _, action, argument = parsed
        label, turn = self._act(state, action, argument, today)
        if turn is None:  # a button of ours that no longer means anything: show where the dialogue is
            turn = Turn(state, self.conversation.prompt(state, today, brief=True))
        self._commit(staff, turn, update.update_id, loaded)
        await self._deliver(update, context, turn, edit=on_question, chosen=label)

    def _act(self, state: DialogueState, action: str, argument: str, today: Any) -> tuple[str | None, Turn | None]:
        """Apply a pressed button; the label to mark on the pressed message, and the turn."""
        if action == "a":
            options = self.conversation.current_options(state, today)
            if not argument.isdigit() or int(argument) >= len(options):
                return None, None
            value, label = options[int(argument)]
            return label, self.conversation.choose(state, value, today)
        commands = {"b": "/tilbage", "n": "/forfra", "s": "/star", "t": "i dag"}
        if action not in commands:
            return None, None
        # Only the today button answers the question; the others just leave the old message without buttons.
        label = self._labels["today"] if action == "t" else None
        return label, self.conversation.handle(state, commands[action], today)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await self._safe_send(context, update.effective_chat.id, self.texts.common("not_text"))

    # -- sending --------------------------------------------------------------------------------------------------------
    def _commit(self, staff: Staff, turn: Turn, update_id: int, before: dict[str, Any] | None = None) -> None:
        """Commit the turn (decision and state, one transaction) before anything is sent.

        A turn that changed nothing (help, an unreadable answer) has nothing to commit; redelivery of it is harmless."""
        attach_draft(self.star, staff, turn)
        state = turn.state.to_dict()
        if turn.decision is None and before is not None and state == before:
            return
        turn.state.last_update = max(turn.state.last_update, update_id)
        state["last_update"] = turn.state.last_update
        record_turn(self.db, staff, state, self.conversation.decision_record(turn))

    async def _send_to_star(self, turn: Turn) -> None:
        """A confirmed question is queued (committed) for the background sender, which says when it is sent; the
        caseworker is told "sendes" at once and never waits for the mail server."""
        if turn.star_send is not None:
            delivery = self.star.submit(turn.star_send)
            self.sender.wake()
            turn.replies[:0] = delivery_replies(self.texts, delivery, self.mail.recipient, in_terminal=False)

    async def _deliver(self, update: Update, context: ContextTypes.DEFAULT_TYPE, turn: Turn, edit: bool = False,
                       chosen: str | None = None) -> None:
        """Show the turn: by editing the pressed message in place, or as a new message."""
        await self._send_to_star(turn)
        text, markup = compose(turn, self._labels, chosen and self.texts.common('chosen', label=chosen))
        query = update.callback_query
        if edit and query is not None and query.message is not None and len(text) <= MESSAGE_LIMIT:
            try:
                await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                log.info("editMessageText failed (%s); sending instead", type(exc).__name__)
            except TelegramError as exc:
                log.info("editMessageText failed (%s); sending instead", type(exc).__name__)
        assert update.effective_chat is not None
        await self._safe_send(context, update.effective_chat.id, text, markup)

    async def _safe_send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                         markup: InlineKeyboardMarkup | None = None) -> None:
        """Send; a failure is logged, never raised: the state is already on disk and the next message shows it."""
        parts = split_message(text)
        for index, part in enumerate(parts):
            try:
                await context.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML,
                                               reply_markup=markup if index == len(parts) - 1 else None)
            except TelegramError as exc:
                log.warning("sendMessage to a chat failed: %s", type(exc).__name__)
                return

    async def _safe_answer(self, update: Update, text: str | None = None) -> None:
        try:
            assert update.callback_query is not None
            await update.callback_query.answer(text)
        except TelegramError as exc:  # a query too old to answer is harmless
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)

    async def _clear_keyboard(self, update: Update) -> None:
        try:
            assert update.callback_query is not None
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:  # "message is not modified", or too old to edit: harmless
            log.info("editMessageReplyMarkup failed: %s", type(exc).__name__)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error's type only: an update may hold text we must not write to a log."""
        update_id = getattr(update, "update_id", None)
        log.error("update %s failed: %s", update_id, type(context.error).__name__,
                  exc_info=not isinstance(context.error, TelegramError))


def run_telegram() -> int:
    """`ungebot telegram`: read the settings, then poll until stopped."""
    import sys

    from bot.config import ConfigError, read_settings

    try:
        settings = read_settings()
        mail = read_mail_settings()
        read_retention(), read_imap_settings()  # checked now; used by the bot's daily purge and reply matching
    except ConfigError as exc:
        print(f"ungebot telegram: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines would print the token in URLs
    if not settings.allowed_users and not settings.support_users:
        log.warning("UNGEBOT_ALLOWED_USERS and UNGEBOT_SUPPORT_USERS are empty: everyone will be refused")
    bot = TelegramBot(settings, mail=mail)
    bot.build().run_polling(allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY])
    return 0


