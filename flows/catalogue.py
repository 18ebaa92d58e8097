"""Several rulebooks side by side (Ungeløftet; 'Flere skal med' 2017) behind the shared programme router.

A Catalogue is shaped like a Rulebook (`flows`, `flow()`, `programme`, `edition`), so the chat, `decide`, the log and
the diagrams take either. Each flow keeps its own programme (`flow.programme`): its markers, edition and sources.
No flow of one programme may hand over to the other's; only the router chooses (rulebook-2017.md §6.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from flows.engine import Flow, Rulebook, load_rulebook
from flows.errors import FlowError
from flows.loader import FLOWS_DIR, TEMPLATES_DIR, Programme

PROGRAMMES = ("ungeloeftet", "flere_skal_med_2017")
ROUTER = "router"
FLOW_PREFIX = {"flere_skal_med_2017": "fsm2017_"}  # rulebook-2017.md §6.1: the programme is found from the flow id


class _RouterBook(Rulebook):
    """The router's one flow; its hand-overs lead into other rulebooks, so the Catalogue checks them."""

    def _check_links(self) -> None:
        if self.programme.entry not in self.flows:
            raise FlowError(f"{self.programme.directory}: entry flow {self.programme.entry!r} has no file")


class Catalogue:
    """The enabled programmes' rulebooks and the router, loaded and checked once."""

    def __init__(self, enabled: Iterable[str] = PROGRAMMES, flows_dir: Path = FLOWS_DIR,
                 templates: Path = TEMPLATES_DIR) -> None:
        self.enabled = tuple(enabled)
        unknown = [name for name in self.enabled if name not in PROGRAMMES]
        if unknown or not self.enabled:
            raise FlowError(f"unknown programme(s) {unknown}; choose from {list(PROGRAMMES)}")
        default = flows_dir == FLOWS_DIR and templates == TEMPLATES_DIR  # share the process's loaded rulebooks
        self.rulebooks = {name: load_rulebook(name) if default else Rulebook(flows_dir / name, templates)
                          for name in PROGRAMMES}
        self.router = _RouterBook(flows_dir / ROUTER, templates, facts="router.yaml")
        self.flows: dict[str, Flow] = {}
        for book in (self.router, *self.rulebooks.values()):
            clash = set(book.flows) & set(self.flows)
            if clash:
                raise FlowError(f"{book.programme.directory}: flow id(s) {sorted(clash)} used by two programmes")
            self.flows.update(book.flows)
        self._check_router()
        self._check_apart()

    @property
    def programme(self) -> Programme:
        """The programme a new case starts in: the router when several are enabled, else the one enabled."""
        return self.router.programme if len(self.enabled) > 1 else self.rulebooks[self.enabled[0]].programme

    @property
    def edition(self) -> str:
        """The edition of the programme a new case starts in (each decision names its own flow's edition)."""
        return self.programme.edition

    @cached_property  # asked on every hand-over; fixed once loaded
    def routers(self) -> frozenset[str]:
        """Flows that only pass the case on: their hand-over is not shown as a result of its own."""
        return frozenset([self.router.programme.entry] + [book.programme.entry for book in self.rulebooks.values()])

    def entry(self, choice: str | None = None) -> str:
        """The first flow of a new case: the chosen programme's router, or the shared router when both are open."""
        if choice in self.enabled:
            return self.rulebooks[choice].programme.entry
        return self.programme.entry

    def listed(self) -> list[Flow]:
        """The enabled programmes' flows for a listing: the programme router first (when both are open), then each
        programme's own router followed by its other flows."""
        flows = [self.router.flow(self.router.programme.entry)] if len(self.enabled) > 1 else []
        for name in self.enabled:
            book = self.rulebooks[name]
            flows += [book.flow(book.programme.entry)] + [f for f in book.flows.values() if f.id != book.programme.entry]
        return flows

    def flow(self, flow_id: str) -> Flow:
        """The flow with this id; KeyError names the known ones."""
        try:
            return self.flows[flow_id]
        except KeyError:
            raise KeyError(f"unknown flow {flow_id!r}; known: {', '.join(self.flows)}") from None

    def programme_of(self, flow_id: str) -> Programme:
        """The programme a flow belongs to (the router's own for the router)."""
        return self.flow(flow_id).programme

    def _check_router(self) -> None:
        entries = {book.programme.entry for book in self.rulebooks.values()}
        for flow in self.router.flows.values():
            for node in flow.spec.outcomes.values():
                if node.use_flow is not None and node.use_flow not in entries:
                    raise FlowError(f"{flow.spec.path}: node '{node.id}': the router may only hand over to a "
                                    f"programme's first flow ({', '.join(sorted(entries))}), not {node.use_flow!r}")

    def _check_apart(self) -> None:
        """Flow ids tell their programme (§6.1): fsm2017_ ids are 2017's, and no other programme uses the prefix."""
        for name, book in self.rulebooks.items():
            for flow_id in book.flows:
                own = FLOW_PREFIX.get(name)
                if (own and not flow_id.startswith(own)) or (
                        not own and any(flow_id.startswith(p) for p in FLOW_PREFIX.values())):
                    raise FlowError(f"{book.programme.directory}: flow id {flow_id!r} does not tell its programme")


_LOADED: dict[tuple[str, ...], Catalogue] = {}


def load_catalogue(enabled: Iterable[str] = PROGRAMMES) -> Catalogue:
    """The catalogue for these enabled programmes, loaded on first use and kept for the life of the process."""
    key = tuple(enabled)
    if key not in _LOADED:
        _LOADED[key] = Catalogue(key)
    return _LOADED[key]


def parse_programmes(raw: str) -> tuple[str, ...]:
    """UNGEBOT_PROGRAMMES: comma- or space-separated programme ids (or '2017'); empty means both."""
    aliases = {"2017": "flere_skal_med_2017", "fsm2017": "flere_skal_med_2017", "ungeløftet": "ungeloeftet"}
    names = [aliases.get(part, part) for part in raw.replace(",", " ").lower().split()]
    if not names:
        return PROGRAMMES
    unknown = [name for name in names if name not in PROGRAMMES]
    if unknown:
        raise ValueError(f"UNGEBOT_PROGRAMMES: unknown programme(s) {', '.join(unknown)}; "
                         f"use {' or '.join(PROGRAMMES)}")
    return tuple(dict.fromkeys(name for name in PROGRAMMES if name in names))
