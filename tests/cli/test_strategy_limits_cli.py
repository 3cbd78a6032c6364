"""`python -m engine strategy-limits`, run as a user runs it: a strategy's own limits listed (stored or
default), its trailing stop set (audited, the engine asked to reload), switching a stop off refused until
confirmed, bad input refused in words, changing nothing."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_templates import desk_with, engine_cli


@pytest.fixture
def desk(tmp_path: Path) -> dict[str, str]:
    return desk_with(tmp_path, "{}")


def _limits(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return engine_cli(env, "strategy-limits", *args)


def _rows(env: dict[str, str], sql: str) -> list[Any]:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return conn.execute(sql).fetchall()


def test_a_trailing_stop_is_set_listed_and_only_switched_off_when_confirmed(desk: dict[str, str]) -> None:
    listed = _limits(desk, "mm")
    assert listed.returncode == 0 and "trailing_stop" in listed.stdout and "0 (default)" in listed.stdout
    saved = _limits(desk, "mm", "trailing_stop=0.05")
    assert saved.returncode == 0 and "saved trailing_stop=0.05" in saved.stdout, saved.stderr
    assert _rows(desk, "SELECT name, value FROM strategy_limits WHERE strategy = 'mm'") == [("trailing_stop", "0.05")]
    assert _rows(desk, "SELECT action FROM audit_log WHERE action = 'strategy_limit.update'")
    assert _rows(desk, "SELECT COUNT(*) FROM commands WHERE kind = 'reload_config'") == [(1,)]
    off = _limits(desk, "mm", "trailing_stop=0")
    assert off.returncode == 1 and "turns its trailing stop off" in off.stderr
    assert _rows(desk, "SELECT value FROM strategy_limits WHERE name = 'trailing_stop'") == [("0.05",)]
    assert _limits(desk, "mm", "trailing_stop=0", "--confirm-off").returncode == 0
    assert _rows(desk, "SELECT value FROM strategy_limits WHERE name = 'trailing_stop'") == [("0",)]


def test_bad_input_is_refused_in_words(desk: dict[str, str]) -> None:
    assert "no strategy named 'nope'" in _limits(desk, "nope").stderr
    assert "not a strategy limit: trailing" in _limits(desk, "mm", "trailing=0.05").stderr
    assert "NAME=VALUE" in _limits(desk, "mm", "trailing_stop").stderr
    too_far = _limits(desk, "mm", "trailing_stop=2")
    assert too_far.returncode == 1 and "Trailing stop" in too_far.stderr
    assert _rows(desk, "SELECT COUNT(*) FROM strategy_limits") == [(0,)]
