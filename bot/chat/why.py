"""'Hvorfor?': the trace of flows.trace in Danish, the same for the chat, `decide`, `log show` and practice cases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from jinja2 import Template
from markupsafe import Markup

from bot.chat.dialogue import DialogueState, Reply
from bot.chat.texts import Texts, to_plain
from flows.engine import Position, Rulebook
from flows.trace import AnswerStep, DateStep, DeadlineStep, OutcomeStep, Step, trace


class Why:
    """Renders a trace with templates/common/why.j2."""

    def __init__(self, texts: Texts) -> None:
        self.texts = texts
        self.rulebook = texts.rulebook
        self.template: Template = texts.env.get_template("common/why.j2")

    def _block(self, name: str, **context: Any) -> str | None:
        block = self.template.blocks.get(name)
        return Markup("".join(block(self.template.new_context(context))).strip()) if block else None

    def date_name(self, question_id: str) -> str:
        """The short Danish name of a date answer ('ny startdato')."""
        name = self._block(f"name_{question_id}")
        if name is None:
            raise KeyError(f"common/why.j2 has no name_{question_id} block")
        return name

    def render(self, steps: Sequence[Step]) -> str:
        """The whole explanation (HTML): each answer with the guide section behind it, then each date computed."""
        given: dict[str, dict[str, str]] = {}
        for step in steps:
            if isinstance(step, AnswerStep):
                given.setdefault(step.flow, {})[step.question] = step.value
        answers, dates = [], []
        for index, step in enumerate(steps):
            if isinstance(step, AnswerStep):
                answers.append(self._answer(step, given[step.flow], steps[index + 1:]))
            elif isinstance(step, DateStep):
                dates.append(self._date(step))
            elif isinstance(step, DeadlineStep):
                dates.append(self._block("deadline_line", from_name=self.date_name(step.from_question),
                                         from_date=step.from_date, months=step.months, result=step.result))
        return self._block("why", answers=answers, dates=dates) or ""

    def plain(self, steps: Sequence[Step]) -> str:
        """The explanation as plain text (terminal, `log show`)."""
        return to_plain(self.render(steps))

    def _answer(self, step: AnswerStep, answers: dict[str, str], rest: Sequence[Step]) -> dict[str, Any]:
        flow = self.rulebook.flow(step.flow)
        question = flow.spec.questions.get(step.question)
        if question is None:  # a question today's flows no longer have (an old log row)
            text, shown = Markup(step.question), step.value
        else:
            text = Markup(self.texts.question(flow, question, answers).split("\n")[0])
            shown = self.texts.answer(flow, question, step.value)
        led_to = Markup("")
        following = rest[0] if rest else None
        if isinstance(following, OutcomeStep) and following.use_flow and following.use_flow in self.rulebook.flows:
            led_to = Markup(self._block("led_to_flow", title=self.rulebook.flows[following.use_flow].title)) + " "
        return {"question": text, "answer": shown, "carried": step.carried, "led_to": led_to,
                "source": step.source.replace("000: ", "").replace("002: ", ""),
                "note": step.source.startswith("002: ")}  # the 2017 note, not the Ungeløftet guide

    def _date(self, step: DateStep) -> str:
        flow = self.rulebook.flows.get(step.flow)  # each flow names its own programme's markers
        markers = flow.programme.markers if flow is not None else self.rulebook.programme.markers
        marker = markers.get(step.marker_key, step.marker_key)
        return self._block("date_line", marker=marker, from_name=self.date_name(step.from_question),
                           from_date=step.from_date, days=step.days, do=step.do, result=step.result,
                           rule=step.rule) or ""


class WhySteps:
    """Mixed into Conversation: /hvorfor and the "Hvorfor?" option of every outcome."""

    rulebook: Rulebook
    texts: Texts

    if TYPE_CHECKING:  # the host's methods, declared for readers and type checkers only
        def position(self, state: DialogueState, today: date) -> Position: ...

    def why_reply(self, state: DialogueState, today: date) -> Reply:
        """The trace of the outcome on screen, or a word that it comes with the outcome."""
        if self.position(state, today).outcome is None:
            return Reply(self.texts.common("why_not_yet"))
        steps = trace(self.rulebook, [(segment.flow, segment.answers) for segment in state.segments], today)
        return Reply(Why(self.texts).render(steps), kind="why")
