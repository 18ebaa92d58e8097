"""Which answers a block of a flow's template reads, found in its syntax tree: the block's text is then the same
for every dialogue with the same values of those answers, and can be kept by them (bot/chat/texts.py).

The reading is exact or nothing. A block reads an answer only as `answers.x`, `answers['x']`, `answers.get('x')`
(a constant default allowed) or `answer_date('x')`; besides these it may name only what is the same for every
dialogue of its flow (`flow`, `marker_name`, `programme`) and use only pure filters and tests. Anything else — the
answers as a whole (`answers|length`, a loop over them, `answers[name]`), another variable, `{% set %}`, a macro,
an include or import, `self`/`super()`, the `random` filter — and the block is not analysed: None.
"""

from __future__ import annotations

from collections.abc import Collection

from jinja2 import Environment, nodes
from jinja2.filters import FILTERS
from jinja2.tests import TESTS

FIXED_NAMES = frozenset({"flow", "marker_name", "programme"})  # the same for every dialogue of one flow
PURE_FILTERS = frozenset(FILTERS) - {"random"}  # Jinja's own filters whose result depends only on their input
_DICT_NAMES = frozenset(dir(dict))  # answers.items, answers['keys'] … are the dict's methods, not answers
_NOT_ANALYSED = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport, nodes.Macro, nodes.CallBlock,
                 nodes.ContextReference, nodes.DerivedContextReference, nodes.EnvironmentAttribute,
                 nodes.ExtensionAttribute, nodes.ImportedName, nodes.InternalName, nodes.Scope,
                 nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)


def answers_read(env: Environment, source: str, block: str,
                 pure_filters: Collection[str] = PURE_FILTERS) -> tuple[str, ...] | None:
    """The question ids whose answers the block `block` of this template source reads (in the order first read),
    or None when that cannot be told exactly (see the module's doc), the template includes or extends another, or it
    has not exactly one such block."""
    tree = env.parse(source)
    if any(True for _ in tree.find_all(_NOT_ANALYSED[:4])):
        return None
    found = [node for node in tree.find_all(nodes.Block) if node.name == block]
    if len(found) != 1:
        return None
    reads: list[str] = []
    return tuple(reads) if _collect(found[0], reads, pure_filters) else None


def _collect(node: nodes.Node, reads: list[str], pure_filters: Collection[str]) -> bool:
    """Add the answers `node` reads to `reads`; False if it does anything this module cannot follow."""
    key = _answer_read(node)
    if key is not None:
        if key not in reads:
            reads.append(key)
        return True
    if isinstance(node, _NOT_ANALYSED):
        return False
    if isinstance(node, nodes.Name):
        return node.ctx == "load" and node.name in FIXED_NAMES
    if isinstance(node, nodes.Filter) and node.name not in pure_filters:
        return False
    if isinstance(node, nodes.Test) and node.name not in TESTS:
        return False
    return all(_collect(child, reads, pure_filters) for child in node.iter_child_nodes())


def _answer_read(node: nodes.Node) -> str | None:
    """The question id if `node` is one of the four ways of reading one answer, else None."""
    if isinstance(node, nodes.Getattr) and _is_name(node.node, "answers") and node.attr not in _DICT_NAMES:
        return node.attr
    if isinstance(node, nodes.Getitem) and _is_name(node.node, "answers") and _is_key(node.arg):
        return str(node.arg.as_const())
    if not isinstance(node, nodes.Call) or node.kwargs or node.dyn_args or node.dyn_kwargs or not node.args:
        return None
    first, rest = node.args[0], node.args[1:]
    if not _is_key(first):
        return None
    called = node.node
    if _is_name(called, "answer_date") and not rest:
        return str(first.as_const())
    if (isinstance(called, nodes.Getattr) and called.attr == "get" and _is_name(called.node, "answers")
            and all(isinstance(default, nodes.Const) for default in rest) and len(rest) <= 1):
        return str(first.as_const())
    return None


def _is_name(node: nodes.Node, name: str) -> bool:
    return isinstance(node, nodes.Name) and node.name == name and node.ctx == "load"


def _is_key(node: nodes.Node) -> bool:
    """A constant string that names an answer, not one of the dict's own attributes."""
    return isinstance(node, nodes.Const) and isinstance(node.value, str) and node.value not in _DICT_NAMES
