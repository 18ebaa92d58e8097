"""Changing answers: /tilbage (names what it removed), /ret (change any earlier answer), /forfra (asks first).

A changed answer is walked again through every flow: later answers that still apply are kept, those that no longer
do are dropped and named, and a decision the caseworker was shown is marked replaced.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.chat.dialogue import DialogueState, Reply, Segment, Turn
from bot.chat.texts import Texts, to_plain
from flows.answers import parse_answer, read_choice
from flows.dates import format_date
from flows.engine import Position, Rulebook, far_date_warning
from flows.errors import AnswerError


class AmendSteps:
    """Mixed into Conversation; the attributes and methods declared here are the host's."""

    rulebook: Rulebook
    texts: Texts

    if TYPE_CHECKING:  # the host's methods, declared for readers and type checkers only
        def new_state(self, programme: str | None = None) -> DialogueState: ...
        def position(self, state: DialogueState, today: date) -> Position: ...
        def current_step(self, state: DialogueState, today: date, brief: bool = False) -> list[Reply]: ...
        def _arrive(self, state: DialogueState, position: Position, today: date, replies: list[Reply]) -> Turn: ...
        def _question_reply(self, position: Position) -> Reply: ...
        def _restart(self, state: DialogueState, today: date) -> Turn: ...

    # -- walking again -------------------------------------------------------------------------------------------
    def rewalk(self, state: DialogueState, today: date) -> list[tuple[str, str, str, dict[str, str]]]:
        """Walk every flow again from its answers (after a change or a restart); a following flow is kept only
        while the one before still hands over to it, with the carried answers renewed. Returns the answers that
        no longer apply, as (flow, question, value, that flow's answers before)."""
        before = [(segment.flow, question, value, dict(segment.answers)) for segment in state.segments
                  for question, value in segment.answers.items()]
        kept: list[Segment] = []
        carry: dict[str, str] = {}
        for index, segment in enumerate(state.segments):
            if segment.flow not in self.rulebook.flows:
                break
            position = self.rulebook.flow(segment.flow).walk({**segment.answers, **carry}, today)
            # Carried answers the walk has not reached yet stay: they answer questions further on.
            kept.append(Segment(segment.flow, {**position.answers,
                                               **{q: v for q, v in carry.items() if q not in position.answers}}))
            following = state.segments[index + 1].flow if index + 1 < len(state.segments) else None
            if following is None or position.outcome is None or position.outcome.use_flow != following:
                break
            carry = dict(position.outcome.carry)
        state.segments = kept or self.new_state(state.programme).segments
        for _ in range(len(self.rulebook.flows)):  # a hand-over reached now opens the next flow
            last = self.rulebook.flow(state.segments[-1].flow).walk(state.segments[-1].answers, today).outcome
            if last is None or not last.use_flow:
                break
            state.segments.append(Segment(last.use_flow, dict(last.carry)))
        after = {(segment.flow, question) for segment in state.segments for question in segment.answers}
        return [item for item in before if item[:2] not in after]

    def _carried(self, state: DialogueState, index: int, today: date) -> dict[str, str]:
        """The answers the flow before handed over to segment `index` (none for the first)."""
        if index == 0:
            return {}
        previous = state.segments[index - 1]
        outcome = self.rulebook.flow(previous.flow).walk(previous.answers, today).outcome
        return dict(outcome.carry) if outcome else {}

    def given(self, state: DialogueState, today: date) -> list[tuple[int, str, str]]:
        """The answers the caseworker gave (not those carried over), in order, as (segment index, question, value)."""
        answers = []
        for index, segment in enumerate(state.segments):
            carried = self._carried(state, index, today)
            answers += [(index, question, value) for question, value in segment.answers.items()
                        if carried.get(question) != value]
        return answers

    def _void_shown(self, state: DialogueState) -> None:
        """The decision on screen no longer stands: mark it replaced when the turn is stored."""
        if state.decision_id is not None:
            state.replaced.append(state.decision_id)
            state.decision_id = None

    def _named(self, flow_id: str, question_id: str, value: str, answers: dict[str, str]) -> tuple[str, str]:
        """A question in one plain line, and the answer as shown."""
        flow = self.rulebook.flow(flow_id)
        question = flow.spec.questions[question_id]
        text = to_plain(self.texts.question(flow, question, {**answers, question_id: value})).split("\n")[0]
        return text, self.texts.answer(flow, question, value)

    def _dropped_replies(self, dropped: list[tuple[str, str, str, dict[str, str]]]) -> list[Reply]:
        named = [self._named(*item) for item in dropped if item[0] in self.rulebook.flows
                 and item[1] in self.rulebook.flow(item[0]).spec.questions]
        return [Reply(self.texts.common("answers_dropped", items=named))] if named else []

    # -- /tilbage --------------------------------------------------------------------------------------------------
    def back(self, state: DialogueState, today: date) -> Turn:
        """Drop the last answer the caseworker gave, and say which; a pending confirmation is dropped first."""
        if state.pending:
            state.pending = None
            state.step += 1
            return Turn(state, [Reply(self.texts.common("pending_dropped"))] + self.current_step(state, today))
        given = self.given(state, today)
        if not given:
            return Turn(state, [Reply(self.texts.common("at_first_question"))] + self.current_step(state, today))
        index, question, value = given[-1]
        removed = self._named(state.segments[index].flow, question, value, state.segments[index].answers)
        del state.segments[index].answers[question]
        del state.segments[index + 1:]
        self._void_shown(state)
        self.rewalk(state, today)
        state.step += 1
        reply = Reply(self.texts.common("went_back", question=removed[0], answer=removed[1]))
        return Turn(state, [reply] + self.current_step(state, today))

    # -- /forfra ---------------------------------------------------------------------------------------------------
    def ask_restart(self, state: DialogueState, today: date) -> Turn:
        """A half-finished case is thrown away only after 'Vil du starte forfra?'."""
        if not self.given(state, today) or self.position(state, today).outcome is not None:
            return self._restart(state, today)
        state.pending = {"kind": "confirm_restart"}
        state.step += 1
        return Turn(state, self.current_step(state, today))

    def restart_reply(self) -> Reply:
        """The question before a half-finished case is thrown away."""
        return Reply(self.texts.common("confirm_restart"), options=self.texts.yes_no(), kind="question")

    def _restart_answer(self, state: DialogueState, text: str, today: date) -> Turn:
        try:
            choice = read_choice(text, self.texts.yes_no())
        except AnswerError as error:
            return Turn(state, [Reply(self.texts.error(error), kind="error")] + self.current_step(state, today))
        if choice == "yes":
            return self._restart(state, today)
        state.pending = None
        state.step += 1
        return Turn(state, [Reply(self.texts.common("restart_declined"))] + self.current_step(state, today))

    # -- /ret ------------------------------------------------------------------------------------------------------
    def amend_options(self, state: DialogueState, today: date) -> tuple[tuple[str, str], ...]:
        """Each answer given, as an option: value 'segment:question', label 'question – answer'."""
        options = []
        for index, question, value in self.given(state, today):
            text, shown = self._named(state.segments[index].flow, question, value, state.segments[index].answers)
            options.append((f"{index}:{question}", f"{text} – {shown}"))
        return tuple(options)

    def amend_list(self, state: DialogueState, today: date) -> Turn:
        """/ret: list the answers given, numbered, and ask which to change."""
        options = self.amend_options(state, today)
        if not options:
            return Turn(state, [Reply(self.texts.common("nothing_to_amend"))] + self.current_step(state, today))
        state.pending = {"kind": "amend_pick"}
        state.step += 1
        return Turn(state, self.current_step(state, today))

    def amend_pick_reply(self, state: DialogueState, today: date) -> Reply:
        """The list of answers to choose from."""
        return Reply(self.texts.common("amend_which"), options=self.amend_options(state, today), kind="question")

    def _amend_pick(self, state: DialogueState, text: str, today: date) -> Turn:
        try:
            choice = read_choice(text, self.amend_options(state, today))
        except AnswerError as error:
            return Turn(state, [Reply(self.texts.error(error), kind="error")] + self.current_step(state, today))
        return self._amend_start(state, choice, today)

    def _amend_start(self, state: DialogueState, choice: str, today: date) -> Turn:
        index_text, _, question = choice.partition(":")
        if not index_text.isdigit() or int(index_text) >= len(state.segments) \
                or question not in state.segments[int(index_text)].answers:
            return Turn(state, self.current_step(state, today))
        state.pending = {"kind": "amend", "segment": index_text, "question": question}
        state.step += 1
        return Turn(state, self.current_step(state, today))

    def amend_question_replies(self, state: DialogueState, today: date) -> list[Reply]:
        """The earlier question asked again, with the answer it has now."""
        pending = state.pending or {}
        segment = state.segments[int(pending["segment"])]
        flow = self.rulebook.flow(segment.flow)
        question = pending["question"]
        _, shown = self._named(segment.flow, question, segment.answers[question], segment.answers)
        asked = Position(flow, segment.answers, question=flow.spec.questions[question])
        return [Reply(self.texts.common("amend_now", answer=shown)), self._question_reply(asked)]

    def _amend_answer(self, state: DialogueState, text: str, today: date) -> Turn:
        pending = state.pending or {}
        segment = state.segments[int(pending["segment"])]
        flow = self.rulebook.flow(segment.flow)
        question = flow.spec.questions[pending["question"]]
        try:
            labels = self.texts.option_labels(flow, question) if question.kind != "date" else {}
            value = parse_answer(question, text, today, labels)
        except AnswerError as error:
            message = self.texts.error(error, flow, question, segment.answers)
            return Turn(state, [Reply(message, kind="error")] + self.current_step(state, today, brief=True))
        warning = far_date_warning(question, value, today)
        if warning:
            return self.ask_far_date(state, question.id, value, warning, today, amend=pending["segment"])
        return self.apply_change(state, int(pending["segment"]), question.id, value, today)

    def apply_change(self, state: DialogueState, index: int, question_id: str, value: str, today: date) -> Turn:
        """Put the new answer in, walk everything again, and say what changed and what was dropped."""
        segment = state.segments[index]
        flow = self.rulebook.flow(segment.flow)
        old = segment.answers.get(question_id)
        candidate = {**segment.answers, question_id: value}
        try:
            earlier = flow.walk({q: v for q, v in candidate.items() if q != question_id}, today).answers
            flow.check(flow.spec.questions[question_id], value, earlier)
        except AnswerError as error:
            message = self.texts.error(error, flow, flow.spec.questions[question_id], candidate)
            return Turn(state, [Reply(message, kind="error")] + self.current_step(state, today, brief=True))
        state.pending = None
        state.step += 1
        before = {each.flow: dict(each.answers) for each in state.segments}
        segment.answers[question_id] = value
        dropped = [(flow_id, question, shown, before.get(flow_id, context))
                   for flow_id, question, shown, context in self.rewalk(state, today)]
        if old != value:
            self._void_shown(state)
        text, shown = self._named(segment.flow, question_id, value, segment.answers)
        replies = [Reply(self.texts.common("amended", question=text, answer=shown))] + self._dropped_replies(dropped)
        position = self.position(state, today)
        if position.outcome is not None and old == value:  # nothing changed: the decision shown still stands
            return Turn(state, replies + self.current_step(state, today))
        return self._arrive(state, position, today, replies)

    # -- far dates ---------------------------------------------------------------------------------------------
    def ask_far_date(self, state: DialogueState, question_id: str, value: str, warning: str, today: date,
                     amend: str | None = None) -> Turn:
        """A date more than a year away is confirmed before it is used; the question names the date."""
        state.pending = {"kind": "confirm_date", "question": question_id, "value": value, "warning": warning}
        if amend is not None:
            state.pending["segment"] = amend
        state.step += 1
        return Turn(state, self.current_step(state, today))

    def far_date_reply(self, pending: dict[str, Any]) -> Reply:
        """'1. marts 2024 ligger mere end et år tilbage … Er datoen rigtig?' with Ja/Nej."""
        day = format_date(date.fromisoformat(pending["value"]))
        return Reply(self.texts.common("confirm_far_date", day=day, warning=pending["warning"]),
                     options=self.texts.yes_no(), kind="question")
