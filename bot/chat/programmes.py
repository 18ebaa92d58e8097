"""The caseworker's own choice of programme (/program): both (asked per case), Ungeløftet only, or 2017 only.

The choice travels in the dialogue state, so it is remembered per chat and survives a restart; UNGEBOT_PROGRAMMES
decides which programmes are open at all (rulebook-2017.md §6.1)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from flows.answers import normalise
from flows.catalogue import PROGRAMMES, Catalogue, load_catalogue, parse_programmes

from bot.chat.dialogue import DialogueState, Reply, Segment, Turn

if TYPE_CHECKING:
    from bot.chat.conversation import Conversation

PROGRAMME_COMMAND = "/program"
# What may follow /program (as a word, or joined with _ so a Telegram user can tap it): None means both.
_CHOICES: dict[str, str | None] = {
    "begge": None, "alle": None, "both": None,
    "ungeløftet": "ungeloeftet", "ungeloeftet": "ungeloeftet", "ul": "ungeloeftet",
    "2017": "flere_skal_med_2017", "fsm2017": "flere_skal_med_2017", "flere_skal_med_2017": "flere_skal_med_2017",
}


def choose_programme(conversation: "Conversation", state: DialogueState, name: str, rest: str, today: date) -> Turn:
    """Show the choice, or set it; a case not begun yet starts over in the chosen programme at once."""
    texts, enabled = conversation.texts, _enabled(conversation)
    word = normalise(name[len(PROGRAMME_COMMAND):].lstrip("_") or rest)
    if not word:
        reply = Reply(texts.common("programme_menu", current=_label(conversation, state.programme),
                                   enabled=[_label(conversation, p) for p in enabled], several=len(enabled) > 1))
        return Turn(state, [reply] + conversation.prompt(state, today, brief=True))
    if word not in _CHOICES:
        return Turn(state, [Reply(texts.common("programme_unknown"), kind="error")]
                    + conversation.prompt(state, today, brief=True))
    choice = _CHOICES[word]
    if choice is not None and choice not in enabled or choice is None and len(enabled) < 2:
        return Turn(state, [Reply(texts.common("programme_not_enabled", only=_label(conversation, enabled[0])),
                                  kind="error")] + conversation.prompt(state, today, brief=True))
    state.programme = choice
    state.step += 1
    chosen = _label(conversation, choice)
    if len(state.segments) == 1 and not state.segments[0].answers and not state.pending:
        state.segments = [Segment(conversation.rulebook.entry(choice))]
        return Turn(state, [Reply(texts.common("programme_set", chosen=chosen))] + conversation.prompt(state, today))
    return Turn(state, [Reply(texts.common("programme_set_next", chosen=chosen))]
                + conversation.prompt(state, today, brief=True))


def enabled_catalogue() -> Catalogue:
    """The catalogue with the programmes UNGEBOT_PROGRAMMES opens (both when unset); a bad value exits with a
    Danish message naming the setting."""
    from bot.config import read_values

    raw = read_values().get("UNGEBOT_PROGRAMMES", "")
    try:
        enabled = parse_programmes(raw)
    except ValueError:
        raise SystemExit(f"UNGEBOT_PROGRAMMES »{raw}« kender jeg ikke. Skriv {' eller '.join(PROGRAMMES)}, "
                         "eller begge adskilt af komma (uden værdi: begge).") from None
    return load_catalogue(enabled)


def _enabled(conversation: "Conversation") -> tuple[str, ...]:
    rulebook = conversation.rulebook
    return tuple(getattr(rulebook, "enabled", (rulebook.programme.id,)))


def _label(conversation: "Conversation", programme: str | None) -> str:
    """The programme's Danish title, or 'both' for no choice."""
    if programme is None:
        return conversation.texts.common("programme_both")
    books = getattr(conversation.rulebook, "rulebooks", {})
    return books[programme].programme.title if programme in books else conversation.rulebook.programme.title
