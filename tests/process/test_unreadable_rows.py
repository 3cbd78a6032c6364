"""The engine always starts: market and configuration rows it cannot read, written straight into
SQLite (tags that are not JSON, a tick of 'abc', an imported market shadowing a traded one's
tokens, a strategy's params that are not JSON, a setting that is not JSON) are set aside with a
critical alert naming each, the real engine process starts and trades its markets as before,
and `python -m engine status` says what was set aside and how to repair it; a repaired
setting leaves the list at the next configuration reload."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, paper_desk, run_cli, wait_until

pytestmark = pytest.mark.slow
MARKETS = {"filter": {"max_markets": 2, "sort": "liquidity"}}
PARAMS = {"size": 20, "half_spread": 0.02, "max_inventory": 100, "refresh_threshold": 0.015}
BAD_TAGS, BAD_TICK, SHADOW = "0x" + "a1" * 32, "0x" + "b2" * 32, "0x" + "c3" * 32
SETTING = "alert_feed_down_s"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=37, agents=True, agent_interval_s=0.1) as handle:
        yield handle


def _quoted(engine: EngineProcess, since_id: int) -> set[str]:
    return {cid for (cid,) in engine.rows("SELECT DISTINCT condition_id FROM orders WHERE id > ? AND "
                                            "strategy = 'demo'", since_id)}


def _corrupt(engine: EngineProcess, traded: str) -> None:
    """What a hand edit, an old version or a careless script could leave in the tables."""
    with sqlite3.connect(engine.db_path) as conn:
        conn.row_factory = sqlite3.Row
        template = dict(conn.execute("SELECT * FROM markets WHERE condition_id = ?", (traded,)).fetchone())
        rows = [{**template, "condition_id": BAD_TAGS, "yes_token": "901", "no_token": "902", "tags": "not json"},
                {**template, "condition_id": BAD_TICK, "yes_token": "903", "no_token": "904", "tick": "abc"},
                {**template, "condition_id": SHADOW, "origin": "imported", "closed": 1, "tick": 100_000,
                 "min_size": 900_000_000}]  # the traded market's own tokens
        for row in rows:
            conn.execute(f"INSERT INTO markets ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         tuple(row.values()))
        conn.execute("UPDATE strategies SET params = '{not json' WHERE name = 'broken'")
        conn.execute("UPDATE settings SET value = '{not json' WHERE key = ?", (SETTING,))


def test_unreadable_rows_are_set_aside_and_the_engine_trades(tmp_path: Path, sim: SimHandle) -> None:
    engine = paper_desk(tmp_path, sim, [("demo", "market_making", PARAMS, MARKETS),
                                        ("broken", "market_making", PARAMS, MARKETS)])
    try:
        engine.start()
        wait_until(lambda: len(_quoted(engine, 0)) == 2, 120, 0.2, "quotes on the two most liquid markets")
        before = _quoted(engine, 0)
        assert engine.terminate() == 0
        _corrupt(engine, sorted(before)[0])
        last = engine.rows("SELECT COALESCE(MAX(id), 0) FROM orders")[0][0]
        engine.start()
        wait_until(lambda: len(_quoted(engine, last)) >= len(before), 120, 0.2, "quotes after the restart")
        assert _quoted(engine, last) == before  # the same markets as before
        assert engine.status().state == "RUNNING"
        assert engine.rows("SELECT COUNT(*) FROM orders WHERE id > ? AND status = 'REJECTED'", last) == [(0,)]
        _says_what_was_set_aside(engine)
        _a_repaired_setting_leaves_the_list(engine)
    finally:
        engine.cleanup()


def _says_what_was_set_aside(engine: EngineProcess) -> None:
    assert engine.rows("SELECT COUNT(*) FROM markets WHERE condition_id IN (?, ?, ?)", BAD_TAGS, BAD_TICK,
                 SHADOW) == [(0,)]
    kept = dict(engine.rows("SELECT subject, row FROM quarantine WHERE kind = 'market'"))
    assert json.loads(kept[f"market {BAD_TAGS}"])["tags"] == "not json"  # kept as it was, to repair
    alerts = " ".join(m for (m,) in engine.rows("SELECT message FROM alerts WHERE level = 'critical'"))
    for named in (BAD_TAGS, BAD_TICK, SHADOW, f"setting {SETTING}", "strategy 'broken'"):
        assert named in alerts, named
    shown = run_cli(["status"], engine.env)
    assert shown.returncode == 0, shown.stderr
    assert "set aside  5 rows the engine could not read and runs without:" in shown.stdout, shown.stdout
    for subject, problem in ((f"market {BAD_TAGS}", "tags is not a JSON list"),
                             (f"market {BAD_TICK}", "tick is not one of the venue's tick sizes"),
                             (f"market {SHADOW}", "imported, it claims a token of the venue's market"),
                             (f"setting {SETTING}", "is invalid"),
                             ("strategy broken", "params is not valid JSON")):
        line = next((ln for ln in shown.stdout.splitlines() if ln.startswith(f"  {subject}: ")), "")
        assert problem in line, (subject, shown.stdout)
    assert shown.stdout.count("    repair: ") == 5
    report = json.loads(run_cli(["status", "--json"], engine.env).stdout)
    assert {e["subject"] for e in report["set_aside"]} >= {f"market {BAD_TAGS}", f"setting {SETTING}"}


def _a_repaired_setting_leaves_the_list(engine: EngineProcess) -> None:
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("UPDATE settings SET value = '30' WHERE key = ?", (SETTING,))
    assert engine.run("reload_config", timeout=30).status == "done"
    subjects = {s for (s,) in engine.rows("SELECT subject FROM quarantine")}
    assert f"setting {SETTING}" not in subjects and f"market {BAD_TAGS}" in subjects
