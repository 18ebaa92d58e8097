"""Render the Danish texts from templates/: questions, options, help, outcomes, error messages, STAR drafts."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from flows.dates import format_date
from flows.engine import Flow, Rulebook
from flows.errors import AnswerError
from flows.loader import TEMPLATES_DIR
from flows.model import Outcome, Question

from bot.chat.template_reads import PURE_FILTERS, answers_read

_TAG = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n{3,}")


ECHO_LIMIT = 100  # characters of what was typed that an error message repeats ("Jeg forstod ikke »…«")
STATIC_KEPT = 4096  # common messages kept in memory, by name and short plain parameters (see Texts.common)
RENDERED_KEPT = 4096  # texts of flow templates' blocks kept in memory, by the answers they read (Texts._required)
_UNKNOWN = object()  # a block not yet analysed
_MISSING = object()  # in a kept text's key: the answer is not given
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.DOTALL)


def to_plain(text: str) -> str:
    """The terminal form of an HTML message: links as 'text: address', other tags dropped, entities read back."""
    text = re.sub(r"<br\s*/?>", "\n", text)
    text = _LINK.sub(lambda match: f"{match.group(2)}: {match.group(1)}", text)
    return _BLANK_LINES.sub("\n\n", html.unescape(_TAG.sub("", text))).strip()


def _plain(context: Mapping[str, Any]) -> bool:
    """Short plain parameters: exactly str or int (Markup is a str too, and equal to the plain text it would be
    escaped as), at most 200 characters in all."""
    if not context:
        return True
    if len(context) == 1:
        (value,) = context.values()
        return type(value) in (str, int) and len(str(value)) <= 200
    return (all(type(value) in (str, int) for value in context.values())
            and sum(len(str(value)) for value in context.values()) <= 200)


def _danish_date(value: str | date | None) -> str:
    if not value:
        return ""
    return format_date(value if isinstance(value, date) else date.fromisoformat(value))


class Texts:
    """All user-facing text for one rulebook; templates are compiled once and cached by Jinja2."""

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        # auto_reload off: templates do not change under a running process, and the check stats a file per lookup.
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, auto_reload=False,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.env.filters["dansk"] = _danish_date
        self._pure_filters = PURE_FILTERS | {"dansk"}  # filters whose result depends only on their input
        self.env.globals["marker_name"] = rulebook.programme.markers.__getitem__
        self.env.globals["programme"] = rulebook.programme
        self.programme = rulebook.programme.id
        self._labels: dict[tuple[str, str], dict[str, str]] = {}
        self._static: dict[tuple[Any, ...], str] = {}  # common messages by name and plain parameters
        # A flow template's blocks: the answers each reads (None: not known exactly, rendered every time), and their
        # texts by the values of those answers (see _required).
        self._reads: dict[tuple[str, str], tuple[str, ...] | None] = {}
        self._rendered: dict[tuple[Any, ...], str] = {}
        self._keys: dict[tuple[str, str], tuple[str, ...] | None] = {}  # what a block's text is kept by (_kept_by)
        self._shared_found: dict[tuple[str, str], Template] = {}  # a shared template by name and programme

    # -- building blocks -------------------------------------------------------------------------------------------
    def _node_template(self, flow: Flow, node: str) -> Template:
        return self.env.get_template(f"{flow.programme.id}/{flow.id}/{node}.j2")

    def _shared(self, name: str, programme: str | None) -> Template:
        """A shared template (outcome, warnings, STAR e-mail): the programme's own if it has one, else common/.
        (Remembered: Jinja caches only templates it found, so a programme without its own looked on disk each time.)"""
        key = (name, programme or self.programme)
        if key not in self._shared_found:
            self._shared_found[key] = self.env.select_template([f"{key[1]}/{name}", f"common/{name}"])
        return self._shared_found[key]

    def _block(self, template: Template, name: str, context: Mapping[str, Any]) -> str | None:
        block = template.blocks.get(name)
        if block is None:
            return None
        return "".join(block(template.new_context(dict(context)))).strip()

    def _context(self, flow: Flow, answers: Mapping[str, str], **extra: Any) -> dict[str, Any]:
        return {"flow": flow, "answers": answers, "answer_date": lambda q: _danish_date(answers.get(q)),
                **self._programme_context(flow), **extra}

    @staticmethod
    def _programme_context(flow: Flow) -> dict[str, Any]:
        """Each flow's texts see only its own programme's marker names (none cross between programmes)."""
        return {"marker_name": flow.programme.markers.__getitem__, "programme": flow.programme}

    def common(self, name: str, **context: Any) -> str:
        """A shared message from templates/common/messages.j2 (HTML). Its text depends only on its parameters, so
        one with short plain parameters (a label, a day, a number: at most 200 characters in all) is kept, up to
        STATIC_KEPT of them; long text, such as a draft for STAR, is rendered each time."""
        key = (name, *sorted(context.items())) if _plain(context) else None
        kept = self._static.get(key) if key is not None else None
        if kept is not None:
            return kept
        template = self.env.get_template("common/messages.j2")
        text = self._block(template, name, context)
        if text is None:
            raise KeyError(f"no message block {name!r} in common/messages.j2")
        if key is not None:
            if len(self._static) >= STATIC_KEPT:
                self._static.clear()
            self._static[key] = text
        return text

    # -- questions ------------------------------------------------------------------------------------------------
    def question(self, flow: Flow, question: Question, answers: Mapping[str, str]) -> str:
        """The question as it is asked (HTML)."""
        return self._required(flow, question.id, "question", answers)

    def help(self, flow: Flow, question: Question, answers: Mapping[str, str]) -> str:
        """What the question means and where it comes from (HTML)."""
        body = self._required(flow, question.id, "help", answers)
        return self.common("help", body=Markup(body), source=question.source)

    def option_labels(self, flow: Flow, question: Question) -> dict[str, str]:
        """Plain-text label of each option, from the node template or the shared defaults.

        Labels do not depend on the answers (they are rendered without them, so a template that tried would fail
        its render test); that lets each question's labels be rendered once."""
        key = (flow.id, question.id)
        if key in self._labels:
            return self._labels[key]
        template = self._node_template(flow, question.id)
        defaults = self.env.get_template("common/options.j2")
        context = {"flow": flow, **self._programme_context(flow)}
        labels = {}
        for value in question.options:
            label = self._block(template, f"option_{value}", context) or self._block(defaults, f"option_{value}", context)
            if label is None:
                raise KeyError(f"no label for option {value!r} of {flow.id}.{question.id}")
            labels[value] = to_plain(label)
        self._labels[key] = labels
        return labels

    def answer(self, flow: Flow, question: Question, value: str) -> str:
        """An answer as the caseworker saw it: a Danish date, or the option's label (the value itself if today's
        options no longer have it, as in an old log row)."""
        if question.kind == "date":
            return format_date(date.fromisoformat(value)) if value else "(sprunget over)"
        return self.option_labels(flow, question).get(value, value)

    def yes_no(self) -> tuple[tuple[str, str], ...]:
        """The shared Ja/Nej choices, as (value, plain label), for confirmations."""
        defaults = self.env.get_template("common/options.j2")
        return tuple((value, to_plain(self._block(defaults, f"option_{value}", {}) or value)) for value in ("yes", "no"))

    def _required(self, flow: Flow, node: str, block: str, answers: Mapping[str, str], **extra: Any) -> str:
        """A block of a flow's node template, which must have text. A block whose reads are known exactly (most
        questions read no answer, some one or two; bot/chat/template_reads.py) is rendered once per values of the
        answers it reads and then kept, up to RENDERED_KEPT texts: its text depends on nothing else."""
        name = f"{flow.programme.id}/{flow.id}/{node}.j2"
        reads = self._kept_by(flow, name, block)  # known before Jinja is asked for the template
        key = None
        if reads is not None and (not reads or type(answers) is dict):  # a dict: answers.x is answers["x"]
            key = (name, block, *[answers.get(question, _MISSING) for question in reads])
            text = self._rendered.get(key)
            if text is not None:
                return text
        text = self._block(self._node_template(flow, node), block, self._context(flow, answers, **extra))
        if not text:
            raise KeyError(f"template {name} has no block {block!r}")
        if key is not None:
            if len(self._rendered) >= RENDERED_KEPT:
                self._rendered.clear()
            self._rendered[key] = text
        return text

    def _kept_by(self, flow: Flow, name: str, block: str) -> tuple[str, ...] | None:
        """The answers a block's text is kept by (`reads`), or None when it is rendered each time: its reads are not
        known exactly, or it reads an answer that is typed (a date) or not one of the flow's questions — a typed date
        is one case's, the memory is the whole process's, and no other case would share the text."""
        found = self._keys.get((name, block), _UNKNOWN)
        if found is _UNKNOWN:
            reads = self.reads(name, block)
            typed = reads is not None and any(
                (question := flow.question(read)) is None or question.kind == "date" for read in reads)
            found = self._keys[(name, block)] = None if typed else reads
        return found  # type: ignore[return-value]

    def reads(self, name: str, block: str) -> tuple[str, ...] | None:
        """The answers a block of a flow's template (by its name) reads; None when not known exactly."""
        found = self._reads.get((name, block), _UNKNOWN)
        if found is _UNKNOWN:
            assert self.env.loader is not None
            source = self.env.loader.get_source(self.env, name)[0]
            found = self._reads[(name, block)] = answers_read(self.env, source, block, self._pure_filters)
        return found  # type: ignore[return-value]

    # -- outcomes -------------------------------------------------------------------------------------------------
    def headline(self, flow: Flow, outcome: Outcome, answers: Mapping[str, str]) -> str:
        """The outcome's one-line headline (HTML)."""
        return self._required(flow, outcome.node, "headline", answers, outcome=outcome)

    def warning(self, code: str, programme: str | None = None) -> str:
        """The Danish text of a warning code (HTML), in the programme's own words where it has them."""
        return self._shared("warnings.j2", programme).render(warning=code).strip()

    def outcome(self, flow: Flow, outcome: Outcome, answers: Mapping[str, str], star_answered: bool = False) -> str:
        """The whole outcome message: actions with exact names and dates, effect, source, warnings (HTML);
        `star_answered` when STAR's earlier answer to the gap is shown with it."""
        extra = {"outcome": outcome}
        headline = self.headline(flow, outcome, answers)
        explanation = self._required(flow, outcome.node, "explanation", answers, **extra)
        gap = self.gap(outcome.gap, flow.programme.id) if outcome.gap else None
        target = self.rulebook.flows[outcome.use_flow].title if outcome.use_flow else None
        return self._shared("outcome.j2", flow.programme.id).render(
            outcome=outcome, headline=Markup(headline), explanation=Markup(explanation), gap=gap,
            target_title=target, star_answered=star_answered)

    def gap(self, gap_id: str, programme: str | None = None) -> dict[str, str]:
        """A known gap in the guide: title, what the guide says, what it does not, the question for STAR."""
        template = self.env.get_template(f"{programme or self.programme}/gaps/{gap_id}.j2")
        parts = {name: self._block(template, name, {}) or "" for name in ("title", "says", "silent", "question")}
        if not all(parts.values()):
            raise KeyError(f"gap template {gap_id} lacks title, says, silent or question")
        return {"id": Markup(gap_id), **{key: Markup(value) for key, value in parts.items()}}

    # -- errors -----------------------------------------------------------------------------------------------------
    def error(self, error: AnswerError, flow: Flow | None = None, question: Question | None = None,
              answers: Mapping[str, str] | None = None) -> str:
        """The Danish message for an answer that cannot be taken (HTML)."""
        if error.code == "guard" and flow is not None and question is not None:
            return self._required(flow, question.id, error.params["message"], answers or {})
        template = self.env.get_template("common/errors.j2")
        params = dict(error.params)
        typed = params.get("text")
        if isinstance(typed, str) and len(typed) > ECHO_LIMIT:  # a pasted page is not repeated back in full
            params["text"] = typed[:ECHO_LIMIT - 1].rstrip() + "…"
        text = self._block(template, error.code, params)
        if text is None:
            raise KeyError(f"no error message block {error.code!r} in common/errors.j2")
        return text

    # -- STAR -------------------------------------------------------------------------------------------------------
    def star_email(self, programme: str | None = None, **case: Any) -> tuple[str, str]:
        """Subject and plain-text body of a question for STAR, drafted from the case so far (in the programme's
        own template where it has one, so the subject names the programme)."""
        template = self._shared("star_email.j2", programme)
        context = template.new_context(case)
        subject = " ".join("".join(template.blocks["subject"](context)).split())
        body = "".join(template.blocks["body"](template.new_context(case)))
        return html.unescape(subject), html.unescape(_BLANK_LINES.sub("\n\n", body).strip()) + "\n"
