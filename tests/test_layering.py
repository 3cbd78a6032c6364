"""The layout's rules, read from the code's own imports with the standard library's `ast`
(every import counts: top-level, inside functions, and under `if TYPE_CHECKING`):

- the shared vocabulary (`contracts/`) is the floor below `engine/` and `storage/`: it imports
  neither; `storage/` imports nothing of the engine; the dashboard (`app.py`, `pages/`) imports
  `storage/` and `contracts/`, never the engine;
- `engine/` never imports `pages/` or `simulator/`;
- strategies, and every engine module they pull in, import only the pure standard library and
  the engine's pure value modules (no database, network, files, processes, threads or clock);
- everything of the engine the dashboard loads, followed transitively, is the contracts and the
  domain values (each strategy kind's schema is a contract; the strategies import it);
- no import cycles among the engine's modules;
- the engine's packages form a DAG on documented floors (FLOORS below, and docs/ARCHITECTURE.md):
  each imports only packages on lower floors, so no two import each other;
- `charts/` is pure presentation (pandas, plotly); `reports/` reads storage and draws charts, and
  only the engine's command line uses it;
- the trading ledger's writing SQL is called from `engine/execution/` only (invariant 1).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

# What a strategy may reach, directly or through the engine modules it imports: pure standard
# library (no clock, files, network, processes or threads) and the engine's pure value modules.
# An allow-list, so a new kind of I/O cannot slip past a list of forbidden names.
PURE_STDLIB = ("__future__", "abc", "bisect", "collections", "dataclasses", "decimal", "enum", "fractions",
               "functools", "heapq", "itertools", "math", "numbers", "operator", "statistics", "typing")
PURE_ENGINE = ("engine.strategies", "contracts.domain", "contracts.params", "contracts.market_filter",
               "contracts.strategy_kinds", "contracts.strategy_schemas", "contracts.venues",
               "contracts.venues.kalshi.ids", "contracts.venues.kalshi.fees", "contracts.cross_venue",
               "contracts.venue_rules")
IMPURE_CALLS = ("open", "exec", "eval", "compile", "__import__", "input", "breakpoint")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute (relative imports resolved)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`


def _sources(*folders: str) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        target = ROOT / folder
        found += [target] if target.is_file() else sorted(target.rglob("*.py"))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _engine_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in _sources("engine")}


def _violations(folders: tuple[str, ...], allowed: tuple[str, ...], watched: tuple[str, ...]) -> list[str]:
    """Imports from `folders` of a watched module outside `allowed`."""
    found = []
    for path in _sources(*folders):
        for name in set(_imports(path)):
            if any(_within(name, w) for w in watched) and not any(_within(name, a) for a in allowed):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return sorted(found)


def test_the_dashboard_imports_storage_and_the_shared_contracts_only() -> None:
    assert _violations(("app.py", "pages"), ("contracts",), ("engine", "simulator")) == []


def test_storage_imports_nothing_of_the_engine() -> None:
    assert _violations(("storage",), (), ("engine", "pages", "simulator")) == []


def test_the_contracts_stand_below_engine_and_storage() -> None:
    assert _violations(("contracts",), (), ("engine", "storage", "pages", "simulator", "reports", "app")) == []


def test_the_simulator_imports_nothing_of_the_desk() -> None:
    """The simulator is a test instrument read from the venue's documentation: it shares no code
    (and so no misreading) with the engine, the contracts, storage or the dashboard."""
    assert _violations(("simulator",), (), ("engine", "contracts", "storage", "pages", "reports", "charts",
                                            "app")) == []


def test_the_engine_never_imports_the_dashboard_or_the_simulator() -> None:
    assert _violations(("engine",), (), ("pages", "simulator", "app")) == []


def test_charts_are_pure_presentation() -> None:
    """charts/ draws and formats: pandas, plotly and the standard library, nothing of the
    dashboard, the database or the engine (the dashboard and the reports both use it)."""
    assert _violations(("charts",), (), ("streamlit", "storage", "engine", "pages", "reports", "simulator",
                                        "sqlalchemy")) == []


def test_reports_read_storage_and_draw_charts_only() -> None:
    """reports/ (the saved HTML and CSV) is used by the dashboard and by the engine's command
    line, so it stays below both: no dashboard, no streamlit, no engine machinery."""
    assert _violations(("reports",), ("contracts",), ("streamlit", "pages", "engine", "simulator", "app")) == []


def test_only_the_command_line_of_the_engine_uses_the_reports() -> None:
    users = [p.relative_to(ROOT).as_posix() for p in _sources("engine")
             if any(_within(name, "reports") for name in _imports(p))]
    assert users and all(u.startswith("engine/cli/") for u in users), users


def _source_of(module: str) -> Path | None:
    base = ROOT / module.replace(".", "/")
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _impurities(path: Path) -> Iterator[str]:
    """Imports outside the pure allow-list, and calls of built-ins that do I/O or run code."""
    label = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    for name in set(_imports(path)):
        if not any(_within(name, allowed) for allowed in (*PURE_STDLIB, *PURE_ENGINE)):
            yield f"{label} imports {name}"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in IMPURE_CALLS:
            yield f"{label}:{node.lineno} calls {node.func.id}()"


def test_strategies_do_no_io() -> None:
    """Strategies and every engine module they pull in (followed transitively) use only the pure
    standard library and the engine's pure value modules."""
    todo = _sources("engine/strategies")
    seen: set[Path] = set()
    found: list[str] = []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        found += _impurities(path)
        todo += [src for name in _imports(path) if name.startswith(("engine.", "contracts."))
                 and (src := _source_of(name)) is not None]
    assert ROOT / "contracts/domain.py" in seen  # the walk really followed the imports
    assert sorted(set(found)) == []


def test_the_purity_check_catches_io(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import time\nfrom contracts.domain import ONE\n\ndef f():\n    return open('x')\n")
    found = list(_impurities(probe))
    assert any("imports time" in f for f in found) and any("calls open()" in f for f in found), found


def test_the_dashboard_loads_no_engine_machinery_even_indirectly() -> None:
    """The dashboard offers each strategy kind from its schema in the contracts: no strategy (no
    decision code), and nothing else of the engine, comes in behind them."""
    prefixes = ("engine.", "contracts.", "storage.")
    todo = [src for path in _sources("app.py", "pages") for name in _imports(path)
            if name.startswith(prefixes) and (src := _source_of(name)) is not None]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += [src for name in _imports(path) if name.startswith(prefixes)
                     and (src := _source_of(name)) is not None]
    loaded = {_module_name(p) for p in seen}
    assert "contracts.domain" in loaded  # the walk really followed the imports
    assert sorted(m for m in loaded if _within(m, "engine")) == []


def _graph() -> dict[str, set[str]]:
    modules = _engine_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = {t for t in _imports(path) if t in modules and t != name}
        graph[name] = {t for t in targets if not name.startswith(t + ".")}  # a package's __init__ is not a cycle
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


# The engine's floors, bottom up (docs/ARCHITECTURE.md, "The floors"): a package imports only
# packages on floors below its own (`contracts/`, the shared vocabulary, is below them all).
FLOORS: tuple[tuple[str, ...], ...] = (
    ("engine.failpoints", "engine.analytics", "engine.ratelimit"),
    ("engine.strategies", "engine.logs", "engine.feeds", "engine.notify"),
    ("engine.marketdata", "engine.venues", "engine.watchdog", "engine.service_alarm", "engine.metrics",
     "engine.outside"),
    ("engine.execution",),
    ("engine.risk",),
    ("engine.trading",),
    ("engine.news", "engine.backtest"),
    ("engine.process", "engine.cli"),
    ("engine.telegram_bot",),
    ("engine.main",),  # the composition root
    ("engine.__main__",),
)


# engine/trading/'s sub-packages, split by idea (docs/ARCHITECTURE.md), on floors of their own: each
# imports only from the floors before it, so the split cannot rot back into one tangle.
TRADING_FLOORS: tuple[tuple[str, ...], ...] = (
    ("engine.trading.parts",),  # the vocabulary the others share
    ("engine.trading.ledgers",),
    ("engine.trading.hosting",),
    ("engine.trading.exits",),
    ("engine.trading.operator",),
    ("engine.trading.settlement",),
    ("engine.trading.lookouts",),
    ("engine.trading.passes",),
    ("engine.trading.core",),  # joins them
)


def _package(module: str, depth: int = 2) -> str:
    return ".".join(module.split(".")[:depth])


def _package_imports(within: str = "engine", depth: int = 2) -> set[tuple[str, str, str, str]]:
    """(package, package it imports, module, module it imports) for every import between two
    packages `depth` names deep under `within` (the engine's packages; trading's sub-packages)."""
    modules = {name: path for name, path in _engine_modules().items() if name.startswith(within + ".")}
    found = set()
    for name, path in modules.items():
        for target in _imports(path):
            if target in modules and _package(target, depth) != _package(name, depth):
                found.add((_package(name, depth), _package(target, depth), name, target))
    return found


def _runs_up(imports: set[tuple[str, str, str, str]], floors: tuple[tuple[str, ...], ...]) -> list[str]:
    floor = {package: i for i, names in enumerate(floors) for package in names}
    return sorted(f"{module} imports {target}" for source, dest, module, target in imports
                  if floor[dest] >= floor[source])


def _mutual(imports: set[tuple[str, str, str, str]]) -> list[tuple[str, str]]:
    pairs = {(source, dest) for source, dest, _, _ in imports}
    return sorted((a, b) for a, b in pairs if a < b and (b, a) in pairs)


def test_every_engine_package_stands_on_a_floor() -> None:
    packages = {_package(name) for name in _engine_modules() if name != "engine"}
    placed = [p for names in FLOORS for p in names]
    assert len(placed) == len(set(placed)) and sorted(packages) == sorted(placed)


def test_no_import_runs_up_a_floor_and_no_two_engine_packages_import_each_other() -> None:
    imports = _package_imports()
    assert ("engine.trading", "engine.execution") in {(s, d) for s, d, _, _ in imports}  # the walk saw imports
    assert _runs_up(imports, FLOORS) == []
    assert _mutual(imports) == []


def test_every_trading_module_stands_on_a_trading_floor() -> None:
    placed = [p for names in TRADING_FLOORS for p in names]
    found = {_package(name, 3) for name in _engine_modules() if name.startswith("engine.trading.")}
    assert len(placed) == len(set(placed)) and sorted(found) == sorted(placed)


def test_no_import_runs_up_a_trading_floor() -> None:
    imports = _package_imports("engine.trading", 3)
    assert ("engine.trading.passes", "engine.trading.ledgers") in {(s, d) for s, d, _, _ in imports}
    assert _runs_up(imports, TRADING_FLOORS) == []


def test_the_floor_check_sees_an_import_running_up() -> None:
    floors = (("engine.a",), ("engine.b",))
    up = {("engine.a", "engine.b", "engine.a.x", "engine.b.y")}
    assert _runs_up(up, floors) == ["engine.a.x imports engine.b.y"]
    assert _runs_up({("engine.b", "engine.a", "engine.b.y", "engine.a.x")}, floors) == []
    both = up | {("engine.b", "engine.a", "engine.b.y", "engine.a.x")}
    assert _mutual(both) == [("engine.a", "engine.b")]


def test_the_engine_has_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    """The checker itself: a planted circle is found, a line is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# The Telegram bot is its own process with a phone on the other end: it reads SQLite, posts
# commands and sends text. It may use storage, the contracts, the CLI's status text, the log
# set-up and the notifier's policy (the queue itself is storage's); nothing that trades.
BOT_ALLOWED = ("engine.telegram_bot", "contracts", "contracts.domain", "engine.strategies", "engine.cli.desk",
               "engine.cli.args", "engine.cli.errors", "engine.logs", "engine.notify.policy", "engine.ratelimit")


def test_the_telegram_bot_loads_no_trading_machinery_even_indirectly() -> None:
    todo = _sources("engine/telegram_bot")
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += [src for name in _imports(path) if name.startswith(("engine.", "storage.", "contracts."))
                     and (src := _source_of(name)) is not None]
    loaded = {_module_name(p) for p in seen if p.is_relative_to(ROOT / "engine")}
    assert "engine.cli.desk" in loaded  # the walk really followed the imports
    outside = sorted(m for m in loaded if m not in ("engine", "engine.cli", "engine.process", "engine.notify")
                     and not any(_within(m, a) for a in BOT_ALLOWED))
    assert outside == []


# -- invariant 1: who writes the trading ledger ---------------------------------------------------

LEDGER_MODULES = ("storage/engine_stores/execution_ledger.py", "storage/engine_stores/claims_store.py")
_WRITES = ("INSERT ", "UPDATE ", "DELETE ", "REPLACE ")


def _ledger_writers(path: Path) -> set[str]:
    """The module's functions that write: their body, or a module constant they name, holds SQL that writes."""
    tree = ast.parse(path.read_text())
    constants = {node.targets[0].id: ast.unparse(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    writers = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            text = ast.unparse(node) + " ".join(constants[n.id] for n in ast.walk(node)
                                                 if isinstance(n, ast.Name) and n.id in constants)
            if any(word in text.upper() for word in _WRITES):
                writers.add(node.name)
    return writers


def test_only_the_executor_writes_the_trading_ledger() -> None:
    writers = {Path(m).stem: _ledger_writers(ROOT / m) for m in LEDGER_MODULES}
    assert writers["execution_ledger"] and writers["claims_store"]  # the scan finds what it guards
    found: dict[str, set[str]] = {}
    for path in [*(ROOT / "engine").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]:
        rel = str(path.relative_to(ROOT))
        if rel.startswith("engine/execution/") or rel in LEDGER_MODULES:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in writers and node.attr in writers[node.value.id]:
                found.setdefault(rel, set()).add(node.attr)
            if isinstance(node, ast.ImportFrom) and node.module in (f"storage.engine_stores.{m}" for m in writers):
                names = {a.name for a in node.names} & writers[node.module.split(".")[-1]]
                if names:
                    found.setdefault(rel, set()).update(names)
    assert found == {}  # every write goes through engine/execution/ (invariant 1), no exception


# -- invariant 1, one writer by object: the executor's own writes and its state ---------------------

EXECUTION = ROOT / "engine" / "execution"


def _execution_writers(storage_writers: dict[str, set[str]]) -> dict[str, set[str]]:
    """engine/execution's module-level functions that write the ledger: they call a writer of the
    ledger's SQL modules, or another such function of engine/execution (to a fixed point)."""
    trees = {path.stem: ast.parse(path.read_text()) for path in EXECUTION.glob("*.py")}
    writers: dict[str, set[str]] = {name: set() for name in trees}
    grew = True
    while grew:
        grew = False
        known = {**storage_writers, **writers}
        for module, tree in trees.items():
            aliases = _module_aliases(tree)
            for node in tree.body:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name in writers[module]:
                    continue
                if any(_calls_writer(call, known, aliases, writers[module]) for call in ast.walk(node)):
                    writers[module].add(node.name)
                    grew = True
    return {module: names for module, names in writers.items() if names}


def _raw_writers(writers: dict[str, set[str]]) -> dict[str, set[str]]:
    """The writers that take a connection: they write inside a transaction their caller opened.
    (Those that take the executor, like `credits.book_venue_credits(ex, venue)`, are its seams: they
    open the executor's transaction and keep its state themselves.)"""
    raw: dict[str, set[str]] = {}
    for module, names in writers.items():
        tree = ast.parse((EXECUTION / f"{module}.py").read_text())
        raw[module] = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                       and node.name in names and any(a.arg == "conn" for a in node.args.args)}
    return raw


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> module stem, for `from package import module [as name]` and `import a.b as name`."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            aliases.update({a.asname or a.name: a.name for a in node.names})
        elif isinstance(node, ast.Import):
            aliases.update({a.asname: a.name.split(".")[-1] for a in node.names if a.asname})
    return aliases


def _calls_writer(node: ast.AST, known: dict[str, set[str]], aliases: dict[str, str], own: set[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr in known.get(aliases.get(func.value.id, func.value.id), set())
    return isinstance(func, ast.Name) and func.id in own


def _touches_executor_state(node: ast.AST) -> str | None:
    """`x.state.attr = …`, `x.state.attr[k] = …`, `x.state.attr += …`, `x.state.load…(…)`: a change
    of an executor's in-memory state (its orders, positions, cash) made from outside it."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "state" \
            and node.func.attr.startswith("load"):
        return ast.unparse(node.func)
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
    for target in targets:
        base = target.value if isinstance(target, ast.Subscript) else target
        if isinstance(base, ast.Attribute) and isinstance(base.value, ast.Attribute) and base.value.attr == "state":
            return ast.unparse(target)
    return None


def test_only_the_executor_of_a_ledger_writes_it_or_reloads_its_state() -> None:
    storage = {Path(m).stem: _ledger_writers(ROOT / m) for m in LEDGER_MODULES}
    writers = _raw_writers(_execution_writers(storage))
    # The scan finds what it guards: the claims' and the store's writers that take a connection.
    assert {"tx_opened", "record_merge", "book_credit", "record_refund"} <= writers["claims"]
    assert {"recompute_position", "insert_order", "write_fill"} <= writers["store"]
    found: dict[str, set[str]] = {}
    for path in [*(ROOT / "engine").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), *(ROOT / "storage").rglob("*.py")]:
        rel = str(path.relative_to(ROOT))
        if path.is_relative_to(EXECUTION):
            continue
        tree = ast.parse(path.read_text())
        aliases = _module_aliases(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and (module := aliases.get(node.value.id)) in writers and module not in storage \
                    and node.attr in writers[module]:
                found.setdefault(rel, set()).add(f"{node.value.id}.{node.attr}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine.execution."):
                names = {a.name for a in node.names} & writers.get(node.module.split(".")[-1], set())
                found.setdefault(rel, set()).update(names) if names else None
            if (touched := _touches_executor_state(node)) is not None:
                found.setdefault(rel, set()).add(touched)
    assert found == {}  # writes through the executor's own seams (engine/execution/cash_book.py), no reload


def test_the_executor_state_scan_sees_each_kind_of_change() -> None:
    changes = ["ex.state.cash = 1", "ex.state.orders[1] = o", "ex.state.cash += 2", "ex.state.load_positions(conn)",
               "self.ex.state.redeemable -= 3"]
    for source in changes:
        assert any(_touches_executor_state(n) for n in ast.walk(ast.parse(source))), source
    assert not any(_touches_executor_state(n) for n in ast.walk(ast.parse("x = ex.state.cash\nex.state.totals(s, t)")))
