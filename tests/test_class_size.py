"""One responsibility per class: no class of the engine has more than 30 methods, nor more than 400
lines. Read from the source with `ast`: every `def` and `async def` in a class's own body counts
(properties, static and private methods included; nested classes are counted on their own); a class's
lines run from its `class` line to its last (docstrings and comments included)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT
from tests.source_tree import parsed

MAX_METHODS = 30
MAX_LINES = 400


def method_counts(path: Path) -> dict[str, int]:
    """Each class defined in `path` (nested ones as Outer.Inner) and how many methods it has."""
    counts: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                name = f"{prefix}{child.name}"
                counts[name] = sum(isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef)) for b in child.body)
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(parsed(path), "")
    return counts


def engine_classes() -> dict[str, int]:
    return {f"{path.relative_to(ROOT)}:{name}": count
            for path in sorted((ROOT / "engine").rglob("*.py"))
            for name, count in method_counts(path).items()}


def test_no_engine_class_has_more_than_30_methods() -> None:
    classes = engine_classes()
    assert "engine/trading/core.py:TradingCore" in classes  # really read the engine
    assert {name: n for name, n in classes.items() if n > MAX_METHODS} == {}


def test_the_count_sees_every_kind_of_method(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("class A:\n"
                      "    x = 1\n"
                      "    def a(self): ...\n"
                      "    async def b(self): ...\n"
                      "    @property\n"
                      "    def c(self): return 1\n"
                      "    @staticmethod\n"
                      "    def _d(): ...\n"
                      "    class B:\n"
                      "        def e(self): ...\n"
                      "def f(): ...\n")
    assert method_counts(source) == {"A": 4, "A.B": 1}


def test_no_engine_class_is_over_400_lines() -> None:
    lines = {f"{path.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
             for path in sorted((ROOT / "engine").rglob("*.py"))
             for node in ast.walk(parsed(path))
             if isinstance(node, ast.ClassDef) and node.end_lineno is not None}
    assert lines["engine/trading/core.py:TradingCore"] > 100  # really read the engine
    assert {name: n for name, n in lines.items() if n > MAX_LINES} == {}
