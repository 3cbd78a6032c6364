"""`python -m engine templates`, run as a user runs it: a strategy saved as a template, listed, a strategy
created from it (off, paper only, its markets given), the template renamed and deleted, each audited; bad
input refused in words, changing nothing."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

MARKET = "0x" + "ab" * 32


def desk_with(tmp_path: Path, params: str) -> dict[str, str]:
    """A migrated desk with one market-making strategy `mm` on MARKET, `params` its JSON, and an empty .env."""
    env = isolated_env(tmp_path)
    Path(env["TRADER_ENV_FILE"]).write_text("")
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at, updated_at,
                            updated_by) VALUES ('mm', 'market_making', ?, ?, 1, 1, 0, 0, 't')""",
                     (params, json.dumps([MARKET])))
    return env


def engine_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m engine ARGS` as a user runs it (tests.helpers.run_cli), never with a traceback."""
    done = run_cli(list(args), env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


@pytest.fixture
def desk(tmp_path: Path) -> dict[str, str]:
    return desk_with(tmp_path, '{"size": 12, "half_spread": 0.03}')


def _templates(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return engine_cli(env, "templates", *args)


def _rows(env: dict[str, str], sql: str) -> list[Any]:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return conn.execute(sql).fetchall()


def test_save_list_create_rename_delete(desk: dict[str, str]) -> None:
    saved = _templates(desk, "save", "mm", "tight")
    assert saved.returncode == 0 and "saved template 'tight': market_making" in saved.stdout
    listed = json.loads(_templates(desk, "list", "--json").stdout)
    assert [(t["name"], t["kind"], t["params"]) for t in listed] == [
        ("tight", "market_making", {"half_spread": 0.03, "size": 12})]
    created = _templates(desk, "create", "tight", "mm-2", "--markets", MARKET)
    assert created.returncode == 0 and "paper only until promoted, off" in created.stdout, created.stderr
    ((kind, params, markets, enabled, live),) = _rows(
        desk, "SELECT kind, params, markets, enabled, live FROM strategies WHERE name = 'mm-2'")
    assert (kind, json.loads(params), json.loads(markets), enabled, live) == (
        "market_making", {"half_spread": 0.03, "size": 12}, [MARKET], 0, 0)
    assert _templates(desk, "rename", "tight", "tight mm").returncode == 0
    assert _templates(desk, "delete", "tight mm").returncode == 0
    assert "no templates" in _templates(desk, "list").stdout
    assert [a for (a,) in _rows(desk, "SELECT action FROM audit_log WHERE action LIKE 'template.%' OR action = "
                                      "'strategy.create' ORDER BY id")] == [
        "template.save", "strategy.create", "template.rename", "template.delete"]
    assert _rows(desk, "SELECT COUNT(*) FROM strategies WHERE name = 'mm-2'") == [(1,)]  # the strategy stays


def test_bad_input_is_refused_in_words_changing_nothing(desk: dict[str, str]) -> None:
    bad = _templates(desk, "add", "wide", "--kind", "market_making", "--params", '{"size": "lots"}')
    assert bad.returncode == 1 and "refused, nothing saved" in bad.stderr and "must be a number" in bad.stderr
    not_json = _templates(desk, "add", "wide", "--kind", "market_making", "--params", "{size")
    assert not_json.returncode == 1 and "--params: not JSON" in not_json.stderr
    ghost = _templates(desk, "create", "ghost", "x", "--markets", MARKET)
    assert ghost.returncode == 1 and "no template named 'ghost'" in ghost.stderr
    assert _templates(desk, "add", "wide", "--kind", "market_making", "--params", '{"size": 30}').returncode == 0
    taken = _templates(desk, "create", "wide", "mm", "--markets", MARKET)
    assert taken.returncode == 1 and "a strategy named 'mm' already exists" in taken.stderr
    assert _rows(desk, "SELECT COUNT(*) FROM strategies") == [(1,)]
    assert _rows(desk, "SELECT name FROM strategy_templates") == [("wide",)]
