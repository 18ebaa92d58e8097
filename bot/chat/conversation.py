"""One dialogue turn, the same for every channel: typed text or a pressed option in, replies and a new state out."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows.answers import normalise, parse_answer, read_choice
from flows.dates import format_date
from flows.engine import Flow, Position, Rulebook, far_date_warning
from flows.errors import AnswerError
from flows.model import Question
from flows.privacy import contains_cpr
from flows.trace import trace, trace_dicts

from bot.config import STAR_ADDRESS
from bot.chat.dialogue import STATE_VERSION, Decision, DialogueState, Reply, Segment, Turn
from bot.chat.programmes import PROGRAMME_COMMAND, choose_programme
from bot.chat.amend import AmendSteps
from bot.chat.resume import ResumeSteps
from bot.chat.star_steps import StarAnswers, StarSteps, answered_day
from bot.chat.texts import Texts, to_plain
from bot.chat.walks import SharedWalks
from bot.chat.why import WhySteps

POSITIONS_KEPT = 16  # walked positions kept per dialogue (this turn's and the last few)
REPLIES_KEPT = 4096  # questions as asked, by question and text (one per question, a few for those naming answers)
_NEW_CASE = {"ny", "ny sag", "ja", "ja tak", "j", "forfra", "start"}
_BACK = {"/tilbage", "/back", "/fortryd"}
_RESTART = {"/forfra", "/ny", "/start", "/reset"}
_HELP = {"/hjælp", "/hjaelp", "/help", "/?"}
_STAR = {"/star", "/spørg", "/spoerg"}
_CANCEL = {"/annuller", "/cancel", "/stop"}
_FAQ = {"/faq", "/svar"}
_AMEND = {"/ret", "/ændre", "/aendre", "/ret_svar"}
_WHY = {"/hvorfor", "/why"}
_END = {"/slut", "/farvel", "/quit", "/exit"}
# What typed text answers while a step is pending: the step's kind and the method that takes it.
_PENDING_STEPS = {"star_text": "_draft_star", "star_confirm": "_star_decision",
                  "star_municipality": "_star_municipality", "confirm_date": "_confirm",
                  "confirm_restart": "_restart_answer", "amend_pick": "_amend_pick", "amend": "_amend_answer"}


class Conversation(StarSteps, AmendSteps, ResumeSteps, WhySteps):
    """Runs dialogues over a rulebook; holds no per-dialogue data (the state travels in and out)."""

    def __init__(self, rulebook: Rulebook, texts: Texts, municipality: str = "",
                 answers: StarAnswers | None = None, recipient: str = STAR_ADDRESS) -> None:
        self.rulebook = rulebook
        self.texts = texts
        self.municipality = municipality  # "" until configured or answered once (StarSteps.known_municipality)
        self.answers = answers
        self.recipient = recipient  # where questions for STAR go (UNGEBOT_STAR_EMAIL)
        self._outcome_options: tuple[tuple[str, str], ...] | None = None
        self._replies: dict[tuple[str, str, str, str], Reply] = {}  # questions as asked (see _question_reply)
        self.walks = SharedWalks()  # the same choices on the same day walk alike for every dialogue

    def decision_record(self, turn: Turn) -> tuple[str, str, str, list[dict[str, str]], dict[str, Any], str] | None:
        """The turn's decision as storage.records.record_turn takes it, or None."""
        if turn.decision is None:
            return None
        programme = self.rulebook.flow(turn.decision.flow).programme  # each decision names its own programme
        return (programme.id, turn.decision.flow, programme.edition, turn.decision.answers,
                turn.decision.outcome, turn.decision.decided_on.isoformat())

    def new_state(self, programme: str | None = None) -> DialogueState:
        """A fresh dialogue at the router (the caseworker's own programme's, if they chose one)."""
        return DialogueState([Segment(self.rulebook.entry(programme))], programme=programme)

    def open_flow(self, state: DialogueState, flow: str, today: date) -> Turn:
        """A new case straight in one flow (a channel's deep link), as /forfra would begin it but past the router."""
        fresh = self.new_state(state.programme)
        fresh.segments = [Segment(flow)]
        fresh.step, fresh.last_update, fresh.star_drafts = state.step + 1, state.last_update, state.star_drafts
        fresh.numbering = state.numbering
        return Turn(fresh, self.current_step(fresh, today))

    def restore(self, data: dict[str, Any] | None, today: date) -> DialogueState:
        """Replay a stored state through today's flows; answers that no longer apply are dropped."""
        if not data or data.get("v") != STATE_VERSION:
            return self.new_state()
        state = DialogueState.from_dict(data)
        self.rewalk(state, today)
        kind = (state.pending or {}).get("kind")
        if kind == "star_confirm" and self.star_draft_reply(state.pending or {}) is None:
            state.pending = None  # a draft that cannot be shown again is never sent on a bare "1"
        elif kind in ("confirm_date", "amend") and not self._pending_applies(state, today):
            state.pending = None
        return state

    def _pending_applies(self, state: DialogueState, today: date) -> bool:
        """A pending date or change still refers to a question of today's dialogue."""
        pending = state.pending or {}
        if "segment" in pending:
            index = int(pending["segment"])
            return index < len(state.segments) and pending["question"] in state.segments[index].answers
        question = self.position(state, today).question
        return question is not None and question.id == pending.get("question")

    # -- the current position --------------------------------------------------------------------------------------
    def flow(self, state: DialogueState) -> Flow:
        """The flow the dialogue is in now."""
        return self.rulebook.flow(state.segments[-1].flow)

    @staticmethod
    def _key(segment: Segment, today: date) -> tuple[Any, ...]:
        """What a walked position depends on: the flow, its answers in order, and the day."""
        return (segment.flow, tuple(segment.answers.items()), today)

    def _walk(self, segment: Segment, today: date, state: DialogueState) -> Position:
        key = self._key(segment, today)
        position = state.positions.get(key)
        if position is None:
            position = self.walks.walk(self.rulebook.flow(segment.flow), segment.answers, today)
            self._remember(state, key, position)
        return position

    @staticmethod
    def _remember(state: DialogueState, key: tuple[Any, ...], position: Position) -> None:
        """Keep the position of these answers; only the last few, so a long-lived dialogue does not grow."""
        if len(state.positions) >= POSITIONS_KEPT:
            state.positions.clear()
        state.positions[key] = position

    def position(self, state: DialogueState, today: date) -> Position:
        """Where the current flow stands after its answers (walked once per turn for the same answers)."""
        return self._walk(state.segments[-1], today, state)

    def prompt(self, state: DialogueState, today: date, brief: bool = False) -> list[Reply]:
        """What to show for the current position: the question with its options, or the outcome.

        `brief` is for asking again after an interruption (help, an error, a STAR draft): at an outcome the
        caseworker has just seen it, so only the hint on what to do next is repeated.
        """
        position = self.position(state, today)
        if position.question is None:
            hint = Reply(self.texts.common("after_outcome"), options=self.outcome_options(), kind="hint")
            return [hint] if brief else [self._outcome_reply(position), hint]
        return [self._question_reply(position)]

    def outcome_options(self) -> tuple[tuple[str, str], ...]:
        """What every outcome offers: Hvorfor?, change an answer, a new case (the same labels each time: made once)."""
        if self._outcome_options is None:
            self._outcome_options = tuple((value, to_plain(self.texts.common(f"option_{value}")))
                                          for value in ("why", "amend", "new"))
        return self._outcome_options

    def _question_reply(self, position: Position) -> Reply:
        """The question with its hint or options; the same text of the same question gives the same Reply, which is
        kept (up to REPLIES_KEPT; a Reply cannot change)."""
        flow, question = position.flow, position.question
        assert question is not None
        text = self.texts.question(flow, question, position.answers)
        key = (flow.programme.id, flow.id, question.id, text)
        reply = self._replies.get(key)
        if reply is None:
            if len(self._replies) >= REPLIES_KEPT:
                self._replies.clear()
            reply = self._replies[key] = self._make_question_reply(flow, question, text)
        return reply

    def _make_question_reply(self, flow: Flow, question: Question, text: str) -> Reply:
        if question.kind == "date":
            hint = self.texts.common("date_hint")
            if question.optional:
                hint += " " + self.texts.common("skip_hint")
            return Reply(f"{text}\n<i>{hint}</i>", kind="question", today_button=question.suggest_today)
        labels = self.texts.option_labels(flow, question)
        return Reply(text, options=tuple(labels.items()), kind="question")

    def _outcome_reply(self, position: Position) -> Reply:
        assert position.outcome is not None
        earlier = (self.answers.for_gap(position.outcome.gap, position.flow.programme.id)
                   if self.answers and position.outcome.gap else None)
        text = self.texts.outcome(position.flow, position.outcome, position.answers, star_answered=bool(earlier))
        if earlier:  # STAR has answered this gap before: that answer comes first
            text = self.texts.common("earlier_answer", answer=earlier["answer"],
                                     answered=answered_day(earlier)) + "\n\n" + text
        return Reply(text, kind="outcome")

    # -- input ------------------------------------------------------------------------------------------------------
    def handle(self, state: DialogueState, text: str, today: date) -> Turn:
        """Take one typed message; an empty one asks the open step again."""
        text = text.strip()
        kind = (state.pending or {}).get("kind")
        if not text:
            return Turn(state, self.current_step(state, today, brief=True))
        if contains_cpr(text):  # any input, commands and their words included: never stored, never echoed
            return Turn(state, [Reply(self.texts.common("cpr_refused"), kind="error")]
                        + self.current_step(state, today, brief=True))
        if text.startswith("/"):
            return self._command(state, text, today)
        if kind in _PENDING_STEPS:
            return getattr(self, _PENDING_STEPS[kind])(state, text, today)  # type: ignore[no-any-return]
        position = self.position(state, today)
        if position.question is None:
            return self._after_outcome(state, text, today)
        try:
            value = parse_answer(position.question, text, today,
                                 self._labels(position) if position.question.kind != "date" else {})
        except AnswerError as error:
            return self._rejected(state, position, error, today)
        warning = far_date_warning(position.question, value, today)
        if warning:
            return self.ask_far_date(state, position.question.id, value, warning, today)
        return self.accept(state, value, today, position)

    def _after_outcome(self, state: DialogueState, text: str, today: date) -> Turn:
        try:
            return self.choose(state, read_choice(text, self.outcome_options()), today)
        except AnswerError:
            pass
        if normalise(text) in _NEW_CASE:
            return self._restart(state, today)
        outcome = self.position(state, today).outcome
        if outcome is not None and outcome.result == "ask_star":
            return self.star_command(state, text, today)  # the caseworker's own words become the question
        return Turn(state, self.current_step(state, today, brief=True))

    def current_options(self, state: DialogueState, today: date) -> tuple[tuple[str, str], ...]:
        """The (value, label) choices open right now: those of the step on screen (see current_step)."""
        steps = self.current_step(state, today, brief=True)
        return steps[-1].options if steps else ()

    def choose(self, state: DialogueState, value: str, today: date) -> Turn:
        """Take a pressed option (a canonical value) for the step on screen."""
        kind = (state.pending or {}).get("kind")
        if kind == "confirm_date":
            return self._confirm(state, "ja" if value == "yes" else "nej", today)
        if kind == "star_confirm":
            return self._star_decision(state, value, today)
        if kind == "confirm_restart":
            return self._restart_answer(state, "ja" if value == "yes" else "nej", today)
        if kind == "amend_pick":
            return self._amend_start(state, value, today)
        if kind == "amend":
            return self._amend_answer(state, value, today)
        position = self.position(state, today)
        if position.question is None:
            actions = {"why": lambda: Turn(state, [self.why_reply(state, today)] + self.current_step(state, today, True)),
                       "amend": lambda: self.amend_list(state, today), "new": lambda: self._restart(state, today)}
            return actions[value]() if value in actions else Turn(state, self.prompt(state, today))
        return self.accept(state, value, today, position)

    def accept(self, state: DialogueState, value: str, today: date, position: Position | None = None) -> Turn:
        """Record a canonical answer to the current question and move on (`position`: the current one, if the
        caller has just found it)."""
        state.pending = None
        segment = state.segments[-1]
        flow = self.rulebook.flow(segment.flow)
        if position is None:
            position = self.position(state, today)
        try:
            stepped = self.walks.step(flow, position, value, today)
        except AnswerError as error:
            return self._rejected(state, position, error, today)
        assert position.question is not None
        segment.answers[position.question.id] = value
        state.step += 1
        # A question further on that a hand-over already answered is not asked again: then the answers are walked
        # from the start. Otherwise the step is where that walk would stop, and is kept as the new position.
        if stepped.question is None or stepped.question.id not in segment.answers:
            self._remember(state, self._key(segment, today), stepped)
            return self._arrive(state, stepped, today, [])
        return self._arrive(state, self.position(state, today), today, [])

    def _arrive(self, state: DialogueState, position: Position, today: date, replies: list[Reply]) -> Turn:
        """Show where an answer led: the next question, a redirect into another flow, or the decision."""
        outcome = position.outcome
        if outcome is None:
            return Turn(state, replies + [self._question_reply(position)])
        if outcome.use_flow:
            if state.segments[-1].flow not in self.rulebook.routers:
                replies.append(self._outcome_reply(position))
            state.segments.append(Segment(outcome.use_flow, dict(outcome.carry)))
            if outcome.carry:
                replies.append(Reply(self.texts.common("carried", items=self._carried_text(state))))
            return self._arrive(state, self.position(state, today), today, replies)
        steps = trace_dicts(trace(self.rulebook, [(s.flow, s.answers) for s in state.segments], today))
        decision = Decision(flow=position.flow.id, outcome={**outcome.to_dict(), "trace": steps}, decided_on=today,
                            answers=[{"flow": s.flow, "question": q, "value": v}
                                     for s in state.segments for q, v in s.answers.items()])
        return Turn(state, replies + self.prompt(state, today), decision)

    def _rejected(self, state: DialogueState, position: Position, error: AnswerError, today: date) -> Turn:
        if "text" in error.params and len(str(error.params["text"])) > 40:
            error.params["text"] = str(error.params["text"])[:40] + "…"
        message = self.texts.error(error, position.flow, position.question, position.answers)
        return Turn(state, [Reply(message, kind="error")] + self.current_step(state, today, brief=True))

    def _confirm(self, state: DialogueState, text: str, today: date) -> Turn:
        """The answer to 'Er datoen rigtig?': the date shown is used, or the question is asked again."""
        pending = dict(state.pending or {})
        try:
            answer = read_choice(text, self.texts.yes_no())
        except AnswerError:
            day = format_date(date.fromisoformat(pending["value"]))
            return Turn(state, [Reply(self.texts.common("confirm_again", day=day),
                                      options=self.texts.yes_no(), kind="question")])
        if answer == "yes" and "segment" in pending:
            return self.apply_change(state, int(pending["segment"]), pending["question"], pending["value"], today)
        if answer == "yes":
            return self.accept(state, pending["value"], today)
        state.step += 1
        state.pending = ({"kind": "amend", "segment": pending["segment"], "question": pending["question"]}
                         if "segment" in pending else None)
        return Turn(state, self.current_step(state, today))

    # -- commands ---------------------------------------------------------------------------------------------------
    def _command(self, state: DialogueState, text: str, today: date) -> Turn:
        name, _, rest = text.partition(" ")
        name = name.split("@", 1)[0].lower()
        again = self.current_step(state, today, brief=True)
        if name in _BACK:
            return self.back(state, today)
        if name in _RESTART:
            return self.ask_restart(state, today)
        if name in _AMEND:
            return self.amend_list(state, today)
        if name in _WHY:
            return Turn(state, [self.why_reply(state, today)] + again)
        if name in _END:
            return Turn(state, [Reply(self.texts.common("goodbye"))], ends=True)
        if name in _HELP:
            return Turn(state, [self._help(state, today)] + again)
        if name in _STAR:
            return self.star_command(state, rest.strip(), today)
        if name.startswith(PROGRAMME_COMMAND):
            return choose_programme(self, state, name, rest, today)
        if name in _FAQ:
            return Turn(state, [self._faq(rest.strip())] + again)
        if name in _CANCEL and state.pending:
            kind = state.pending.get("kind")
            state.pending = None
            replies = [Reply(self.texts.common("star_cancelled"))] if kind == "star_text" else []
            return Turn(state, replies + self.current_step(state, today, brief=True))
        return Turn(state, [Reply(self.texts.common("unknown_command"))] + again)

    def _restart(self, state: DialogueState, today: date) -> Turn:
        fresh = self.new_state(state.programme)
        fresh.step, fresh.last_update, fresh.numbering = state.step + 1, state.last_update, state.numbering
        fresh.star_drafts = state.star_drafts  # drafts saved for later outlive the case
        return Turn(fresh, [Reply(self.texts.common("restarted"))] + self.prompt(fresh, today))

    def _help(self, state: DialogueState, today: date) -> Reply:
        position = self.position(state, today)
        if position.question is not None:
            return Reply(self.texts.help(position.flow, position.question, position.answers))
        assert position.outcome is not None
        sources = "; ".join(s.partition(": ")[2] for s in position.outcome.sources)
        return Reply(self.texts.common("help_at_outcome", sources=sources))

    def _labels(self, position: Position) -> dict[str, str]:
        assert position.question is not None
        return self.texts.option_labels(position.flow, position.question)

    def _carried_text(self, state: DialogueState) -> list[tuple[str, str]]:
        flow, answers = self.flow(state), state.segments[-1].answers
        return [(to_plain(self.texts.question(flow, flow.spec.questions[q], answers)).split("\n")[0],
                 self.texts.answer(flow, flow.spec.questions[q], v)) for q, v in answers.items()]
