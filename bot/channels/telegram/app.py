"""The Telegram adapter: the terminal chat's dialogue with buttons. Thin: rules and texts come from the shared
conversation layer and the templates; every answer is committed to SQLite before the reply is sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import OrderedDict
from datetime import date
from typing import Any

from telegram import Update, User
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter, Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes, MessageHandler,
    TypeHandler, filters,
)
from telegram.request import BaseRequest

from bot.config import MailSettings, Settings, read_imap_settings, read_mail_settings, read_retention
from bot.desk.log import Desk
from bot.desk.retention import run_daily
from bot.desk.star import Delivery, StarDesk, delivery_replies
from bot.desk.star.sender import Sender
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Options, Reply, Turn, current_day
from bot.channels import freeze_long_lived
from bot.channels.telegram.answering import Answering
from bot.channels.telegram.inbox import UserOrder, polling_bot, replay
from bot.channels.telegram.receipts import Receipts
from bot.channels.telegram.learn import register as register_learn
from bot.channels.telegram.menu import set_menu
from bot.channels.telegram.send import Press, clear_keyboard, safe_answer, safe_send
from bot.channels.telegram.ui import compose, parse_callback
from bot.chat.texts import Texts, to_plain
from bot.chat.programmes import enabled_catalogue
from flows.engine import Rulebook
from flows.privacy import contains_cpr
from storage import log as decision_log
from storage.db import open_database
from storage.journal import Journal
from storage.records import Staff, load_dialogue

log = logging.getLogger("ungebot.telegram")

REFUSAL_INTERVAL = 3600.0  # a stranger is told no at most once an hour
REFUSAL_MEMORY = 10_000  # strangers remembered (in memory only) for that purpose


class TelegramBot(Answering):
    """Handlers for one Application. Holds the rulebook, texts and database; nothing per dialogue."""

    def __init__(self, settings: Settings, rulebook: Rulebook | None = None,
                 db: sqlite3.Connection | None = None, mail: MailSettings | None = None) -> None:
        self.settings = settings
        self.rulebook = rulebook or enabled_catalogue()
        self.texts = Texts(self.rulebook)
        self.db = db if db is not None else open_database(settings.database)
        self.journal = Journal(self.db)
        self.receipts = Receipts(self.journal)
        self._order = UserOrder(self.receipts)
        self.mail = mail or read_mail_settings()
        self.star = StarDesk(self.db, self.mail)
        self.conversation = Conversation(self.rulebook, self.texts, settings.municipality, answers=self.star,
                                         recipient=self.mail.recipient)
        self._refused: OrderedDict[int, float] = OrderedDict()
        self.sender = Sender(self.star, self._tell_delivery)
        self._tasks: list[asyncio.Task[None]] = []
        self._bot: Any = None
        # Kept between turns, by staff id: the day, the state and its dict as committed, and the options of the
        # last reply (what its buttons are read against). See _load.
        self._states: OrderedDict[str, tuple[date, DialogueState, dict[str, Any], Options]] = OrderedDict()
        self.desk = Desk(self.rulebook, self.texts)
        self._labels = {name: to_plain(self.texts.common(f"button_{name}")) for name in ("new", "back", "star", "today")}

    # -- building ---------------------------------------------------------------------------------------------------
    def build(self, request: BaseRequest | None = None, updates_request: BaseRequest | None = None,
              rate_limiter: bool = True) -> Application:  # type: ignore[type-arg]
        """An Application with our handlers; requests can be replaced (offline tests, a fake Bot API)."""
        bot = polling_bot(self.receipts, self.settings.token, self.settings.api_url, request, updates_request,
                          AIORateLimiter(max_retries=3) if rate_limiter else None)
        application = (Application.builder().bot(bot).concurrent_updates(self._order)
                       .post_init(self._post_init).post_stop(self._post_stop).build())
        application.add_handler(TypeHandler(Update, self._gate), group=-1)
        register_learn(application, self)  # /laer: onboarding (bot/channels/telegram/learn.py), before the dialogue
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_text))
        application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_other))
        application.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self._on_edited))
        application.add_error_handler(self._on_error)
        return application

    async def _post_init(self, application: Application) -> None:  # type: ignore[type-arg]
        await replay(application, self.receipts)  # before polling starts: what was received first is handled first
        log.info("ungebot on Telegram as @%s: %d caseworker(s) and %d support user(s) allowed; database %s",
                 application.bot.username, len(self.settings.allowed_users), len(self.settings.support_users),
                 self.settings.database)
        await set_menu(application.bot, self.texts, sorted(self.settings.support_users))
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
        self.receipts.settle()
        self.journal.flush()
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
                await safe_send(context.bot, chat.id, self.texts.common("private_only"))
            elif update.callback_query is not None:
                await safe_answer(update.callback_query, to_plain(self.texts.common("private_only")))
            raise ApplicationHandlerStop
        if not self.settings.may_use(user.id):
            await self._refuse(update, context, user)
            raise ApplicationHandlerStop

    async def _refuse(self, update: Update, context: ContextTypes.DEFAULT_TYPE, user: User) -> None:
        text = self.texts.common("refused_stranger")
        if update.callback_query is not None:
            await safe_answer(update.callback_query, to_plain(text))
            return
        now = time.monotonic()
        if now - self._refused.get(user.id, -REFUSAL_INTERVAL) < REFUSAL_INTERVAL:
            return
        self._refused[user.id] = now
        self._refused.move_to_end(user.id)
        while len(self._refused) > REFUSAL_MEMORY:
            self._refused.popitem(last=False)
        if update.effective_chat is not None:
            await safe_send(context.bot, update.effective_chat.id, text)

    # -- the dialogue -------------------------------------------------------------------------------------------------
    def _staff(self, user: User) -> Staff:
        return Staff(channel="telegram", staff_id=str(user.id), name=user.full_name)

    def _load(self, staff: Staff, today: date) -> tuple[DialogueState, dict[str, Any] | None, Options]:
        """The staff member's dialogue, replayed through today's flows; its state as it was loaded; and the options
        of the last reply, which a pressed button is read against (empty if not known: then they are found again).

        The state each turn committed is kept in memory (today's, for the last STATE_CACHE users) and taken out
        while a turn works on it: a turn that fails leaves nothing behind, and the next one reads the database."""
        cached = self._states.pop(staff.staff_id, None)
        if cached is not None and cached[0] == today:
            return cached[1], cached[2], cached[3]
        stored = load_dialogue(self.db, staff)
        state = self.conversation.restore(stored, today)
        return state, (state.to_dict() if stored is not None else None), ()

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.message, update.effective_user
        assert message is not None and user is not None and message.text is not None
        staff, today = self._staff(user), current_day()
        state, loaded, _ = self._load(staff, today)
        command, _, argument = message.text.partition(" ")
        command = command.split("@")[0].lower()
        # The support team's look into the decision log; the dialogue is left as it is. Text with a CPR number goes
        # to the conversation instead, which refuses it without echoing.
        if command == "/log" and not contains_cpr(message.text):
            turn = Turn(state, [Reply(self._log(user.id, argument.strip()))])
        elif self._applied(update.update_id, state):  # redelivered after a restart: already applied
            turn = Turn(state, self.conversation.current_step(state, today))
        elif command == "/start":
            turn = self._start(state, argument.strip(), today)
        else:
            turn = self.conversation.handle(state, message.text, today)
        await self._answer(update, staff, turn, loaded)

    def _applied(self, update_id: int, state: DialogueState) -> bool:
        """The update was applied to this dialogue before (handled again after a restart): it is at most the newest
        applied, in the same numbering of Telegram's updates."""
        return update_id <= state.last_update and state.numbering == self.receipts.numbering_of(update_id)

    def _start(self, state: DialogueState, flow: str, today: Any) -> Turn:
        """/start: the welcome, then (as in the terminal) a stored case's recap and exactly the step left open;
        `/start move_out` (a deep link, t.me/<bot>?start=move_out) opens that flow, unless a case is in progress."""
        welcome = [Reply(self.texts.common("welcome"))]
        busy = any(segment.answers for segment in state.segments) or bool(state.pending)
        if flow and flow in self.rulebook.flows and not busy:
            turn = self.conversation.open_flow(state, flow, today)
            turn.replies[:0] = welcome
            return turn
        if flow:
            welcome.append(Reply(self.texts.common("deep_link_busy" if busy else "deep_link_unknown")))
        return Turn(state, welcome + self.conversation.resume(state, today))

    def _log(self, user_id: int, argument: str) -> str:
        """/log (the last 10 decisions) or /log ID, for support staff; caseworkers are politely refused."""
        if user_id not in self.settings.support_users:
            return self.desk.text("not_support")
        if not argument:
            return self.desk.recent(decision_log.find(self.db, limit=10))
        record = decision_log.get(self.db, int(argument)) if argument.isdigit() else None
        return self.desk.show(record) if record else self.desk.text("no_such_decision", id=argument)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        press = Press(update.callback_query)
        try:
            await self._answer_press(update, press)
        finally:  # acknowledged on every path, also when the answer failed (the error handler apologises)
            await press.settle()

    async def _answer_press(self, update: Update, press: Press) -> None:
        query, user = press.query, update.effective_user
        assert user is not None
        staff, today = self._staff(user), current_day()
        state, loaded, shown = self._load(staff, today)
        parsed = parse_callback(query.data)
        if self._applied(update.update_id, state):  # handled before a restart, maybe not answered: show where we are
            await self._answer(update, staff, Turn(state, self.conversation.current_step(state, today)), loaded, press)
            return
        if parsed is None or parsed[0] != state.step:
            # An old message's button, or the second of a double press: harmless, and the user sees where we are.
            press.soon(to_plain(self.texts.common("stale_button_short")))
            await clear_keyboard(query)
            turn = Turn(state, [Reply(self.texts.common("stale_button"))]
                        + self.conversation.current_step(state, today, brief=True))
            await self._answer(update, staff, turn, loaded, press)
            return
        # A pressed question is replaced by what comes next; an outcome or a draft for STAR is never overwritten.
        pending = (state.pending or {}).get("kind")
        on_question = pending == "confirm_date" or (
            not pending and self.conversation.position(state, today).question is not None)
        if pending == "star_confirm":
            await clear_keyboard(query)
        _, action, argument = parsed
        label, turn = self._act(state, action, argument, today, shown)
        if turn is None:  # a button of ours that no longer means anything: show where the dialogue is
            turn = Turn(state, self.conversation.current_step(state, today, brief=True))
        await self._answer(update, staff, turn, loaded, press, edit=on_question, chosen=label)

    def _act(self, state: DialogueState, action: str, argument: str, today: Any,
             shown: Options = ()) -> tuple[str | None, Turn | None]:
        """Apply a pressed button (an option by its index among those `shown`, the last reply's); the label to mark
        on the pressed message, and the turn."""
        if action == "a":
            options = shown or self.conversation.current_options(state, today)
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

    async def _on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message is not read again (its answer may be long acted on): say so, and how to change one."""
        user = update.effective_user
        assert user is not None
        staff, today = self._staff(user), current_day()
        state, loaded, _ = self._load(staff, today)
        replies = [Reply(self.texts.common("edited_ignored"))]
        await self._answer(update, staff, Turn(state, replies + self.conversation.current_step(
            state, today, brief=True)), loaded)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat is not None:
            await safe_send(context.bot, update.effective_chat.id, self.texts.common("not_text"))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error's type only (an update may hold text we must not write to a log); tell the caseworker in
        a short Danish apology and ask the open step again, from what is on disk: nothing answered is lost."""
        update_id = getattr(update, "update_id", None)
        log.error("update %s failed: %s", update_id, type(context.error).__name__,
                  exc_info=not isinstance(context.error, TelegramError))
        if not isinstance(update, Update) or isinstance(context.error, TelegramError):
            return
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or not self.settings.may_use(user.id):
            return
        try:
            staff = self._staff(user)
            self._states.pop(staff.staff_id, None)  # the turn that failed may have changed it in memory
            today = current_day()
            state, _, _ = self._load(staff, today)
            text, markup = compose(Turn(state, [Reply(self.texts.common("internal_error"))]
                                        + self.conversation.current_step(state, today, brief=True)),
                                   self._labels)
        except Exception as exc:  # the apology alone, then
            log.error("update %s: cannot show the open step: %s", update_id, type(exc).__name__)
            text, markup = self.texts.common("internal_error"), None
        await safe_send(context.bot, chat.id, text, markup)


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
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one INFO line per state change is noise here
    if not settings.allowed_users and not settings.support_users:
        log.warning("UNGEBOT_ALLOWED_USERS and UNGEBOT_SUPPORT_USERS are empty: everyone will be refused")
    bot = TelegramBot(settings, mail=mail)
    application = bot.build()
    freeze_long_lived()
    application.run_polling(allowed_updates=[Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY])
    return 0
