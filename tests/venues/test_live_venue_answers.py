"""Every venue answer understood, with real live engine processes on the strict simulator: trades
in every REST status (TRADE_STATUS_MATCHED_NOT_BROADCASTED, ..._RETRYING, ..._FAILED) reconcile
at start-up and after each user-channel reconnect without an error line; a refusal inside an HTTP
200 is REJECTED at once; a tick size change (its old tick sent as "") moves the quotes onto the new
grid at once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, wait_until

pytestmark = pytest.mark.slow
TERMINAL = ("CONFIRMED", "FAILED")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=81, agents=False) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path) as conn:
        return conn.execute(sql, args).fetchall()


def _bad_lines(engine: EngineProcess) -> list[str]:
    """Log lines at ERROR or worse, and the reconcile's own failure warnings."""
    bad = []
    for line in engine.log().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            bad.append(line)  # a traceback or anything else outside the log format
            continue
        if record.get("level") in ("ERROR", "CRITICAL") or "reconcile" in str(record.get("msg", "")) and \
                "failed" in str(record.get("msg", "")) or "unknown trade status" in str(record.get("msg", "")):
            bad.append(line)
    return bad


def test_trades_in_every_rest_status_reconcile_without_an_error_line(tmp_path: Path) -> None:
    """REST reads every matched trade as MATCHED_NOT_BROADCASTED first; some are RETRYING, some end
    FAILED. The engine restarts while they settle (start-up recovery reads them over REST) and its
    user channel is dropped every second (each reconnect reconciles over REST)."""
    # Slow enough to settle that the restart and the reconnects find them still matched or retrying.
    rules: dict[str, Any] = dict(agents=False, not_broadcasted_rate=1.0, retrying_rate=0.5, fail_rate=0.3,
                                 mined_delay_s=4.0, confirmed_delay_s=2.0)
    with approved_simulator(seed=82, **rules) as venue:
        market = venue.market(neg_risk=False, index=1)
        venue.clear_book(market["condition_id"])
        venue.place_liquidity(market["yes_token_id"], "SELL", "0.5", "400")
        venue.place_liquidity(market["yes_token_id"], "BUY", "0.45", "400")
        engine, _ = live_desk(tmp_path, venue)
        try:
            engine.start()
            wait_until(lambda: engine.status().state == "RUNNING", 30, what="running")
            ticket = {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY", "size": 10,
                      "price": 0.5, "tif": "FAK"}
            for _ in range(8):
                placed = engine.run("place_order", ticket, timeout=30)
                assert placed.status == "done", placed.error
            venue.set_faults(ws_drop_every_s=1.0)  # while they settle: reconnect, reconcile, again
            # A placement's answer can come before its fill's report is applied: poll for the rows.
            wait_until(lambda: len(_rows(engine, "SELECT trade_id FROM fills")) >= 8, 30, what="8 fills booked")
            trade_ids = [r[0] for r in _rows(engine, "SELECT trade_id FROM fills")]
            assert len(trade_ids) == 8
            engine.terminate()  # restart while they settle: recovery reads them over REST
            engine.start()
            wait_until(lambda: engine.status().state == "RUNNING", 30, what="running again")
            wait_until(lambda: all(venue.trade(t)["status"] in TERMINAL for t in trade_ids), 60, interval=0.5,
                       what="settlement at the venue")
            final = {t: venue.trade(t)["status"] for t in trade_ids}
            wait_until(lambda: dict(_rows(engine, "SELECT trade_id, status FROM fills")) == final, 60, interval=0.5,
                       what="the ledger agreeing with the venue")
            flags = venue.call(lambda: [(venue.sim.trades.by_id[t].will_retry, venue.sim.trades.by_id[t].will_fail)
                                        for t in trade_ids])
        finally:
            venue.clear_faults()
            engine.cleanup()
    assert any(retry for retry, _ in flags) and any(fail for _, fail in flags) and not all(f for _, f in flags)
    assert _bad_lines(engine) == []
    with sqlite3.connect(engine.db_path) as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM alerts")]
    assert "EVENT_FAILED" not in codes and codes.count("FILL_FAILED") == sum(f for _, f in flags)


def test_a_refusal_inside_a_200_is_rejected_at_once(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=2)
    sim.clear_book(market["condition_id"])
    engine, funder = live_desk(tmp_path, sim)
    try:
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 30, what="running")
        sim.set_faults(refuse_in_body_rate=1.0)
        try:
            refused = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES",
                                                 "side": "BUY", "size": 20, "price": 0.1, "tif": "GTC",
                                                 "post_only": True}, timeout=30)
        finally:
            sim.clear_faults()
        assert refused.status == "failed" and "could not be processed" in refused.error
        ((status, error, rank),) = _rows(engine, "SELECT status, error, status_rank FROM orders")
        assert (status, rank) == ("REJECTED", 100) and "could not be processed" in error
        assert sim.open_order_count(funder) == 0
        assert sim.call(lambda: sim.sim.faults.stats["refused_in_body"]) == 1  # one send, refused once
    finally:
        engine.cleanup()


def test_a_tick_change_moves_the_quotes_onto_the_new_grid_at_once(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=3)
    cid = market["condition_id"]
    sim.set_tick_size(cid, "0.001")  # quoting on the fine grid...
    engine, funder = live_desk(tmp_path, sim, mm=({"size": 20, "half_spread": 0.0325, "max_spread": 0.9},
                                                  [cid]))

    def resting() -> list[int]:
        return sim.call(lambda: [o.price for o in sim.sim.exchange.open_orders_of_address(funder)])

    try:
        engine.start()
        wait_until(lambda: len(resting()) >= 2 and any(p % 10_000 for p in resting()), 40,
                   what="quotes between two 0.01 ticks")
        sim.set_tick_size(cid, "0.01", old_tick_size="")  # ...until the venue coarsens it, the old tick left out
        wait_until(lambda: len(resting()) >= 2 and all(p % 10_000 == 0 for p in resting()), 15, interval=0.2,
                   what="every quote on the new 0.01 grid")
        refused = _rows(engine, "SELECT detail FROM decisions WHERE reason = 'VENUE_REFUSED'")
        assert not [d for (d,) in refused if "tick" in str(d).lower()]
        assert _rows(engine, "SELECT tick FROM markets WHERE condition_id = ?", cid) == [(10_000,)]
    finally:
        engine.cleanup()
        sim.set_tick_size(cid, market["tick_size"])
