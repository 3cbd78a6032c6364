"""One hostile rate-limit header stops no order (issue 86 item 3): a real live engine on the strict
simulator, its placements answered `Poly-RateLimit-Remaining: -1000000000` (the simulator's
`hostile_ratelimit_s`, the requests evaluated as usual), keeps placing through the operator's order
path, at its own bounded pace; `engine status` names the header and an alert is raised meanwhile; once
the venue answers sane counts again the desk places as before and the condition is gone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, run_cli, set_book, wait_until

pytestmark = pytest.mark.slow
SETTINGS = {"venue_sync_s": 1, "venue_heartbeat_s": 2}
HEADER = "rate_limit_header_bounded"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=86, agents=False, maintenance_schedule="off") as handle:
        yield handle


def _bid(engine: EngineProcess, market: dict[str, Any], price: float) -> int:
    placed = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                        "size": 20, "price": price, "tif": "GTC", "post_only": True}, timeout=30)
    assert placed.status == "done", placed.error
    return int(engine.rows("SELECT MAX(id) FROM orders")[0][0])


def _live(engine: EngineProcess, order_id: int) -> bool:
    return engine.rows("SELECT status FROM orders WHERE id = ?", order_id) == [("LIVE",)]


def _conditions(engine: EngineProcess) -> set[str]:
    return {str(c["code"]) for c in engine.status().venue_conditions}


def test_a_hostile_remaining_header_holds_no_order_and_is_said_until_sane_answers_return(
        tmp_path: Path, sim: SimHandle) -> None:
    engine, _ = live_desk(tmp_path, sim, settings=SETTINGS)
    market = next(m for m in sim.markets() if not m["sports"] and not m["neg_risk"])
    set_book(sim, market, ("BUY", "0.2", "100"), ("SELL", "0.8", "100"))
    try:
        engine.start()
        wait_until(lambda: engine.status().state == "RUNNING", 60, what="running")
        sim.set_faults(hostile_ratelimit_s=600)  # every per-signer count from now on: -1000000000
        first = _bid(engine, market, 0.10)
        wait_until(lambda: _live(engine, first), 30, 0.1, "the first bid answered")
        assert sim.set_faults()["stats"]["hostile_ratelimit"] >= 1  # its answer carried the hostile count
        # Read as it stood, that count would empty the order bucket for ~320 days: the next bid would wait.
        second = _bid(engine, market, 0.11)
        wait_until(lambda: _live(engine, second), 30, 0.1, "the second bid placed while the header lies")
        wait_until(lambda: HEADER in _conditions(engine), 30, 0.2, "engine status naming the header")
        said = run_cli(["status"], engine.env).stdout
        assert "rate limit header bounded" in said and "-1000000000" in said and "read as -60" in said, said
        assert engine.rows("SELECT level FROM alerts WHERE code = 'VENUE_RATE_LIMIT_HEADER'") == [("warning",)]

        sim.set_faults(hostile_ratelimit_s=0)  # sane answers again
        third = _bid(engine, market, 0.12)
        wait_until(lambda: _live(engine, third), 30, 0.1, "a bid placed once the venue answers sanely")
        wait_until(lambda: HEADER not in _conditions(engine), 30, 0.2, "the condition gone with a sane count")
        assert engine.rows("SELECT COUNT(*) FROM orders WHERE status = 'PENDING_SUBMIT'") == [(0,)]
        assert sim.open_order_count(engine.env["POLY_FUNDER"]) == 3
        assert "Traceback" not in engine.log()
    finally:
        sim.clear_faults()
        engine.cleanup()
