"""The conversation's steps for asking STAR: draft from the case, confirm, and look up STAR's earlier answers."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from bot.chat.dialogue import DialogueState, Reply, Turn
from bot.chat.texts import Texts, to_plain
from flows.answers import normalise, parse_yes_no
from flows.dates import format_date
from flows.engine import Flow, Position, Rulebook
from storage.star import Draft


def answered_day(entry: dict[str, Any]) -> str:
    """The Danish date STAR's answer was recorded."""
    stamp = entry.get("answered_at") or ""
    return format_date(date.fromisoformat(stamp[:10])) if stamp else ""


class StarAnswers(Protocol):
    """Where STAR's recorded answers are looked up (the adapters pass storage-backed ones)."""

    def for_gap(self, gap: str, programme: str | None = None) -> dict[str, Any] | None: ...

    def search(self, words: str) -> list[dict[str, Any]]: ...


class StarSteps:
    """Mixed into Conversation: the /star, /faq and send-or-not steps.

    The attributes and the three methods below are the host's; they are declared here so that this module needs
    nothing from bot.chat.conversation (which imports it).
    """

    rulebook: Rulebook
    texts: Texts
    recipient: str
    municipality: str
    answers: StarAnswers | None

    def flow(self, state: DialogueState) -> Flow:
        """The flow the dialogue is in now (the host's)."""
        raise NotImplementedError

    def position(self, state: DialogueState, today: date) -> Position:
        """Where the current flow stands (the host's)."""
        raise NotImplementedError

    def prompt(self, state: DialogueState, today: date, brief: bool = False) -> list[Reply]:
        """What to show for the current position (the host's)."""
        raise NotImplementedError

    def _draft_star(self, state: DialogueState, words: str, today: date) -> Turn:
        subject, body = self.star_draft(state, words, today)
        position = self.position(state, today)
        flow = self.flow(state)
        draft = Draft(subject=subject, body=body, words=words, situation=flow.title, flow=flow.id,
                      gap=position.outcome.gap if position.outcome else None, programme=flow.programme.id)
        state.pending = {"kind": "star_confirm"}
        state.step += 1
        reply = Reply(self.texts.common("star_draft", to=self.recipient, subject=subject, body=body),
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
        shown = [{"subject": e["subject"].split(": ", 1)[-1], "question": e.get("words") or e["subject"],
                  "answer": e["answer"], "answered": answered_day(e)} for e in entries]
        return Reply(self.texts.common("faq_results", entries=shown))

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
                lines.append((text, self.texts.answer(flow, question, value)))
        return lines

    def star_draft(self, state: DialogueState, words: str, today: date) -> tuple[str, str]:
        """Subject and body of a question to STAR, drafted from the case so far and the caseworker's words."""
        position = self.position(state, today)
        outcome = position.outcome
        flow = self.flow(state)
        sources = list(outcome.sources) if outcome else sorted(
            {flow.spec.questions[q].source for q in position.answers} | {flow.spec.source})
        programme = flow.programme.id
        return self.texts.star_email(
            programme, situation=flow.title, answers=self.case_summary(state, today),
            outcome=to_plain(self.texts.headline(flow, outcome, position.answers)) if outcome else None,
            warnings=[to_plain(self.texts.warning(code, programme)) for code in (outcome.warnings if outcome else ())],
            sources=[s.partition(": ")[2] for s in sources],
            gap=self.texts.gap(outcome.gap, programme) if outcome and outcome.gap else None,
            words=words, municipality=self.municipality)

