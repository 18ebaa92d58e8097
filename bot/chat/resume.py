"""Resume exactly: a recap of the case, then the step that is open now, shown as the caseworker must see it.

Every channel calls `resume` for a dialogue restored after a restart, and `current_step` to ask again: a pending
date confirmation is shown with its date, a pending STAR draft in full, a pending "Vil du starte forfra?" again, so
an answer always acts on what is on the screen.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.chat.dialogue import DialogueState, Reply
from bot.chat.texts import Texts, to_plain
from flows.engine import Rulebook


class ResumeSteps:
    """Mixed into Conversation; the methods declared here are the host's (or its other mixins')."""

    rulebook: Rulebook
    texts: Texts

    if TYPE_CHECKING:  # the host's methods, declared for readers and type checkers only
        def prompt(self, state: DialogueState, today: date, brief: bool = False) -> list[Reply]: ...
        def far_date_reply(self, pending: dict[str, Any]) -> Reply: ...
        def restart_reply(self) -> Reply: ...
        def amend_pick_reply(self, state: DialogueState, today: date) -> Reply: ...
        def amend_question_replies(self, state: DialogueState, today: date) -> list[Reply]: ...
        def star_draft_reply(self, pending: dict[str, Any]) -> Reply | None: ...

    def resume(self, state: DialogueState, today: date) -> list[Reply]:
        """For a restored dialogue: the situation and each answer so far (one line each), then the open step."""
        lines = []
        for segment in state.segments:
            flow = self.rulebook.flow(segment.flow)
            for question_id, value in segment.answers.items():
                question = flow.spec.questions.get(question_id)
                if question is not None:
                    text = to_plain(self.texts.question(flow, question, segment.answers)).split("\n")[0]
                    lines.append((text, self.texts.answer(flow, question, value)))
        if not lines:
            return self.current_step(state, today)
        title = self.rulebook.flow(state.segments[-1].flow).title
        return [Reply(self.texts.common("recap", title=title, lines=lines))] + self.current_step(state, today)

    def current_step(self, state: DialogueState, today: date, brief: bool = False) -> list[Reply]:
        """The step open now: a pending confirmation, draft or choice, else the question or the outcome.

        `brief` is for asking again after an interruption: an outcome just seen is not repeated, only its hint."""
        pending = state.pending or {}
        kind = pending.get("kind")
        if kind == "confirm_date":
            return [self.far_date_reply(pending)]
        if kind == "confirm_restart":
            return [self.restart_reply()]
        if kind == "amend_pick":
            return [self.amend_pick_reply(state, today)]
        if kind == "amend":
            return self.amend_question_replies(state, today)
        if kind == "star_text":
            return [Reply(self.texts.common("star_prompt"))]
        if kind == "star_municipality":
            return [Reply(self.texts.common("star_ask_municipality"))]
        draft = self.star_draft_reply(pending) if kind == "star_confirm" else None
        if draft is not None:
            return [draft]
        return self.prompt(state, today, brief=brief)
