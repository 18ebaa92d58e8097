"""Why a practice case comes out as it does: the path through the flows as a real dialogue would walk it, each date
worked out from its rule, then the outcome exactly as the bot shows it after a real case."""

from __future__ import annotations

from flows.engine import Rulebook

from bot.chat.texts import Texts
from bot.learn.cases import Case
from bot.learn.grading import date_items, rule_text


def path_nodes(rulebook: Rulebook, case: Case) -> dict[str, list[str]]:
    """The nodes each flow of the case passed through, in order (for a highlighted diagram)."""
    nodes: dict[str, list[str]] = {}
    carried: dict[str, str] = {}
    for segment in case.segments:
        flow = rulebook.flow(segment.flow)
        given = {**carried, **dict(segment.answers)}
        walked = [question for question in given]
        position = flow.walk(given, case.today)
        assert position.outcome is not None
        nodes[segment.flow] = [q for q in walked if q in flow.spec.questions] + [position.outcome.node]
        carried = dict(position.outcome.carry)
    return nodes


def why(rulebook: Rulebook, texts: Texts, case: Case) -> str:
    """The explanation (HTML): each question and answer on the path, each date's rule, then the outcome."""
    lines = ["<b>Hvorfor?</b>"]
    carried: dict[str, str] = {}
    for segment in case.segments:
        flow = rulebook.flow(segment.flow)
        lines.append(f"<i>{flow.title}</i>")
        given: dict[str, str] = dict(carried)
        for question_id, value in segment.answers:
            question = flow.spec.questions[question_id]
            asked = texts.question(flow, question, given).split("\n")[0]
            lines.append(f"• {asked} → <b>{texts.answer(flow, question, value)}</b>")
            given[question_id] = value
        position = flow.walk(given, case.today)
        assert position.outcome is not None
        carried = dict(position.outcome.carry)
    for item in date_items(rulebook, case):
        lines.append(f"• {rule_text(item)}")
    final = rulebook.flow(case.outcome.flow)
    lines.append("")
    lines.append(texts.outcome(final, case.outcome, _final_answers(rulebook, case)))
    return "\n".join(lines)


def _final_answers(rulebook: Rulebook, case: Case) -> dict[str, str]:
    carried: dict[str, str] = {}
    given: dict[str, str] = {}
    for segment in case.segments:
        given = {**carried, **dict(segment.answers)}
        outcome = rulebook.flow(segment.flow).walk(given, case.today).outcome
        carried = dict(outcome.carry) if outcome else {}
    return given
