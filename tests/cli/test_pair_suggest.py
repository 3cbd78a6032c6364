"""`python -m engine pairs suggest|accept|reject`, run as a user runs it against the simulator, whose Kalshi
side lists markets asking its Polymarket questions in Kalshi's words and closing later, and a lookalike:
a refresh suggests each twin for the market the desk watches, and not the lookalike nor a question
naming another figure; it reads Kalshi's listing once and keeps it; a Kalshi market a strategy names is
matched the other way; a rejected suggestion is not offered again; an accepted one is linked only once
confirmed, through `pairs add`'s path (audited)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.kalshi.twin import SPECS
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env

RUN_S = 120  # each verb is a Python process of its own: slow on a loaded machine
TWINS = {spec.question: spec.twin.title for spec in SPECS if spec.question}  # Polymarket question -> Kalshi title
LOOKALIKE = next(spec.twin.title for spec in SPECS if not spec.question)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=13, agents=False, prefill_books=False, kalshi_markets=1, kalshi_pair=True) as handle:
        yield handle


@pytest.fixture
def desk(tmp_path: Path, sim: SimHandle) -> dict[str, str]:
    """A desk that discovered the simulator's Polymarket markets, as its first run does."""
    from engine.venues.polymarket.discovery import refresh_markets
    from storage.sqlite.db import Database

    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    Path(env["TRADER_ENV_FILE"]).write_text("")
    migrate(Path(env["TRADER_DB"]))
    db = Database(Path(env["TRADER_DB"]))
    asyncio.run(refresh_markets(db, f"http://127.0.0.1:{sim.port}/gamma"))
    db.dispose()
    return env


def _pairs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "engine", "pairs", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=RUN_S, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _suggested(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = _pairs(env, "suggest", *args, "--json")
    assert done.returncode == 0, done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def _rows(env: dict[str, str], sql: str) -> list[Any]:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return conn.execute(sql).fetchall()


def test_a_refresh_suggests_each_twin_once_and_keeps_kalshis_listing(desk: dict[str, str]) -> None:
    found = _suggested(desk, "--refresh")
    assert {s["polymarket_question"]: s["kalshi_title"] for s in found} == TWINS  # each twin, one a market
    assert LOOKALIKE not in {s["kalshi_title"] for s in found}  # the Fed in March: another month
    fed = next(s for s in found if "25 bps" in s["polymarket_question"])
    assert fed["said"]["numbers"] == "both name 25" and fed["parts"]["dates"] == 100 and fed["score"] >= 90
    later = next(s for s in found if "Haaland" in s["polymarket_question"])
    assert later["said"]["close"] == "14.0 days apart" and later["parts"]["close"] < 100
    assert all(s["watched"] == "polymarket" for s in found)
    ((pages, listed),) = _rows(desk, "SELECT pages, listed FROM pair_suggestion_runs")
    assert pages >= 1 and listed >= len(TWINS) + 1
    kept = _pairs(desk, "suggest", "--refresh")  # within the hour: Kalshi's listing as kept, not read again
    assert kept.returncode == 0 and "Kalshi's listing as kept" in kept.stderr
    assert _rows(desk, "SELECT pages FROM pair_suggestion_runs ORDER BY id DESC LIMIT 1") == [(0,)]
    reread = _pairs(desk, "suggest", "--refresh", "--reread")
    assert "read page 1 of Kalshi's open markets" in reread.stderr
    shown = _pairs(desk, "suggest").stdout  # as a person reads them
    assert "how: wording" in shown and "pairs accept <id>" in shown


def test_a_kalshi_market_a_strategy_names_is_matched_to_the_polymarket_question(desk: dict[str, str],
                                                                               sim: SimHandle) -> None:
    trump = next(q for q in TWINS if "Trump" in q)
    ticker = str(sim.call(lambda: next(t for t, m in sim.sim.kalshi.exchange.markets.items()
                                       if m.title == TWINS[trump])))
    with sqlite3.connect(desk["TRADER_DB"]) as conn:
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at, updated_at,
                            updated_by) VALUES ('kx', 'market_making', '{}', ?, 0, 1, 0, 0, 't')""",
                     (json.dumps([f"kalshi:{ticker}"]),))
    found = _suggested(desk, "--refresh")
    assert [(s["kalshi"], s["polymarket_question"]) for s in found if s["watched"] == "kalshi"] == [(ticker, trump)]


def test_a_rejected_suggestion_is_not_offered_again_and_an_accepted_one_is_linked_once_confirmed(
        desk: dict[str, str]) -> None:
    found = _suggested(desk, "--refresh")
    haaland = next(s for s in found if "Haaland" in s["polymarket_question"])
    fed = next(s for s in found if "25 bps" in s["polymarket_question"])
    rejected = _pairs(desk, "reject", str(haaland["id"]))
    assert rejected.returncode == 0 and "not offered again" in rejected.stdout
    assert haaland["kalshi"] not in {s["kalshi"] for s in _suggested(desk, "--refresh")}
    assert _rows(desk, "SELECT action, entity FROM audit_log WHERE action = 'pair.reject'") == [
        ("pair.reject", f"pair_suggestions:{haaland['id']}")]
    again = _pairs(desk, "reject", str(haaland["id"]))
    assert again.returncode == 1 and "already rejected" in again.stderr

    unconfirmed = _pairs(desk, "accept", str(fed["id"]))  # no terminal and no --yes: shown, not linked
    assert unconfirmed.returncode == 1 and "not linked" in unconfirmed.stdout + unconfirmed.stderr
    assert "Polymarket rules:" in unconfirmed.stdout and "Kalshi rules:" in unconfirmed.stdout
    assert _rows(desk, "SELECT COUNT(*) FROM venue_pairs") == [(0,)]
    linked = _pairs(desk, "accept", str(fed["id"]), "--yes")
    assert linked.returncode == 0 and "linked as pair 1" in linked.stdout, linked.stdout + linked.stderr
    assert _rows(desk, "SELECT condition_id, kalshi_ticker FROM venue_pairs") == [(fed["polymarket"], fed["kalshi"])]
    assert _rows(desk, "SELECT COUNT(*) FROM audit_log WHERE action = 'pair.add'") == [(1,)]
    assert fed["kalshi"] not in {s["kalshi"] for s in _suggested(desk)}  # paired: suggested no more
    gone = _pairs(desk, "accept", "999")
    assert gone.returncode == 1 and "no open suggestion 999" in gone.stderr
