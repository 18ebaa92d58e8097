"""The conversation's steps for asking STAR: draft from the case, confirm, and look up STAR's earlier answers."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Protocol

from bot.chat.dialogue import DialogueState, Reply, Turn
from bot.chat.texts import Texts, to_plain
from flows.answers import read_choice
from flows.errors import AnswerError
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

    def municipality(self) -> str: ...

    def remember_municipality(self, name: str) -> None: ...

    def draft(self, question_id: int) -> dict[str, Any] | None: ...

    def discard_draft(self, question_id: int) -> None: ...


# The e-mail speaks for the municipality: the caseworker's "du" becomes "vi", and the bot's own asides to the
# caseworker (sentences with "jeg" or "her", e.g. "Så regner jeg fristen ud.") are left out.
_PRONOUN = re.compile(r"\b(du|Du|dig|Dig|din|Din|dit|Dit|dine|Dine|jeres|Jeres)\b")
_OURS = {"du": "vi", "dig": "os", "din": "vores", "dit": "vores", "dine": "vores", "jeres": "vores"}
_ASIDE = re.compile(r"(?:^|(?<=[.?!]\s))[^.?!]*\b(?:jeg|mig|her)\b[^.?!]*[.?!]\s*", re.IGNORECASE)
_MUNICIPALITY = re.compile(r"^[A-Za-zÆØÅæøåÉéÜü][A-Za-zÆØÅæøåÉéÜü .'-]{1,58}$")


def municipal_voice(text: str) -> str:
    """A sentence written to the caseworker, rewritten for an e-mail from the municipality."""
    text = _ASIDE.sub("", text).strip()

    def ours(match: re.Match[str]) -> str:
        word = _OURS[match.group(1).lower()]
        return word.capitalize() if match.group(1)[0].isupper() else word

    return _PRONOUN.sub(ours, text)


def municipality_name(text: str) -> str | None:
    """The municipality's name as typed ("aarhus" → "Aarhus Kommune"), or None when it cannot be one."""
    words = " ".join(text.split())
    if not _MUNICIPALITY.match(words):
        return None
    name = " ".join(w if w.isupper() or w.lower() in ("kommune",) else w[:1].upper() + w[1:] for w in words.split())
    name = name.replace("kommune", "Kommune")
    return name if name.endswith("Kommune") or name.lower().endswith("kommune") else f"{name} Kommune"


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
        replaces = (state.pending or {}).get("question")  # a draft being changed keeps its number
        # The draft travels in the state, so a restored dialogue shows it again in full before it can be sent.
        state.pending = {"kind": "star_confirm", "subject": subject, "body": body,
                         **({"replaces": replaces} if replaces else {})}
        state.step += 1
        return Turn(state, [self.star_draft_reply(state.pending)], star_draft=draft)

    def star_draft_reply(self, pending: dict[str, Any]) -> Reply | None:
        """The drafted question in full, with its choices; None when it can no longer be shown."""
        subject, body = pending.get("subject"), pending.get("body")
        if not body and pending.get("question") and self.answers is not None:
            saved = self.answers.draft(int(pending["question"]))
            subject, body = (saved["subject"], saved["body"]) if saved else (None, None)
        if not body:
            return None
        return Reply(self.texts.common("star_draft", to=self.recipient, subject=subject, body=body),
                     options=self._star_options(), kind="draft")

    def _star_options(self) -> tuple[tuple[str, str], ...]:
        return tuple((value, to_plain(self.texts.common(f"star_{value}")))
                     for value in ("send", "edit", "later", "delete"))

    def known_municipality(self) -> str:
        """The municipality that signs the e-mail: configured, or answered once and kept; "" when unknown."""
        if not self.municipality and self.answers is not None:
            self.municipality = self.answers.municipality()
        return self.municipality

    def star_command(self, state: DialogueState, words: str, today: date) -> Turn:
        """/star [words]: the municipality first if it is unknown, then a saved draft or a new one."""
        if not self.known_municipality():
            state.pending = {"kind": "star_municipality", "words": words}
            state.step += 1
            return Turn(state, [Reply(self.texts.common("star_ask_municipality"))])
        while not words and state.star_drafts:
            saved = self.answers.draft(int(state.star_drafts.pop())) if self.answers else None
            if saved is not None:
                state.pending = {"kind": "star_confirm", "question": str(saved["id"]),
                                 "subject": saved["subject"], "body": saved["body"]}
                state.step += 1
                return Turn(state, [Reply(self.texts.common("star_draft", to=self.recipient,
                                                            subject=saved["subject"], body=saved["body"]),
                                          options=self._star_options(), kind="draft")])
        if words:
            return self._draft_star(state, words, today)
        state.pending = {"kind": "star_text"}
        return Turn(state, [Reply(self.texts.common("star_prompt"))])

    def _star_municipality(self, state: DialogueState, text: str, today: date) -> Turn:
        """The municipality's name, asked once and kept for every later e-mail."""
        name = municipality_name(text)
        if name is None:
            return Turn(state, [Reply(self.texts.common("star_municipality_again"))])
        self.municipality = name
        if self.answers is not None:
            self.answers.remember_municipality(name)
        words = (state.pending or {}).get("words", "")
        state.pending = None
        turn = self.star_command(state, words, today)
        turn.replies.insert(0, Reply(self.texts.common("star_municipality_kept", kommune=name)))
        return turn

    def _star_decision(self, state: DialogueState, text: str, today: date) -> Turn:
        """Send, edit or cancel the drafted question."""
        options = self._star_options()
        try:
            choice = read_choice(text, options, yes_no=("send", "later"))
        except AnswerError:
            return Turn(state, [Reply(self.texts.common("star_confirm_again"), options=options, kind="draft")])
        question = (state.pending or {}).get("question")
        state.step += 1
        if choice == "edit":
            state.pending = {"kind": "star_text", **({"question": question} if question else {})}
            return Turn(state, [Reply(self.texts.common("star_prompt"))])
        state.pending = None
        if choice == "later" and question:
            state.star_drafts.append(question)
            return Turn(state, [Reply(self.texts.common("star_saved", id=question))]
                        + self.prompt(state, today, brief=True))
        if choice in ("delete", "later"):
            if question and self.answers is not None:
                self.answers.discard_draft(int(question))
            return Turn(state, [Reply(self.texts.common("star_deleted"))] + self.prompt(state, today, brief=True))
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
                text = municipal_voice(text)
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
            # An ask_star outcome's headline ("Spørg STAR, før …") is the caseworker's instruction, not for STAR.
            outcome=(municipal_voice(to_plain(self.texts.headline(flow, outcome, position.answers)))
                     if outcome and outcome.result != "ask_star" else None),
            warnings=[municipal_voice(to_plain(self.texts.warning(code, programme)))
                      for code in (outcome.warnings if outcome else ())],
            sources=[s.partition(": ")[2] for s in sources],
            # Plain text, as the e-mail is: the 2017 gaps name the programme in italics.
            gap=({key: municipal_voice(to_plain(text)) for key, text in self.texts.gap(outcome.gap, programme).items()}
                 if outcome and outcome.gap else None),
            words=words, municipality=self.known_municipality())

