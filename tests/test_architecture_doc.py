"""docs/ARCHITECTURE.md is the map a newcomer follows, docs/module-map.md the reference beside it:
every file either names exists (a path given whole, or relative to the package the text is in:
`feeds/catalog.py`, `claims_store.py`); the newcomer's page stays two printed pages; each of its
invariants names the tests that keep it, and each of those tests exists; its floors are the
layering test's `FLOORS`; and the fill's and the kill's module counts are the paths it lists."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_layering import FLOORS

NAMED = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|md|conf|toml|txt|json|cfg|ini))`")
TEST_NAMED = re.compile(r"`(tests/[A-Za-z0-9_./]+\.py)((?:::[A-Za-z_][A-Za-z0-9_]*)*)`")
NUMBER = {"sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-one": 21,
          "twenty-two": 22, "twenty-three": 23, "twenty-four": 24, "twenty-five": 25}
MOST_LINES = 200  # two printed pages, with room for a table row or two

ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
MODULE_MAP = ROOT / "docs" / "module-map.md"


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True, timeout=30)
    return listed.stdout.split()


def _missing(document: str, files: list[str]) -> list[str]:
    named = set(NAMED.findall(document))
    return sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))


@pytest.mark.parametrize(("document", "at_least"), [(ARCHITECTURE, 50), (MODULE_MAP, 80)])
def test_every_file_the_documents_name_exists(document: Path, at_least: int) -> None:
    text = document.read_text()
    assert len(set(NAMED.findall(text))) >= at_least  # the pattern reads the document's paths
    assert _missing(text, _tracked()) == []


def test_the_file_check_sees_a_file_that_is_not_there() -> None:
    assert _missing("`feeds/catalog.py` and `feeds/no_such_module.py`", _tracked()) == ["feeds/no_such_module.py"]


# A module the module map's prose names without backticks ("kalshi.py and kalshi_wire.py (Kalshi's orders)").
BARE_MODULE = re.compile(r"(?<![\w/`*])((?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.py)\b")


def _missing_bare(document: str, files: list[str]) -> list[str]:
    named = set(BARE_MODULE.findall(document))
    return sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))


def test_every_module_the_module_maps_prose_names_exists() -> None:
    text = MODULE_MAP.read_text()
    assert len(set(BARE_MODULE.findall(text))) >= 200  # the pattern reads the prose's modules
    assert _missing_bare(text, _tracked()) == []
    assert _missing_bare("the venue (kalshi_wire.py, venue.py)", _tracked()) == ["kalshi_wire.py"]


def test_the_architecture_stays_two_pages_and_points_to_the_module_map() -> None:
    text = ARCHITECTURE.read_text()
    assert len(text.splitlines()) <= MOST_LINES
    assert "(module-map.md)" in text


# -- the invariants name the tests that keep them ------------------------------------------------

def _section(document: str, heading: str) -> str:
    return document.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _invariants(document: str) -> dict[int, str]:
    """Each numbered rule of the "Invariants" section, its continuation lines joined."""
    items = re.split(r"\n(?=\d+\. )", "\n" + _section(document, "Invariants"))
    return {int(item.split(".", 1)[0]): item for item in items if re.match(r"\d+\. ", item)}


def _defines(path: Path, names: list[str]) -> bool:
    """Whether the test module defines `names` (a function, or a class and its method, ...)."""
    scope: list[ast.stmt] = ast.parse(path.read_text()).body
    for name in names:
        found = [node for node in scope if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and node.name == name]
        if not found:
            return False
        scope = found[0].body
    return True


def _unknown_tests(text: str) -> list[str]:
    """The tests `text` names (`tests/x.py` or `tests/x.py::name`) that do not exist."""
    unknown = []
    for file, names in TEST_NAMED.findall(text):
        path = ROOT / file
        if not path.is_file() or not _defines(path, [n for n in names.split("::") if n]):
            unknown.append(file + names)
    return unknown


def test_every_invariant_names_a_test_and_every_test_it_names_exists() -> None:
    invariants = _invariants(ARCHITECTURE.read_text())
    assert sorted(invariants) == list(range(1, len(invariants) + 1)) and len(invariants) >= 19
    assert [n for n, rule in invariants.items() if not TEST_NAMED.search(rule)] == []
    assert _unknown_tests("\n".join(invariants.values())) == []
    assert _unknown_tests(_section(ARCHITECTURE.read_text(), "Who writes what")) == []


def test_the_invariant_check_sees_a_rule_without_a_test_and_a_test_that_is_not_there() -> None:
    document = ("\n## Invariants\n\n1. **Kept.** Kept by `tests/test_layering.py::test_strategies_do_no_io`.\n"
                "2. **Said only.** Nothing keeps it.\n## Next\n")
    invariants = _invariants(document)
    assert [n for n, rule in invariants.items() if not TEST_NAMED.search(rule)] == [2]
    assert _unknown_tests("`tests/test_layering.py::test_strategies_do_no_io`, `tests/test_layering.py`") == []
    assert _unknown_tests("`tests/test_layering.py::test_no_such_test`, `tests/no_such_file.py`") == [
        "tests/test_layering.py::test_no_such_test", "tests/no_such_file.py"]


# -- the floors are the layering test's ----------------------------------------------------------

def _floor_packages(document: str) -> list[str]:
    """The engine packages of the floors table, bottom up, as module names (`contracts/` is below
    the engine and not one of its floors)."""
    rows = [line for line in _section(document, "The floors").splitlines() if re.match(r"\| \d", line)]
    named = [name for row in rows for name in re.findall(r"`([a-z_]+(?:/|\.py))`", row.split("|")[2])]
    return [f"engine.{name.removesuffix('/').removesuffix('.py')}" for name in named if name != "contracts/"]


def test_the_floors_are_the_layering_tests_in_its_order() -> None:
    assert _floor_packages(ARCHITECTURE.read_text()) == [package for floor in FLOORS for package in floor]


# -- the traced paths ---------------------------------------------------------------------------

def _path_after(document: str, heading: str) -> list[str]:
    """The modules of the paragraph that starts with `heading`, in order, each counted once."""
    paragraph = document.split(heading, 1)[1].split("\n\n", 1)[0]
    return list(dict.fromkeys(NAMED.findall(paragraph)))


def _said(document: str, pattern: str) -> int:
    """The number the document writes in words where `pattern` (one group) matches."""
    found = re.search(pattern, document, re.IGNORECASE)
    assert found is not None, pattern
    return NUMBER[found.group(1).lower()]


def test_the_traced_paths_count_what_the_document_says() -> None:
    """The fill's and the kill's module counts are measured from the paths the document lists,
    so the prose cannot drift from them."""
    document = ARCHITECTURE.read_text()
    fill = _path_after(document, "The path, module by module:")
    beside = re.findall(r"\(→ ([^)]*)\)", document.split("The path, module by module:", 1)[1].split("\n\n", 1)[0])
    kill = _path_after(document, "The path: `pages/overview.py`")
    assert len(fill) == _said(document, r"([\w-]+) in all") == 23
    assert len(fill) - len(NAMED.findall(" ".join(beside))) == _said(document, r"([\w-]+) modules on the path")
    assert len(kill) + 1 == _said(document, r"([\w-]+) modules, one turn-back") == 20  # + the overview page itself
