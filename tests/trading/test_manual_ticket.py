"""The manual order ticket against a real engine process trading paper on the simulator: an
order placed by hand passes the risk gate (refused with its reason when a limit says no),
lands in the `manual` book, is audited, survives a pause (it is the operator's, not a
strategy's) and is cancelled from the Orders page's command."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.command_queue.command_payloads import PayloadError
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, decoded, isolated_env, run_cli, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=37, agents=False) as handle:
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
    answer = decoded(placed.result)
    (order,) = answer["orders"]
    assert order["status"] == "LIVE" and order["size"] == 10_000_000 and order["price"] == 100_000
    named = f"BUY YES in “{market['question']}”"  # the answer names the market and the outcome
    assert (answer["market"], answer["outcome"]) == (market["question"], "YES") and answer["note"].startswith(named)
    assert _rows(engine, "SELECT strategy FROM orders WHERE id = ?", order["id"]) == [("manual",)]
    audit = _rows(engine, "SELECT actor, after FROM audit_log WHERE action = 'order.manual'")
    assert audit and audit[0][0] == "engine" and '"LIVE"' in audit[0][1]

    too_big = engine.run("place_order", {**ticket, "size": 5000}, timeout=20)
    assert too_big.status == "failed" and "MAX_ORDER_SIZE" in too_big.error and "200 shares" in too_big.error
    assert too_big.error.startswith(named)
    assert _rows(engine, "SELECT COUNT(*) FROM orders") == [(1,)]
    crossing = engine.run("place_order", {**ticket, "price": 0.98}, timeout=20)
    assert crossing.status == "failed" and "cross" in crossing.error
    selling = engine.run("place_order", {**ticket, "side": "SELL"}, timeout=20)
    assert selling.status == "failed" and "holds 0 settled shares" in selling.error

    paused = engine.run("pause")
    assert paused.status == "done"
    answer = decoded(paused.result)  # what pause did, in words: the strategies' orders only
    assert answer["withdrawn"] == 0 and "manual orders stay working" in answer["note"]
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
    (order,) = decoded(done.result)["orders"]
    assert order["status"] == "FILLED" and order["filled"] > 0  # a FAK that traded ends FILLED for what traded
    held = _rows(engine, "SELECT settled + pending FROM positions WHERE strategy = 'manual' AND token_id = ?",
                 market["no_token_id"])
    assert held and held[0][0] == order["filled"]


def test_fill_or_kill_and_good_till_date_tickets(engine: EngineProcess, sim: SimHandle) -> None:
    market = _market(sim)
    cid, size = market["condition_id"], int(float(market["min_size"]))
    # FOK, marketable: the book holds the size within the cap, so all of it trades at once.
    fok = {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": size, "slippage": 0.02, "tif": "FOK"}
    filled = engine.run("place_order", fok, timeout=20)
    assert filled.status == "done", filled.error
    (order,) = decoded(filled.result)["orders"]
    assert (order["tif"], order["status"], order["filled"]) == ("FOK", "FILLED", size * 1_000_000)
    # FOK at the best bid, below the ask: nothing would trade at once, so the venue kills it whole.
    book = httpx.get(f"{sim.clob_host}/book", params={"token_id": market["yes_token_id"]}, timeout=5).json()
    best_bid = max(float(level["price"]) for level in book["bids"])
    below = {k: v for k, v in fok.items() if k != "slippage"}
    killed = engine.run("place_order", {**below, "price": best_bid}, timeout=20)
    assert killed.status == "failed" and "not placed" in killed.error and "FOK" in killed.error, killed.error
    # GTD: rests until its expiry, which the venue's clients want at least 180 s ahead.
    expiry = int(time.time()) + 240
    gtd = {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": max(size, 10), "price": 0.1, "tif": "GTD",
           "expires_at": expiry, "post_only": True}
    placed = engine.run("place_order", gtd, timeout=20)
    assert placed.status == "done", placed.error
    (order,) = decoded(placed.result)["orders"]
    assert (order["tif"], order["status"]) == ("GTD", "LIVE")
    ((payload,),) = _rows(engine, "SELECT signed_payload FROM orders WHERE id = ?", order["id"])
    assert json.loads(payload)["expires_at_s"] == expiry  # what went to the venue
    # The venue takes a GTD order off its book a minute before the expiry.
    assert _rows(engine, "SELECT expires_at FROM paper_orders WHERE status = 'LIVE'") == [(expiry * 1000 - 60_000,)]
    too_soon = engine.run("place_order", {**gtd, "expires_at": int(time.time()) + 150}, timeout=20)
    assert too_soon.status == "failed" and "expires_at" in too_soon.error and "180 s ahead" in too_soon.error
    assert engine.run("cancel_order", {"order_id": order["id"]}, timeout=20).status == "done"


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
