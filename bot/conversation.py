"""One dialogue turn, the same for every channel: typed text or a pressed option in, replies and a new state out."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from flows.answers import normalise, parse_answer, parse_yes_no
from flows.dates import format_date, today_in_copenhagen
from flows.engine import Flow, Position, Rulebook, distance_warning
from flows.errors import AnswerError
from flows.privacy import contains_cpr
from storage.star import Draft

from bot.texts import Texts, to_plain

STATE_VERSION = 1
STAR_ADDRESS = "star@star.dk"
_NEW_CASE = {"ny", "ny sag", "ja", "ja tak", "j", "forfra", "start"}
_BACK = {"/tilbage", "/back", "/fortryd"}
_RESTART = {"/forfra", "/ny", "/start", "/reset"}
_HELP = {"/hjælp", "/hjaelp", "/help", "/?"}
_STAR = {"/star", "/spørg", "/spoerg"}
_CANCEL = {"/annuller", "/cancel", "/stop"}
_FAQ = {"/faq", "/svar"}


def _answered_day(entry: dict[str, Any]) -> str:
    """The Danish date STAR's answer was recorded."""
    stamp = entry.get("answered_at") or ""
    return format_date(date.fromisoformat(stamp[:10])) if stamp else ""


def current_day() -> date:
    """Today in Denmark; UNGEBOT_TODAY (an ISO date) pins it for training cases and tests."""
    pinned = os.environ.get("UNGEBOT_TODAY")
    return date.fromisoformat(pinned) if pinned else today_in_copenhagen()


@dataclass
class Segment:
    """The answers given in one flow, in the order they were given."""

    flow: str
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class DialogueState:
    """Everything a dialogue needs to resume: its flows and answers, a pending confirmation, a step counter."""

    segments: list[Segment]
    pending: dict[str, str] | None = None
    step: int = 0
    last_update: int = 0  # the newest Telegram update applied, so a redelivered update is not applied twice
    # Walks already made during this turn, by (flow, answers, today); never stored, gone with the turn.
    positions: dict[tuple[Any, ...], Position] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for storage."""
        return {"v": STATE_VERSION, "step": self.step, "pending": self.pending, "last_update": self.last_update,
                "segments": [{"flow": s.flow, "answers": list(s.answers.items())} for s in self.segments]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DialogueState":
        """Read a stored state back."""
        segments = [Segment(s["flow"], dict(s["answers"])) for s in data["segments"]]
        return cls(segments=segments, pending=data.get("pending"), step=int(data.get("step", 0)),
                   last_update=int(data.get("last_update", 0)))


@dataclass(frozen=True)
class Reply:
    """One message to show: HTML text and, for a question, the options as (value, label)."""

    text: str
    options: tuple[tuple[str, str], ...] = ()
    kind: str = "info"
    today_button: bool = False


@dataclass(frozen=True)
class Decision:
    """A finished dialogue, ready for the decision log."""

    flow: str
    answers: list[dict[str, str]]
    outcome: dict[str, Any]
    decided_on: date


@dataclass
class Turn:
    """The result of one input: the new state, what to show, and a decision to log if the dialogue ended."""

    state: DialogueState
    replies: list[Reply]
    decision: Decision | None = None
    star_draft: Draft | None = None  # to store now; its id goes into state.pending["question"]
    star_send: int | None = None  # the stored question the caseworker confirmed


class StarAnswers(Protocol):
    """Where STAR's recorded answers are looked up (the adapters pass storage-backed ones)."""

    def for_gap(self, gap: str) -> dict[str, Any] | None: ...

    def search(self, words: str) -> list[dict[str, Any]]: ...


class Conversation:
    """Runs dialogues over a rulebook; holds no per-dialogue data (the state travels in and out)."""

    def __init__(self, rulebook: Rulebook, texts: Texts, municipality: str = "",
                 answers: StarAnswers | None = None) -> None:
        self.rulebook = rulebook
        self.texts = texts
        self.municipality = municipality or "(kommune ikke angivet)"
        self.answers = answers

    def decision_record(self, turn: Turn) -> tuple[str, str, str, list[dict[str, str]], dict[str, Any], str] | None:
        """The turn's decision as storage.records.record_turn takes it, or None."""
        if turn.decision is None:
            return None
        return (self.rulebook.programme.id, turn.decision.flow, self.rulebook.edition, turn.decision.answers,
                turn.decision.outcome, turn.decision.decided_on.isoformat())

    def new_state(self) -> DialogueState:
        """A fresh dialogue at the router."""
        return DialogueState([Segment(self.rulebook.programme.entry)])

    def restore(self, data: dict[str, Any] | None, today: date) -> DialogueState:
        """Replay a stored state through today's flows; answers that no longer apply are dropped."""
        if not data or data.get("v") != STATE_VERSION:
            return self.new_state()
        state = DialogueState.from_dict(data)
        kept: list[Segment] = []
        for index, segment in enumerate(state.segments):
            if segment.flow not in self.rulebook.flows:
                break
            position = self._walk(segment, today, state)
            kept.append(Segment(segment.flow, dict(position.answers)))
            following = state.segments[index + 1].flow if index + 1 < len(state.segments) else None
            # Keep the next flow only if today's rules still send this one there.
            if following is None or position.outcome is None or position.outcome.use_flow != following:
                break
        state.segments = kept or self.new_state().segments
        last = self._walk(state.segments[-1], today, state).outcome
        if last is not None and last.use_flow:
            state.segments.append(Segment(last.use_flow, dict(last.carry)))
        return state

    # -- the current position --------------------------------------------------------------------------------------
    def flow(self, state: DialogueState) -> Flow:
        """The flow the dialogue is in now."""
        return self.rulebook.flow(state.segments[-1].flow)

    def _walk(self, segment: Segment, today: date, state: DialogueState) -> Position:
        key = (segment.flow, tuple(segment.answers.items()), today)
        position = state.positions.get(key)
        if position is None:
            position = state.positions[key] = self.rulebook.flow(segment.flow).walk(segment.answers, today)
        return position

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
            hint = Reply(self.texts.common("after_outcome"), kind="hint")
            return [hint] if brief else [self._outcome_reply(position), hint]
        return [self._question_reply(position)]

    def _question_reply(self, position: Position) -> Reply:
        flow, question = position.flow, position.question
        assert question is not None
        text = self.texts.question(flow, question, position.answers)
        if question.kind == "date":
            hint = self.texts.common("date_hint")
            if question.optional:
                hint += " " + self.texts.common("skip_hint")
            return Reply(f"{text}\n<i>{hint}</i>", kind="question", today_button=question.suggest_today)
        labels = self.texts.option_labels(flow, question)
        return Reply(text, options=tuple(labels.items()), kind="question")

    def _outcome_reply(self, position: Position) -> Reply:
        assert position.outcome is not None
        text = self.texts.outcome(position.flow, position.outcome, position.answers)
        earlier = self.answers.for_gap(position.outcome.gap) if self.answers and position.outcome.gap else None
        if earlier:  # STAR has answered this gap before: that answer comes first
            text = self.texts.common("earlier_answer", answer=earlier["answer"],
                                     answered=_answered_day(earlier)) + "\n\n" + text
        return Reply(text, kind="outcome")

    # -- input ------------------------------------------------------------------------------------------------------
    def handle(self, state: DialogueState, text: str, today: date) -> Turn:
        """Take one typed message."""
        text = text.strip()
        if text.startswith("/"):
            return self._command(state, text, today)
        pending = state.pending or {}
        if contains_cpr(text):
            again = ([Reply(self.texts.common("star_prompt"))] if pending.get("kind") == "star_text"
                     else self.prompt(state, today, brief=True))
            return Turn(state, [Reply(self.texts.common("cpr_refused"), kind="error")] + again)
        if pending.get("kind") == "star_text":
            return self._draft_star(state, text, today)
        if pending.get("kind") == "star_confirm":
            return self._star_decision(state, text, today)
        if pending.get("kind") == "confirm_date":
            return self._confirm(state, text, today)
        position = self.position(state, today)
        if position.question is None:
            if normalise(text) in _NEW_CASE:
                return self._restart(state, today)
            return Turn(state, [Reply(self.texts.common("after_outcome"), kind="hint")])
        try:
            value = parse_answer(position.question, text, today,
                                 self._labels(position) if position.question.kind != "date" else {})
        except AnswerError as error:
            return self._rejected(state, position, error, today)
        if position.question.kind == "date" and value:
            warning = distance_warning(date.fromisoformat(value), today)
            if warning:
                state.pending = {"kind": "confirm_date", "question": position.question.id, "value": value,
                                 "warning": warning}
                state.step += 1
                day = format_date(date.fromisoformat(value))
                return Turn(state, [Reply(self.texts.common("confirm_far_date", day=day, warning=warning),
                                          options=self.texts.yes_no(), kind="question")])
        return self.accept(state, value, today)

    def current_options(self, state: DialogueState, today: date) -> tuple[tuple[str, str], ...]:
        """The (value, label) choices open right now: a pending confirmation's, or the current question's."""
        kind = (state.pending or {}).get("kind")
        if kind == "confirm_date":
            return self.texts.yes_no()
        if kind == "star_confirm":
            return self._star_options()
        position = self.position(state, today)
        if position.question is None or position.question.kind == "date":
            return ()
        return tuple(self._labels(position).items())

    def choose(self, state: DialogueState, value: str, today: date) -> Turn:
        """Take a pressed option (a canonical value) for the current question or a pending confirmation."""
        kind = (state.pending or {}).get("kind")
        if kind == "confirm_date":
            return self._confirm(state, "ja" if value == "yes" else "nej", today)
        if kind == "star_confirm":
            return self._star_decision(state, value, today)
        position = self.position(state, today)
        if position.question is None:
            return Turn(state, self.prompt(state, today))
        return self.accept(state, value, today)

    def accept(self, state: DialogueState, value: str, today: date) -> Turn:
        """Record a canonical answer to the current question and move on."""
        state.pending = None
        segment = state.segments[-1]
        flow = self.rulebook.flow(segment.flow)
        position = self.position(state, today)
        try:
            after = flow.step(position, value, today)
        except AnswerError as error:
            return self._rejected(state, position, error, today)
        assert position.question is not None
        segment.answers[position.question.id] = value
        state.step += 1
        return self._arrive(state, after, today, [])

    def _arrive(self, state: DialogueState, position: Position, today: date, replies: list[Reply]) -> Turn:
        """Show where an answer led: the next question, a redirect into another flow, or the decision."""
        outcome = position.outcome
        if outcome is None:
            return Turn(state, replies + [self._question_reply(position)])
        if outcome.use_flow:
            if state.segments[-1].flow != self.rulebook.programme.entry:
                replies.append(self._outcome_reply(position))
            state.segments.append(Segment(outcome.use_flow, dict(outcome.carry)))
            if outcome.carry:
                replies.append(Reply(self.texts.common("carried", items=self._carried_text(state))))
            return self._arrive(state, self.position(state, today), today, replies)
        decision = Decision(flow=position.flow.id, outcome=outcome.to_dict(), decided_on=today, answers=[
            {"flow": s.flow, "question": q, "value": v} for s in state.segments for q, v in s.answers.items()])
        replies += [self._outcome_reply(position), Reply(self.texts.common("after_outcome"), kind="hint")]
        return Turn(state, replies, decision)

    def _rejected(self, state: DialogueState, position: Position, error: AnswerError, today: date) -> Turn:
        if "text" in error.params and len(str(error.params["text"])) > 40:
            error.params["text"] = str(error.params["text"])[:40] + "…"
        message = self.texts.error(error, position.flow, position.question, position.answers)
        return Turn(state, [Reply(message, kind="error")] + self.prompt(state, today, brief=True))

    def _confirm(self, state: DialogueState, text: str, today: date) -> Turn:
        pending = state.pending or {}
        answer = parse_yes_no(text)
        if answer is None:
            day = format_date(date.fromisoformat(pending["value"]))
            return Turn(state, [Reply(self.texts.common("confirm_again", day=day),
                                      options=self.texts.yes_no(), kind="question")])
        if answer:
            return self.accept(state, pending["value"], today)
        state.pending = None
        state.step += 1
        return Turn(state, self.prompt(state, today))

    # -- commands ---------------------------------------------------------------------------------------------------
    def _command(self, state: DialogueState, text: str, today: date) -> Turn:
        name, _, rest = text.partition(" ")
        name = name.split("@", 1)[0].lower()
        if name in _BACK:
            return self.back(state, today)
        if name in _RESTART:
            return self._restart(state, today)
        if name in _HELP:
            return Turn(state, [self._help(state, today)] + self.prompt(state, today, brief=True))
        if name in _STAR:
            if rest.strip():
                if contains_cpr(rest):
                    return Turn(state, [Reply(self.texts.common("cpr_refused"), kind="error")]
                                + self.prompt(state, today, brief=True))
                return self._draft_star(state, rest.strip(), today)
            state.pending = {"kind": "star_text"}
            return Turn(state, [Reply(self.texts.common("star_prompt"))])
        if name in _FAQ:
            return Turn(state, [self._faq(rest.strip())] + self.prompt(state, today, brief=True))
        if name in _CANCEL and state.pending:
            kind = state.pending.get("kind")
            state.pending = None
            replies = [Reply(self.texts.common("star_cancelled"))] if kind == "star_text" else []
            return Turn(state, replies + self.prompt(state, today, brief=True))
        return Turn(state, [Reply(self.texts.common("unknown_command"))] + self.prompt(state, today, brief=True))

    def back(self, state: DialogueState, today: date) -> Turn:
        """Drop the last answer (leaving a flow we were sent to if it has none)."""
        if state.pending:
            state.pending = None
        elif state.segments[-1].answers:
            state.segments[-1].answers.popitem()
        elif len(state.segments) > 1:
            state.segments.pop()
            state.segments[-1].answers.popitem()
        else:
            return Turn(state, [Reply(self.texts.common("at_first_question"))] + self.prompt(state, today))
        state.step += 1
        return Turn(state, [Reply(self.texts.common("went_back"))] + self.prompt(state, today))

    def _restart(self, state: DialogueState, today: date) -> Turn:
        fresh = self.new_state()
        fresh.step, fresh.last_update = state.step + 1, state.last_update
        return Turn(fresh, [Reply(self.texts.common("restarted"))] + self.prompt(fresh, today))

    def _help(self, state: DialogueState, today: date) -> Reply:
        position = self.position(state, today)
        if position.question is not None:
            return Reply(self.texts.help(position.flow, position.question, position.answers))
        assert position.outcome is not None
        sources = "; ".join(s.replace("000: ", "") for s in position.outcome.sources)
        return Reply(self.texts.common("help_at_outcome", sources=sources))

    # -- STAR -------------------------------------------------------------------------------------------------------
    def _labels(self, position: Position) -> dict[str, str]:
        assert position.question is not None
        return self.texts.option_labels(position.flow, position.question)

    def case_summary(self, state: DialogueState, today: date) -> list[tuple[str, str]]:
        """Each question asked so far in plain Danish, with the answer as it was shown."""
        lines = []
        for segment in state.segments:
            flow = self.rulebook.flow(segment.flow)
            for question_id, value in segment.answers.items():
                question = flow.question(question_id)
                if question is None:
                    continue
                text = to_plain(self.texts.question(flow, question, segment.answers)).replace("\n", " ")
                lines.append((text, self._shown(flow, question_id, value, segment.answers)))
        return lines

    def _shown(self, flow: Flow, question_id: str, value: str, answers: dict[str, str]) -> str:
        """An answer as the caseworker saw it: a Danish date or the option's label."""
        question = flow.spec.questions[question_id]
        if question.kind == "date":
            return format_date(date.fromisoformat(value)) if value else "(sprunget over)"
        return self.texts.option_labels(flow, question)[value]

    def _carried_text(self, state: DialogueState) -> str:
        flow, answers = self.flow(state), state.segments[-1].answers
        return ", ".join(self._shown(flow, q, v, answers) for q, v in answers.items())

    def star_draft(self, state: DialogueState, words: str, today: date) -> tuple[str, str]:
        """Subject and body of a question to STAR, drafted from the case so far and the caseworker's words."""
        position = self.position(state, today)
        outcome = position.outcome
        flow = self.flow(state)
        sources = list(outcome.sources) if outcome else sorted(
            {flow.spec.questions[q].source for q in position.answers} | {flow.spec.source})
        return self.texts.star_email(
            situation=flow.title, answers=self.case_summary(state, today),
            outcome=to_plain(self.texts.outcome(flow, outcome, position.answers)).split("\n", 1)[0]
            if outcome else None,
            warnings=[to_plain(self.texts.env.get_template("common/warnings.j2").render(warning=w))
                      for w in (outcome.warnings if outcome else ())],
            sources=[s.replace("000: ", "") for s in sources],
            gap=self.texts.gap(outcome.gap) if outcome and outcome.gap else None,
            words=words, municipality=self.municipality)

    def _draft_star(self, state: DialogueState, words: str, today: date) -> Turn:
        subject, body = self.star_draft(state, words, today)
        position = self.position(state, today)
        flow = self.flow(state)
        draft = Draft(subject=subject, body=body, words=words, situation=flow.title, flow=flow.id,
                      gap=position.outcome.gap if position.outcome else None, programme=self.rulebook.programme.id)
        state.pending = {"kind": "star_confirm"}
        state.step += 1
        reply = Reply(self.texts.common("star_draft", to=STAR_ADDRESS, subject=subject, body=body),
                      options=self._star_options(), kind="draft")
        return Turn(state, [reply], star_draft=draft)

    def _star_options(self) -> tuple[tuple[str, str], ...]:
        return tuple((value, to_plain(self.texts.common(f"star_{value}"))) for value in ("send", "edit", "cancel"))

    def _star_decision(self, state: DialogueState, text: str, today: date) -> Turn:
        """Send, edit or cancel the drafted question."""
        typed = normalise(text)
        options = self._star_options()
        choice = next((value for index, (value, label) in enumerate(options, start=1)
                       if typed in (value, str(index), normalise(label))), None)
        if choice is None and parse_yes_no(text) is not None:
            choice = "send" if parse_yes_no(text) else "cancel"
        if choice is None:
            return Turn(state, [Reply(self.texts.common("star_confirm_again"), options=options, kind="draft")])
        question = (state.pending or {}).get("question")
        state.step += 1
        if choice == "edit":
            state.pending = {"kind": "star_text"}
            return Turn(state, [Reply(self.texts.common("star_prompt"))])
        state.pending = None
        if choice == "cancel":
            return Turn(state, [Reply(self.texts.common("star_cancelled"))] + self.prompt(state, today, brief=True))
        return Turn(state, self.prompt(state, today, brief=True), star_send=int(question) if question else None)

    def _faq(self, words: str) -> Reply:
        entries = self.answers.search(words) if self.answers else []
        if not entries:
            return Reply(self.texts.common("faq_none", words=words))
        shown = [{"subject": e["subject"], "answer": e["answer"], "answered": _answered_day(e)} for e in entries]
        return Reply(self.texts.common("faq_results", entries=shown))
