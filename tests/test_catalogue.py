"""The catalogue loads the programmes and the router from the flow tree it is given, and refuses a broken tree with
an error naming the directory (or the file and node) and the problem: one thing broken per test, in a copy of the
real tree (rulebook-2017.md §6.1). Pins flows/catalogue.py for mutation testing (#10)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import flows.catalogue
from flows.catalogue import PROGRAMMES, ROUTER, Catalogue, load_catalogue
from flows.engine import load_rulebook
from flows.errors import FlowError
from flows.loader import FLOWS_DIR, TEMPLATES_DIR


class Tree:
    """A copy of the flow files (the templates linked, a folder copied only where a test changes it)."""

    def __init__(self, root: Path) -> None:
        self.flows, self.templates = root / "flows", root / "templates"
        for name in (*PROGRAMMES, ROUTER):
            shutil.copytree(FLOWS_DIR / name, self.flows / name)
        self.templates.mkdir()
        for entry in TEMPLATES_DIR.iterdir():
            (self.templates / entry.name).symlink_to(entry)

    def own_templates(self, programme: str) -> Path:
        """The programme's templates as a real copy, to add or remove one."""
        folder = self.templates / programme
        folder.unlink()
        shutil.copytree(TEMPLATES_DIR / programme, folder)
        return folder

    def edit(self, programme: str, name: str, old: str, new: str) -> Path:
        path = self.flows / programme / name
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return path

    def copy_flow(self, programme: str, flow: str, new_programme: str, new_id: str) -> None:
        """Flow `flow` again as `new_id` in `new_programme`'s folder, with its templates."""
        text = (self.flows / programme / f"{flow}.yaml").read_text(encoding="utf-8")
        text = re.sub(r"(?m)^flow: .*$", f"flow: {new_id}", text, count=1)
        (self.flows / new_programme / f"{new_id}.yaml").write_text(text, encoding="utf-8")
        folder = self.own_templates(programme)
        shutil.copytree(folder / flow, folder / new_id)

    def load(self) -> Catalogue:
        return Catalogue(flows_dir=self.flows, templates=self.templates)

    def error(self) -> str:
        with pytest.raises(FlowError) as caught:
            self.load()
        return str(caught.value)


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path)


def test_a_copied_tree_is_loaded_from_its_own_folders(tree: Tree) -> None:
    catalogue = tree.load()
    assert set(catalogue.flows) == set(load_catalogue().flows)
    assert catalogue.router.programme.directory == tree.flows / "router"
    assert catalogue.router.programme.entry == "programme" and list(catalogue.router.flows) == ["programme"]
    for name in PROGRAMMES:
        book = catalogue.rulebooks[name]
        assert book is not load_rulebook(name) and book.programme.directory == tree.flows / name
    assert catalogue.flow("leave").spec.path == tree.flows / "ungeloeftet" / "leave.yaml"


def test_the_default_tree_shares_the_process_rulebooks(tree: Tree) -> None:
    default = Catalogue()
    assert all(default.rulebooks[name] is load_rulebook(name) for name in PROGRAMMES)
    own_templates = Catalogue(templates=tree.templates)
    assert all(own_templates.rulebooks[name] is not load_rulebook(name) for name in PROGRAMMES)


def test_the_catalogue_is_kept_per_choice_of_programmes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows.catalogue, "_LOADED", {})
    only = load_catalogue(["ungeloeftet"])
    assert isinstance(only, Catalogue) and only.enabled == ("ungeloeftet",)
    assert load_catalogue(("ungeloeftet",)) is only and load_catalogue() is not only


@pytest.mark.parametrize("programme, flow, node", [
    ("ungeloeftet", "leave", "resumed"), ("flere_skal_med_2017", "fsm2017_postponed", "not_yet"),
    ("router", "programme", "neither"),
], ids=["ungeloeftet", "fsm2017", "router"])
def test_a_missing_template_in_the_given_templates_is_named(tree: Tree, programme: str, flow: str,
                                                             node: str) -> None:
    template = tree.own_templates(programme) / flow / f"{node}.j2"
    template.unlink()
    assert tree.error() == (f"{tree.flows / programme / (flow + '.yaml')}: node '{node}': "
                            f"template {template} is missing")


def test_a_flow_id_used_by_two_programmes_is_refused(tree: Tree) -> None:
    tree.copy_flow("router", "programme", "router", "situation")
    assert tree.error() == f"{tree.flows / 'ungeloeftet'}: flow id(s) ['situation'] used by two programmes"


def test_the_router_hands_over_only_to_a_programmes_first_flow(tree: Tree) -> None:
    path = tree.edit("router", "programme.yaml", "use_flow: situation", "use_flow: leave")
    assert tree.error() == (f"{path}: node 'to_ungeloeftet': the router may only hand over to a programme's first "
                            "flow (fsm2017_situation, situation), not 'leave'")


def test_the_routers_entry_needs_a_file(tree: Tree) -> None:
    tree.edit("router", "router.yaml", "entry: programme", "entry: choice")
    assert tree.error() == f"{tree.flows / 'router'}: entry flow 'choice' has no file"


@pytest.mark.parametrize("programme, flow, new_id", [
    ("flere_skal_med_2017", "fsm2017_postponed", "postponed"), ("ungeloeftet", "leave", "fsm2017_leave"),
], ids=["2017 flow without the prefix", "ungeloeftet flow with it"])
def test_a_flow_id_tells_its_programme(tree: Tree, programme: str, flow: str, new_id: str) -> None:
    tree.copy_flow(programme, flow, programme, new_id)
    assert tree.error() == f"{tree.flows / programme}: flow id {new_id!r} does not tell its programme"
