"""One dialogue turn, the same for every channel: typed text or a pressed option in, replies and a new state out."""

from __future__ import annotations

from datetime import date
from typing import Any

from flows.answers import normalise, parse_answer, parse_yes_no
from flows.dates import format_date
from flows.engine import Flow, Position, Rulebook, far_date_warning
from flows.errors import AnswerError
from flows.privacy import contains_cpr
from flows.trace import trace, trace_dicts

from bot.config import STAR_ADDRESS
from bot.chat.dialogue import STATE_VERSION, Decision, DialogueState, Reply, Segment, Turn
from bot.chat.programmes import PROGRAMME_COMMAND, choose_programme
from bot.chat.star_steps import StarAnswers, StarSteps, answered_day

from bot.chat.texts import Texts

_NEW_CASE = {"ny", "ny sag", "ja", "ja tak", "j", "forfra", "start"}
_BACK = {"/tilbage", "/back", "/fortryd"}
_RESTART = {"/forfra", "/ny", "/start", "/reset"}
_HELP = {"/hjælp", "/hjaelp", "/help", "/?"}
_STAR = {"/star", "/spørg", "/spoerg"}
_CANCEL = {"/annuller", "/cancel", "/stop"}
_FAQ = {"/faq", "/svar"}


class Conversation(StarSteps):
    """Runs dialogues over a rulebook; holds no per-dialogue data (the state travels in and out)."""

    def __init__(self, rulebook: Rulebook, texts: Texts, municipality: str = "",
                 answers: StarAnswers | None = None, recipient: str = STAR_ADDRESS) -> None:
        self.rulebook = rulebook
        self.texts = texts
        self.municipality = municipality  # "" until configured or answered once (StarSteps.known_municipality)
        self.answers = answers
        self.recipient = recipient  # where questions for STAR go (UNGEBOT_STAR_EMAIL)

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
        state.segments = kept or self.new_state(state.programme).segments
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
        earlier = (self.answers.for_gap(position.outcome.gap, position.flow.programme.id)
                   if self.answers and position.outcome.gap else None)
        text = self.texts.outcome(position.flow, position.outcome, position.answers, star_answered=bool(earlier))
        if earlier:  # STAR has answered this gap before: that answer comes first
            text = self.texts.common("earlier_answer", answer=earlier["answer"],
                                     answered=answered_day(earlier)) + "\n\n" + text
        return Reply(text, kind="outcome")

    # -- input ------------------------------------------------------------------------------------------------------
    def handle(self, state: DialogueState, text: str, today: date) -> Turn:
        """Take one typed message."""
        text = text.strip()
        pending = state.pending or {}
        if contains_cpr(text):  # any input, commands and their words included: never stored, never echoed
            again = ([Reply(self.texts.common("star_prompt"))] if pending.get("kind") == "star_text"
                     else self.prompt(state, today, brief=True))
            return Turn(state, [Reply(self.texts.common("cpr_refused"), kind="error")] + again)
        if text.startswith("/"):
            return self._command(state, text, today)
        if pending.get("kind") == "star_text":
            return self._draft_star(state, text, today)
        if pending.get("kind") == "star_confirm":
            return self._star_decision(state, text, today)
        if pending.get("kind") == "star_municipality":
            return self._star_municipality(state, text, today)
        if pending.get("kind") == "confirm_date":
            return self._confirm(state, text, today)
        position = self.position(state, today)
        if position.question is None:
            if normalise(text) in _NEW_CASE:
                return self._restart(state, today)
            if position.outcome is not None and position.outcome.result == "ask_star":
                return self.star_command(state, text, today)  # the caseworker's own words become the question
            return Turn(state, [Reply(self.texts.common("after_outcome"), kind="hint")])
        try:
            value = parse_answer(position.question, text, today,
                                 self._labels(position) if position.question.kind != "date" else {})
        except AnswerError as error:
            return self._rejected(state, position, error, today)
        if position.question.kind == "date" and value:
            warning = far_date_warning(position.question, value, today)
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
            if state.segments[-1].flow not in self.rulebook.routers:
                replies.append(self._outcome_reply(position))
            state.segments.append(Segment(outcome.use_flow, dict(outcome.carry)))
            if outcome.carry:
                replies.append(Reply(self.texts.common("carried", items=self._carried_text(state))))
            return self._arrive(state, self.position(state, today), today, replies)
        steps = trace_dicts(trace(self.rulebook, [(s.flow, s.answers) for s in state.segments], today))
        decision = Decision(flow=position.flow.id, outcome={**outcome.to_dict(), "trace": steps}, decided_on=today, answers=[
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
            return self.star_command(state, rest.strip(), today)
        if name.startswith(PROGRAMME_COMMAND):
            return choose_programme(self, state, name, rest, today)
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
        fresh = self.new_state(state.programme)
        fresh.step, fresh.last_update = state.step + 1, state.last_update
        fresh.star_drafts = state.star_drafts  # drafts saved for later outlive the case
        return Turn(fresh, [Reply(self.texts.common("restarted"))] + self.prompt(fresh, today))

    def _help(self, state: DialogueState, today: date) -> Reply:
        position = self.position(state, today)
        if position.question is not None:
            return Reply(self.texts.help(position.flow, position.question, position.answers))
        assert position.outcome is not None
        sources = "; ".join(s.partition(": ")[2] for s in position.outcome.sources)
        return Reply(self.texts.common("help_at_outcome", sources=sources))

    # -- STAR -------------------------------------------------------------------------------------------------------
    def _labels(self, position: Position) -> dict[str, str]:
        assert position.question is not None
        return self.texts.option_labels(position.flow, position.question)

    def _carried_text(self, state: DialogueState) -> str:
        flow = self.flow(state)
        return ", ".join(self.texts.answer(flow, flow.spec.questions[q], v) for q, v in state.segments[-1].answers.items())
