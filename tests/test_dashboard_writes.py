"""The dashboard writes only commands and configuration (docs/ARCHITECTURE.md, "Who writes what"):
no page or widget opens a write transaction or runs a statement itself, and every write it makes is
a call into one of the named storage writers below. Read from the source with `ast`: a storage
function or class writes when its body opens `<db>.write()`, or calls a storage function that does
(followed through storage's own imports)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.helpers import ROOT
from tests.test_layering import _sources

DASHBOARD = ("app.py", "pages")
RUNS_SQL = {"execute", "exec_driver_sql", "executemany", "executescript"}
PLUMBING = "storage.sqlite"

# The storage modules whose writers the dashboard calls, each a row of "Who writes what".
NAMED_WRITERS = {
    "storage.command_queue.commands",  # commands, each audited
    "storage.desk.config",  # strategies, limits, settings, signals, acknowledgements: configuration
    "storage.desk.strategy_lifecycle",  # a strategy paused, promoted, deleted: configuration
    "storage.desk.venue_pairs",  # a Kalshi market paired with a Polymarket one: configuration
    "storage.desk.pair_suggestions",  # a suggested pair rejected: configuration (its refresh is the CLI's)
    "storage.desk.strategy_templates",  # a strategy template saved, renamed, deleted: configuration
    "storage.research.recording_sessions",  # what the recorder keeps under a name
    "storage.research.launch_requests",  # a backtest, a sweep, an import asked for
    "storage.desk.dashboard_sessions",  # a login and a logout, a burst of failures, the first password: audited
    "storage.desk.login_budget",  # the password guesses left
    "storage.desk.dashboard_users",  # the users and their roles, managed by an administrator: audited
    "storage.desk.audit",  # a write refused for the login's role: audited (record_refusal)
}
# Pages still writing on their own while another change moves them (the list may only shrink).
NOT_YET_MOVED: set[str] = set()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _opens_a_write(node: ast.AST) -> bool:
    """`<x>.write()` with no positional argument: a Database's write transaction (a streamlit
    element's or a file's `write` always takes what it writes)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "write"
            and not node.args)


def _writes_itself(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        if not isinstance(node, ast.Call):
            continue
        if _opens_a_write(node):
            found.append(f"{node.lineno}: opens a write transaction")
        elif isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL:
            found.append(f"{node.lineno}: runs a statement")
    return found


def _module_path(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _storage_names(path: Path) -> set[tuple[str, str]]:
    """(storage module, name) for each name of a storage module that `path` uses: imported by name,
    or read as an attribute of an imported storage module."""
    tree = _tree(path)
    used: set[tuple[str, str]] = set()
    modules: dict[str, str] = {}  # local name -> storage module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("storage"):
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                if _module_path(whole) is not None:
                    modules[alias.asname or alias.name] = whole
                else:
                    used.add((node.module or "", alias.name))
        elif isinstance(node, ast.Import):
            modules.update({alias.asname or alias.name: alias.name for alias in node.names
                            if alias.name.startswith("storage.") and alias.asname})
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules:
            used.add((modules[node.value.id], node.attr))
    return used


def _called(node: ast.AST) -> set[str]:
    """The names `node` calls: `f(...)`, `x.f(...)`, `X(...)`."""
    calls = [n.func for n in ast.walk(node) if isinstance(n, ast.Call)]
    return {f.id for f in calls if isinstance(f, ast.Name)} | {f.attr for f in calls if isinstance(f, ast.Attribute)}


_VISITING: set[str] = set()  # a cycle of imports is cut: a module being read counts as writing nothing


@cache
def _writers(module: str) -> frozenset[str]:
    """The top-level functions and classes of a storage module that write (see the docstring);
    storage/sqlite/ is the plumbing every writer opens its transaction with, not a writer."""
    path = _module_path(module)
    if path is None or module.startswith(PLUMBING) or module in _VISITING:
        return frozenset()
    _VISITING.add(module)
    try:
        tree = _tree(path)
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        writing = {name for name, node in defs.items() if any(_opens_a_write(n) for n in ast.walk(node))}
        elsewhere = {name for other, name in _storage_names(path) if other != module and name in _writers(other)}
    finally:
        _VISITING.discard(module)
    changed = True
    while changed:  # a function calling one of its module's writers, or another module's, writes too
        changed = False
        for name, node in defs.items():
            if name not in writing and _called(node) & (writing | elsewhere):
                writing.add(name)
                changed = True
    return frozenset(writing)


def test_no_page_opens_a_transaction_or_runs_a_statement() -> None:
    found = {path.relative_to(ROOT).as_posix(): lines for path in _sources(*DASHBOARD)
             if (lines := _writes_itself(path))}
    assert {f: lines for f, lines in found.items() if f not in NOT_YET_MOVED} == {}, \
        "the dashboard writes through a named storage writer (docs/ARCHITECTURE.md, 'Who writes what')"
    assert sorted(f for f in NOT_YET_MOVED if f not in found) == []  # moved: leave the list


def test_the_dashboard_writes_only_through_the_named_writers() -> None:
    calls = {(module, name) for path in _sources(*DASHBOARD) for module, name in _storage_names(path)
             if name in _writers(module)}
    assert {module for module, _ in calls} == NAMED_WRITERS, sorted(calls)


def test_the_check_sees_a_write_and_a_writer(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f(db, st):\n    st.write('hello')\n    with db.write() as conn:\n"
                     "        conn.execute(x)\n")
    assert _writes_itself(probe) == ["3: opens a write transaction", "4: runs a statement"]
    assert {"request_backtest", "backtest_not_started", "request_sweep"} <= _writers("storage.research.launch_requests")
    assert "load_spec" not in _writers("storage.research.backtest_runs")
