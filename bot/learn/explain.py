"""Why a practice case comes out as it does: the same "Hvorfor?" trace as a real decision (flows.trace rendered by
bot.chat.why), then the outcome exactly as the bot shows it after a real case."""

from __future__ import annotations

from datetime import date

from flows.engine import Rulebook
from flows.trace import AnswerStep, OutcomeStep, Step, trace

from bot.chat.texts import Texts
from bot.chat.why import Why
from bot.learn.cases import Case


def walked(rulebook: Rulebook, case: Case) -> list[tuple[str, dict[str, str]]]:
    """(flow, answers) per flow as a dialogue holds them: answers carried over from the flow before included."""
    path: list[tuple[str, dict[str, str]]] = []
    carried: dict[str, str] = {}
    for segment in case.segments:
        answers = {**carried, **dict(segment.answers)}
        path.append((segment.flow, answers))
        outcome = rulebook.flow(segment.flow).walk(answers, case.today).outcome
        carried = dict(outcome.carry) if outcome else {}
    return path


def path_nodes(rulebook: Rulebook, case: Case) -> dict[str, list[str]]:
    """The nodes each flow of the case passed through, in order (for a highlighted diagram)."""
    return _nodes(trace(rulebook, walked(rulebook, case), case.today))


def decision_nodes(rulebook: Rulebook, answers: list[dict[str, str]], today: date) -> dict[str, list[str]]:
    """The nodes a real dialogue passed through, from its logged answers ({flow, question, value} in order);
    flows of another rulebook (the programme router) are left out."""
    path: dict[str, dict[str, str]] = {}
    for entry in answers:
        if entry["flow"] in rulebook.flows:
            path.setdefault(entry["flow"], {})[entry["question"]] = entry["value"]
    return _nodes(trace(rulebook, list(path.items()), today))


def _nodes(steps: tuple[Step, ...]) -> dict[str, list[str]]:
    nodes: dict[str, list[str]] = {}
    for step in steps:
        if isinstance(step, AnswerStep):
            nodes.setdefault(step.flow, []).append(step.question)
        elif isinstance(step, OutcomeStep):
            nodes.setdefault(step.flow, []).append(step.node)
    return nodes


def why(rulebook: Rulebook, texts: Texts, case: Case) -> str:
    """The explanation (HTML): the trace of a real decision, then the outcome as the chat shows it."""
    path = walked(rulebook, case)
    steps = trace(rulebook, path, case.today)
    final_flow, final_answers = path[-1]
    outcome = texts.outcome(rulebook.flow(final_flow), case.outcome, final_answers)
    return f"{Why(texts).render(steps)}\n\n{outcome}"
