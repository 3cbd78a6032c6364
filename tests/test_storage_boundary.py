"""SQL lives in `storage/`: no other module of the engine, the dashboard, the reports or the
charts holds a SQL statement, and the contracts both processes share are pure (no SQL, no
storage, no database driver). Read from the source with `ast`: every string literal (f-strings
included) that reads as a SQL statement counts.

Where engine SQL is still to move, its file is listed in `NOT_YET_MOVED` with its count of
statements: the count may only fall (a new statement anywhere fails), and a file whose SQL has
gone must leave the list."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT
from tests.source_tree import parsed
from tests.test_layering import _imports, _sources, _violations, _within

CHECKED = ("engine", "app.py", "pages", "reports", "charts")
_VERB = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|WITH|PRAGMA|BEGIN|REPLACE|VACUUM)\b", re.I)
_BODY = re.compile(r"\b(FROM|INTO|SET|WHERE|TABLE|VALUES|ROLLBACK|COMMIT)\b|^\s*(PRAGMA|BEGIN)\b", re.I)

# The engine's own stores not moved into storage/ yet (file: SQL statements in it).
NOT_YET_MOVED: dict[str, int] = {
}


def _reads_as_sql(text: str) -> bool:
    return bool(_VERB.match(text) and _BODY.search(text))


def sql_statements(path: Path) -> Iterator[tuple[int, str]]:
    """(line, first line) of each SQL statement in `path`; see sql_literals."""
    for line, text, _ in sql_literals(path):
        yield line, text.strip().split("\n")[0][:60]


def sql_literals(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, text, whether it is an f-string) of each string literal in `path` that reads as SQL."""
    tree = parsed(path)
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}  # docstrings are prose
    for node in ast.walk(tree):
        if id(node) in parts or id(node) in docs:
            continue  # a piece of an f-string (the whole string is read below), or a docstring
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)
        else:
            continue
        if _reads_as_sql(str(text)):
            yield node.lineno, str(text), isinstance(node, ast.JoinedStr)


def _sql_outside_storage() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in _sources(*CHECKED):
        count = len(list(sql_statements(path)))
        if count:
            found[path.relative_to(ROOT).as_posix()] = count
    return found


def test_no_sql_outside_storage_beyond_what_is_still_to_move() -> None:
    found = _sql_outside_storage()
    grown = {f: n for f, n in found.items() if n > NOT_YET_MOVED.get(f, 0)}
    assert grown == {}, "SQL belongs in storage/: add a function there and call it"


def test_files_whose_sql_moved_leave_the_list() -> None:
    found = _sql_outside_storage()
    assert sorted(f for f in NOT_YET_MOVED if f not in found) == []
    assert {f: n for f, n in found.items() if n < NOT_YET_MOVED[f]} == {}  # lower the count


def test_the_sql_check_sees_sql_and_only_sql(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('a = "SELECT x FROM t"\nb = f"UPDATE t SET x = {1}"\nc = "Select a strategy"\n'
                     'd = "delete the file"\ne = """\n  INSERT INTO t VALUES (1)"""\n')
    assert [line for line, _ in sql_statements(probe)] == [1, 2, 5]


def test_the_contracts_are_pure() -> None:
    """No SQL, no storage and no database driver in what both processes share; the table classes
    (contracts/tables/) declare the shared schema with SQLModel and nothing else."""
    found = _violations(("contracts",), (), ("storage", "sqlalchemy", "sqlmodel", "sqlite3", "sqlite_utils"))
    assert found and all(f.startswith("contracts/tables/") and f.split(" imports ")[1].startswith("sqlmodel")
                         for f in found), found
    assert [f for f in _sql_outside_storage() if f.startswith("contracts/")] == []


def test_the_dashboard_reports_and_charts_hold_no_sql() -> None:
    assert [f for f in _sql_outside_storage() if not f.startswith("engine/")] == []
    users = sorted(p.relative_to(ROOT).as_posix() for p in _sources("app.py", "pages", "reports", "charts")
                   if any(_within(n, m) for n in _imports(p) for m in ("sqlite3", "sqlite_utils")))
    assert users == []
