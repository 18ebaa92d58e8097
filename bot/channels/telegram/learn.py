"""/laer in Telegram: the learning session with buttons, the flow diagrams and a case's path sent as photos.

Registered with one line in TelegramBot.build, before the dialogue's handlers: it takes /laer, its own buttons
("L:" callback data) and typed text while a practice case waits for an answer; everything else goes on to the dialogue
(and pauses the session, so a real case's answer is never taken as a training answer)."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, TypeHandler, filters

from bot.channels.telegram.ui import split_message
from bot.chat.texts import Texts
from bot.learn.screens import Screen
from bot.learn.stats import stats_text
from bot.learn.trainer import Trainer
from flows.engine import load_rulebook
from flows.privacy import contains_cpr
from storage.records import Staff

log = logging.getLogger("ungebot.telegram.learn")

PREFIX = "L"
_COMMAND = re.compile(r"^/(laer|lær)(@\w+)?(\s+(\d+|stats))?\s*$", re.IGNORECASE)
_LONG_LABEL = 56  # longer choices are listed in the message and get numbered buttons


def register(application: Application, bot: Any) -> None:  # type: ignore[type-arg]
    """Add /laer's handlers to the application (call before the dialogue's own handlers)."""
    learn = TelegramLearn(Trainer(load_rulebook(), Texts(load_rulebook()), bot.db), bot.settings.support_users)
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.Regex(r"(?i)^/(laer|lær)\b"),
                                           learn.on_command))
    application.add_handler(CallbackQueryHandler(learn.on_button, pattern=rf"^{PREFIX}:"))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
                                           & _Waiting(learn), learn.on_text))
    application.add_handler(TypeHandler(Update, learn.on_anything_else), group=1)


def staff_of(update: Update) -> Staff:
    """The trainee: a Telegram user id and name, never a citizen."""
    user = update.effective_user
    assert user is not None
    return Staff(channel="telegram", staff_id=str(user.id), name=user.full_name)


class _Waiting(filters.MessageFilter):
    """Typed text while the trainee's practice case waits for an answer."""

    def __init__(self, learn: "TelegramLearn") -> None:
        super().__init__(name="learn_waiting")
        self.learn = learn

    def filter(self, message: Message) -> bool:
        if message.from_user is None:
            return False
        staff = Staff(channel="telegram", staff_id=str(message.from_user.id))
        return self.learn.trainer.awaits_text(staff)


class TelegramLearn:
    """The handlers; all learning logic is the channel-free Trainer's."""

    def __init__(self, trainer: Trainer, support_users: frozenset[int] = frozenset()) -> None:
        self.trainer = trainer
        self.support_users = support_users

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.text is not None
        match = _COMMAND.match(message.text.strip())
        argument = (match.group(4) or "") if match else ""
        if argument.lower() == "stats":  # the support desk's view across all trainees
            user = update.effective_user
            allowed = user is not None and user.id in self.support_users
            text = (f"<pre>{html.escape(stats_text(self.trainer.db, self.trainer.rulebook))}</pre>" if allowed
                    else "Træningstallene er for supportteamet.")
            await self.show(update, context, [Screen(text)])
            return
        seed = int(argument) if argument.isdigit() else None
        await self.show(update, context, self.trainer.open(staff_of(update), seed))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        assert message is not None and message.text is not None
        staff = staff_of(update)
        if contains_cpr(message.text):  # never stored, never echoed
            await self.show(update, context, [Screen("Skriv aldrig et CPR-nummer her. Jeg har ikke gemt det.")])
            return
        await self.show(update, context, self.trainer.type(staff, message.text))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        staff = staff_of(update)
        state = self.trainer.state(staff)
        parts = (query.data or "").split(":")
        step, index = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        options = self.trainer.options(state)
        try:
            await query.answer()
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)
        if step != str(state.get("step")) or not index.isdigit() or int(index) >= len(options):
            # A button from an earlier screen: harmless; show where the trainee is.
            screens = [Screen("Den knap hører til et tidligere trin. Her er, hvor du er nu:")] + self.trainer.open(staff)
        else:
            screens = self.trainer.press(staff, options[int(index)][0])
        await self._clear(query)
        await self.show(update, context, screens)

    async def on_anything_else(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Another command or another button than learning's: the trainee is back at real cases."""
        if update.effective_user is None:
            return
        query, message = update.callback_query, update.message
        is_other_button = query is not None and not (query.data or "").startswith(f"{PREFIX}:")
        text = message.text if message is not None and message.text else ""
        is_other_command = text.startswith("/") and not _COMMAND.match(text.strip())
        if is_other_button or is_other_command:
            self.trainer.pause(staff_of(update))

    async def show(self, update: Update, context: ContextTypes.DEFAULT_TYPE, screens: list[Screen]) -> None:
        """One message for the screens (split at Telegram's limit), the last screen's buttons, then any pictures."""
        chat = update.effective_chat
        assert chat is not None
        state = self.trainer.state(staff_of(update))
        last = screens[-1] if screens else Screen("")
        body = "\n\n".join(screen.text for screen in screens)
        if any(len(label) > _LONG_LABEL for _, label in last.options):
            body += "\n\n" + "\n".join(f"{n}. {label}" for n, (_, label) in enumerate(last.options, start=1))
        parts = split_message(body)
        markup = self._keyboard(last, state.get("step", 0))
        for index, part in enumerate(parts):
            await self._send(context, chat.id, part, markup if index == len(parts) - 1 else None)
        for screen in screens:
            pictures = [self.trainer.picture(screen.diagram)] if screen.diagram else []
            pictures += [self.trainer.picture(flow, nodes) for flow, nodes in screen.path]
            for picture in pictures:
                if picture is not None:
                    await self._photo(context, chat.id, picture.read_bytes())

    def _keyboard(self, screen: Screen, step: int) -> InlineKeyboardMarkup | None:
        if not screen.options:
            return None
        numbered = any(len(label) > _LONG_LABEL for _, label in screen.options)
        buttons = [InlineKeyboardButton(str(n) if numbered else label, callback_data=f"{PREFIX}:{step}:{n - 1}")
                   for n, (_, label) in enumerate(screen.options, start=1)]
        rows = [buttons] if numbered and len(buttons) <= 5 else [[button] for button in buttons]
        return InlineKeyboardMarkup(rows)

    async def _send(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                    markup: InlineKeyboardMarkup | None) -> None:
        try:
            await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        except TelegramError as exc:  # the session is already stored; /laer shows it again
            log.warning("sendMessage failed: %s", type(exc).__name__)

    async def _photo(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, data: bytes) -> None:
        try:
            await context.bot.send_photo(chat_id, photo=data)
        except TelegramError as exc:
            log.warning("sendPhoto failed: %s", type(exc).__name__)

    async def _clear(self, query: Any) -> None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:  # too old or not modified: harmless
            log.info("editMessageReplyMarkup failed: %s", type(exc).__name__)
