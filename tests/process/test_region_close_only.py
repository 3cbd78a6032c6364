"""A close-only region lets the desk sell what it holds (issue 86 item 4): a real live engine on the
strict simulator, whose region answer is moved as the venue's geoblock groups say (simulator/geoblock.py:
open, close-only on the website and the API, blocked outright). Close-only: the venue refuses a BUY for
the region, the desk goes REDUCING (REGION_CLOSE_ONLY), refuses new exposure itself and still sells what
it holds; blocked: the venue refuses the sell too, the desk HALTS (REGION_BLOCKED). Once the region is
open again the desk stays as it is until the operator's Start, which ends it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, set_book, wait_until

pytestmark = pytest.mark.slow
SETTINGS = {"venue_sync_s": 1, "venue_heartbeat_s": 2}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=87, agents=False, maintenance_schedule="off", mined_delay_s=0.2,
                            confirmed_delay_s=0.2) as handle:
        yield handle


def _order(engine: EngineProcess, market: dict[str, Any], side: str, size: int, price: float, tif: str) -> Any:
    return engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": side,
                                      "size": size, "price": price, "tif": tif, "post_only": False}, timeout=30)


def _held(engine: EngineProcess, market: dict[str, Any], column: str = "settled + pending") -> int:
    found = engine.rows(f"SELECT COALESCE(SUM({column}), 0) FROM positions WHERE condition_id = ? "
                  "AND outcome = 'YES'", market["condition_id"])
    return int(found[0][0])


def _state(engine: EngineProcess) -> tuple[str, str | None]:
    status = engine.status()
    return status.trading_state, status.trading_state_reason


def test_close_only_sells_what_is_held_blocked_halts_and_only_start_ends_either(tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = live_desk(tmp_path, sim, settings=SETTINGS)
    market = next(m for m in sim.markets() if not m["sports"] and not m["neg_risk"])
    set_book(sim, market, ("BUY", "0.4", "500"), ("SELL", "0.5", "500"))
    try:
        sim.configure(location="IE")
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 60, what="running")
        assert _order(engine, market, "BUY", 20, 0.5, "FAK").status == "done"  # a position to close later
        wait_until(lambda: _held(engine, market, "settled") == 20_000_000, 30, 0.2, "the position held, settled")

        sim.configure(location="US/NY")  # close-only, on the website and the API
        opening = _order(engine, market, "BUY", 10, 0.3, "GTC")  # sent: the venue refuses it for the region
        assert opening.status == "failed" and "region blocked" in (opening.error or "")
        wait_until(lambda: _state(engine) == ("REDUCING", "REGION_CLOSE_ONLY"), 30, 0.2, "close-only: REDUCING")
        refused = _order(engine, market, "BUY", 10, 0.3, "GTC")  # new exposure: the desk's own gate refuses it
        assert refused.status == "failed" and "TRADING_REDUCING" in (refused.error or "")
        # What it holds, it sells (once a pass has seen the position: a ticket is checked against the last one).
        wait_until(lambda: _order(engine, market, "SELL", 10, 0.4, "FAK").status == "done", 30, 1.0, "a sell")
        wait_until(lambda: _held(engine, market) == 10_000_000, 30, 0.2, "the sell filled while close-only")

        sim.configure(location="IR")  # blocked outright: not even a closing order
        closing = _order(engine, market, "SELL", 5, 0.4, "FAK")
        assert closing.status == "failed" and "region blocked" in (closing.error or "")
        wait_until(lambda: _state(engine) == ("HALTED", "REGION_BLOCKED"), 30, 0.2, "blocked: HALTED")
        assert _held(engine, market) == 10_000_000

        sim.configure(location="IE")  # the venue takes orders again: the desk waits for the operator
        halted = _order(engine, market, "SELL", 5, 0.4, "FAK")
        assert halted.status == "failed" and "TRADING_HALTED" in (halted.error or "")
        assert _state(engine) == ("HALTED", "REGION_BLOCKED")
        assert engine.run("start").status == "done"
        wait_until(lambda: _state(engine) == ("ACTIVE", None), 30, 0.2, "ACTIVE after the operator's Start")
        wait_until(lambda: _order(engine, market, "BUY", 10, 0.3, "GTC").status == "done", 30, 1.0, "a bid placed")
        wait_until(lambda: engine.rows("SELECT status FROM orders ORDER BY id DESC LIMIT 1") == [("LIVE",)], 30,
                   0.2, "a bid resting again")
        codes = {r[0] for r in engine.rows("SELECT code FROM alerts")}
        assert {"REGION_CLOSE_ONLY", "REGION_BLOCKED"} <= codes and "VENUE_REFUSING" not in codes
        assert "ERROR_RATE" not in codes and "Traceback" not in engine.log()
    finally:
        sim.configure(location="IE")
        engine.cleanup()
