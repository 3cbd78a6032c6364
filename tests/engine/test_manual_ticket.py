"""The manual order ticket against a real engine process trading paper on the simulator: an
order placed by hand passes the risk gate (refused with its reason when a limit says no),
lands in the `manual` book, is audited, survives a pause (it is the operator's, not a
strategy's) and is cancelled from the Orders page's command."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, running_simulator
from storage.command_payloads import PayloadError
from storage.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=37, agents=False) as handle:
        yield handle


@pytest.fixture
def engine(tmp_path: Path, sim: SimHandle) -> Iterator[EngineProcess]:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    migrate(Path(env["TRADER_DB"]))
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        conn.execute("UPDATE engine_state SET desired_state = 'RUNNING'")
    proc = EngineProcess(tmp_path, env)
    try:
        proc.start()
        yield proc
    finally:
        proc.cleanup()


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql, args).fetchall()


def _market(sim: SimHandle) -> dict[str, Any]:
    return sim.market(neg_risk=False)


def test_a_ticket_is_checked_placed_audited_kept_over_a_pause_and_cancelled(engine: EngineProcess,
                                                                            sim: SimHandle) -> None:
    market = _market(sim)
    ticket = {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY", "size": 10,
              "price": 0.1, "tif": "GTC", "post_only": True}
    placed = engine.run("place_order", ticket, timeout=20)
    assert placed.status == "done", placed.error
    (order,) = json.loads(placed.result)["orders"]
    assert order["status"] == "LIVE" and order["size"] == 10_000_000 and order["price"] == 100_000
    assert _rows(engine, "SELECT strategy FROM orders WHERE id = ?", order["id"]) == [("manual",)]
    audit = _rows(engine, "SELECT actor, after FROM audit_log WHERE action = 'order.manual'")
    assert audit and audit[0][0] == "engine" and '"LIVE"' in audit[0][1]

    too_big = engine.run("place_order", {**ticket, "size": 5000}, timeout=20)
    assert too_big.status == "failed" and "MAX_ORDER_SIZE" in too_big.error and "200 shares" in too_big.error
    assert _rows(engine, "SELECT COUNT(*) FROM orders") == [(1,)]
    crossing = engine.run("place_order", {**ticket, "price": 0.98}, timeout=20)
    assert crossing.status == "failed" and "cross" in crossing.error
    selling = engine.run("place_order", {**ticket, "side": "SELL"}, timeout=20)
    assert selling.status == "failed" and "holds 0 settled shares" in selling.error

    assert engine.run("pause").status == "done"
    assert _rows(engine, "SELECT status FROM orders WHERE id = ?", order["id"]) == [("LIVE",)]
    cancel = engine.run("cancel_order", {"order_id": order["id"]}, timeout=20)
    assert cancel.status == "done", cancel.error
    wait_until(lambda: _rows(engine, "SELECT status FROM orders WHERE id = ?", order["id"]) == [("CANCELED",)],
               10, what="the manual order cancelled")


def test_a_marketable_buy_sized_in_usdc_lands_in_the_manual_book(engine: EngineProcess, sim: SimHandle) -> None:
    market = _market(sim)
    done = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "NO", "side": "BUY",
                                      "size_usdc": 5, "slippage": 0.02, "tif": "FAK"}, timeout=20)
    assert done.status == "done", done.error
    (order,) = json.loads(done.result)["orders"]
    assert order["status"] == "FILLED" and order["filled"] > 0  # a FAK that traded ends FILLED for what traded
    held = _rows(engine, "SELECT settled + pending FROM positions WHERE strategy = 'manual' AND token_id = ?",
                 market["no_token_id"])
    assert held and held[0][0] == order["filled"]


def test_bad_tickets_are_refused_before_or_by_the_engine(engine: EngineProcess, sim: SimHandle) -> None:
    market = _market(sim)
    with pytest.raises(PayloadError, match="must be one of YES, NO"):
        engine.post("place_order", {"condition_id": market["condition_id"], "outcome": "MAYBE", "side": "BUY",
                                    "size": 10, "price": 0.5})
    cli = run_cli(["command", "place_order", json.dumps({"condition_id": "x", "side": "BUY", "size": 1})],
                  engine.env)
    assert cli.returncode == 2 and "needs 'outcome'" in cli.stderr  # nothing queued
    both = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                      "size": 10, "size_usdc": 5, "price": 0.5})
    assert both.status == "failed" and "size:" in both.error
    gtd = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                     "size": 10, "price": 0.02, "tif": "GTD", "expires_at": 1})
    assert gtd.status == "failed" and "expires_at" in gtd.error
    unknown = engine.run("place_order", {"condition_id": "0xnope", "outcome": "YES", "side": "BUY", "size": 10,
                                         "price": 0.5})
    assert unknown.status == "failed" and "not open for orders" in unknown.error
