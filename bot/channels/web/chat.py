"""The web's side of a turn: a form's fields in, the conversation's replies out, committed before they are shown.

No rules, texts or parsing of its own: a pressed option is the conversation's current option by index, a command
button is the command the terminal would type, and typed text goes to Conversation.handle as it is."""

from __future__ import annotations

import asyncio
import inspect
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone

from bot.channels.web.locks import KeyedLocks
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Reply, Turn, current_day
from bot.chat.texts import Texts, to_plain
from bot.config import MailSettings, read_mail_settings, read_retention
from bot.desk.log import Desk
from bot.desk.retention import run_daily
from bot.desk.star import Delivery, StarDesk, attach_draft, delivery_replies
from bot.desk.star.sender import Sender
from bot.chat.programmes import enabled_catalogue
from flows.engine import Rulebook
from flows.privacy import contains_cpr
from storage import log as decision_log
from storage.db import open_database
from storage.journal import Journal
from storage.records import Staff, load_dialogue, write_turn
from storage.sessions import purge_expired

log = logging.getLogger("ungebot.web")

# The buttons beside the options: each does what typing its command does.
ACTIONS = {"back": "/tilbage", "new": "/forfra", "star": "/star", "help": "/hjælp", "today": "i dag"}
TEXT_LIMIT = 4000  # longer input is cut before it reaches the conversation (a STAR question fits easily)
Options = tuple[tuple[str, str], ...]  # (value, label) of the buttons a reply shows
STATE_CACHE = 10_000  # dialogues kept in memory between turns (each is also on disk)
WALKS_KEPT = 32  # walks a cached dialogue remembers (DialogueState.positions) before they are forgotten


@dataclass(frozen=True)
class User:
    """A logged-in member of staff: the identity provider's stable id, a display name and a role."""

    id: str
    name: str
    role: str  # "caseworker" or "support"

    def staff(self) -> Staff:
        """The staff member as the decision log knows them."""
        return Staff(channel="web", staff_id=self.id, name=self.name)


@dataclass
class WebTurn:
    """What one form did: the echo of what was chosen or typed (plain text, or None), and the replies."""

    state: DialogueState
    echo: str | None
    replies: list[Reply]
    star_send: int | None = None  # a question for STAR the caseworker confirmed: send it after the commit


class WebChat:
    """The conversation, the database and the STAR desk of one web server; nothing per dialogue."""

    def __init__(self, db: sqlite3.Connection | None = None, rulebook: Rulebook | None = None,
                 mail: MailSettings | None = None, municipality: str = "") -> None:
        self.rulebook = rulebook or enabled_catalogue()  # the programmes UNGEBOT_PROGRAMMES opens (default: both)
        self.texts = Texts(self.rulebook)
        self.db = db if db is not None else open_database()
        self.mail = mail or read_mail_settings()
        self.star = StarDesk(self.db, self.mail)
        self.sender = Sender(self.star, self._tell_delivery)
        self.conversation = Conversation(self.rulebook, self.texts, municipality, answers=self.star,
                                         recipient=self.mail.recipient)
        self.desk = Desk(self.rulebook, self.texts)
        self.labels = {name: to_plain(self.texts.common(f"button_{name}")) for name in ("new", "back", "star", "today")}
        # The state each turn committed, by user (today's, for the last STATE_CACHE users): the next turn need not
        # read and replay it. Taken out while a turn works on it, so a turn that fails leaves nothing behind.
        # With it, the options its reply showed: a pressed button is read against what was on screen, and the
        # question's text need not be made again just to find them.
        self._states: OrderedDict[str, tuple[date, DialogueState, Options]] = OrderedDict()
        # Answers of many users arriving together share one durable commit; one user's turns go one at a time.
        self.journal = Journal(self.db)
        self._turns = KeyedLocks()
        self._taking = 0  # answers being taken (from before waiting for their user's turn until committed)

    async def _tell_delivery(self, delivery: Delivery) -> None:
        """The web has no push: the caseworker was told "sendes"; a question given up is logged for support."""
        if delivery.status == "failed":
            log.warning("question %s to STAR failed after %s attempts", delivery.question_id, delivery.attempts)

    def load(self, user: User, today: date | None = None) -> tuple[DialogueState, bool]:
        """The user's dialogue replayed through today's flows, and whether one was stored."""
        stored = load_dialogue(self.db, user.staff())
        return self.conversation.restore(stored, today or current_day()), stored is not None

    def _take_state(self, user: User, today: date) -> tuple[DialogueState, Options]:
        """The user's dialogue for a turn and the options on screen: from memory if the last turn of today left them
        there, else from disk (the options then empty: the conversation finds them)."""
        cached = self._states.pop(user.id, None)
        if cached is not None and cached[0] == today:
            return cached[1], cached[2]
        return self.load(user, today)[0], ()

    def _keep_state(self, user: User, state: DialogueState, replies: list[Reply], today: date) -> None:
        """Remember a committed state for the user's next turn, with the options of its last reply."""
        if len(state.positions) > WALKS_KEPT:
            state.positions.clear()
        self._states[user.id] = (today, state, replies[-1].options if replies else ())
        while len(self._states) > STATE_CACHE:
            self._states.popitem(last=False)

    def opening(self, user: User) -> WebTurn:
        """What a new session shows: the welcome, then (as in the terminal) a stored dialogue's recap and exactly
        its open step: a pending date confirmation with its date, a pending STAR draft in full, or the question."""
        cached = self._states.get(user.id)
        state = cached[1] if cached is not None and cached[0] == current_day() else self.load(user)[0]
        replies = [Reply(self.texts.common("welcome"))]
        return WebTurn(state, None, replies + self.conversation.resume(state, current_day()))

    async def take(self, user: User, form: dict[str, str],
                   with_turn: Callable[[sqlite3.Connection, WebTurn], None] | None = None) -> WebTurn:
        """Apply one submitted form and commit the turn durably before returning; `with_turn` writes the caller's
        part (the session) in the same transaction. One turn at a time per user."""
        self._taking += 1
        try:
            async with self._turns.hold(user.id):
                today = current_day()
                done = await self._take(user, form, with_turn, today)
                self._keep_state(user, done.state, done.replies, today)  # only a turn that went through
                return done
        finally:
            self._taking -= 1

    def _alone(self) -> bool:
        """No other answer could share this one's commit: no other answer is being taken, and no task is waiting to
        start (a request the server has just received). Then the commit is made at once instead of in a pass of the
        event loop, which costs two passes (the commit, then this answer's turn again) for company that cannot
        come: a request the server receives meanwhile starts after that commit anyway. (Only the group commit's
        sharing is at stake, never durability: either way the answer is on disk before the reply.)"""
        if self._taking > 1:
            return False
        # A task waiting to start has its first step in the loop's queue of callbacks ready to run: when that queue
        # is empty (as it mostly is for an answer alone) there is none, and the scan of every task is spared. The
        # queue is asyncio's own (BaseEventLoop._ready); another loop without it gets the scan.
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        if ready is not None and not ready:
            return True
        current = asyncio.current_task()
        return not any(task is not current and _unstarted(task) for task in asyncio.all_tasks())

    async def _take(self, user: User, form: dict[str, str],
                    with_turn: Callable[[sqlite3.Connection, WebTurn], None] | None, today: date) -> WebTurn:
        state, shown = self._take_state(user, today)
        step = form.get("step", "")
        text = form.get("text", "").strip()[:TEXT_LIMIT]
        if "option" not in form and "action" not in form and not text:
            done = WebTurn(state, None, self.conversation.current_step(state, today, brief=True))
        elif step != str(state.step):  # a form from before the dialogue moved on (another tab, the back button)
            done = WebTurn(state, None, [Reply(self.texts.common("stale_button"))]
                           + self.conversation.current_step(state, today))
        else:
            echo, turn = self._act(user, state, form, text, today, shown)
            staff = user.staff()
            attach_draft(self.star, staff, turn)
            done = WebTurn(turn.state, echo, list(turn.replies), turn.star_send)
            data, decision = turn.state.to_dict(), self.conversation.decision_record(turn)

            def write(conn: sqlite3.Connection) -> int | None:
                if with_turn is not None:
                    with_turn(conn, done)
                self.star.queue_with_answer(conn, turn.star_send)  # a confirmed question, with its confirmation
                return write_turn(conn, staff, data, decision)

            decision_id = await self.journal.durable(write, alone=self._alone())  # on disk (fsynced) when this returns
            if decision_id is not None:  # the state now knows which logged decision is on screen
                turn.state.decision_id = decision_id
            turn.state.replaced.clear()  # ... and has marked what it replaced
        return done

    def deliver(self, star_send: int | None) -> list[Reply]:
        """A question the caseworker confirmed is queued (committed) for the background sender, or handed over
        without SMTP; what became of it is told first. The page never waits for the mail server."""
        if star_send is None:
            return []
        delivery = self.star.submit(star_send)
        self.sender.wake()
        return delivery_replies(self.texts, delivery, self.mail.recipient, in_terminal=False)

    async def run_background(self) -> None:
        """Until cancelled: the STAR sender (with SMTP), retention once a day, expired sessions purged hourly."""
        tasks = [asyncio.create_task(run_daily(self.db, read_retention()), name="ungebot web: retention"),
                 asyncio.create_task(self._purge_sessions(), name="ungebot web: sessions")]
        if self.mail.smtp:
            tasks.append(asyncio.create_task(self.sender.run(), name="ungebot web: send questions to STAR"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _purge_sessions(self) -> None:
        while True:
            purge_expired(self.db, datetime.now(timezone.utc))
            await asyncio.sleep(3600)

    def _act(self, user: User, state: DialogueState, form: dict[str, str], text: str, today: date,
             shown: Options = ()) -> tuple[str | None, Turn]:
        if "option" in form:
            options = shown or self.conversation.current_options(state, today)
            index = form["option"]
            if not index.isdigit() or int(index) >= len(options):
                return None, Turn(state, self.conversation.current_step(state, today, brief=True))
            value, label = options[int(index)]
            return label, self.conversation.choose(state, value, today)
        if "action" in form:
            command = ACTIONS.get(form["action"])
            if command is None:
                return None, Turn(state, self.conversation.current_step(state, today, brief=True))
            # Only "I dag" answers the question, so only it is echoed (as in Telegram).
            label = self.labels["today"] if form["action"] == "today" else None
            return label, self.conversation.handle(state, command, today)
        name = text.split(" ", 1)[0].lower()
        if name == "/log" and not contains_cpr(text):  # the support team's look into the log, as in Telegram
            return text, Turn(state, [Reply(self.log_text(user, text[4:].strip()))])
        # A CPR number is never echoed (nor stored): the conversation refuses it.
        return (None if contains_cpr(text) else text), self.conversation.handle(state, text, today)

    def log_text(self, user: User, argument: str) -> str:
        """The last 10 decisions, or one, for support staff; caseworkers are politely refused."""
        if user.role != "support":
            return self.desk.text("not_support")
        if not argument:
            return self.desk.recent(decision_log.find(self.db, limit=10))
        record = decision_log.get(self.db, int(argument)) if argument.isdigit() and len(argument) < 12 else None
        return self.desk.show(record) if record else self.desk.text("no_such_decision", id=argument)


def _unstarted(task: asyncio.Task[object]) -> bool:
    """A task that has not run yet (or one whose state cannot be told: counted as such, which only ever costs the
    sharing of a commit; `_alone` asks this only when some callback is ready to run)."""
    coro = task.get_coro()
    return not inspect.iscoroutine(coro) or inspect.getcoroutinestate(coro) == inspect.CORO_CREATED
