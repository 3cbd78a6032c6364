"""A Protocol V2 market on the desk, with real engine processes on the strict simulator, in paper
and in live: discovered from Gamma (`version: "v2"`, `positionIds`) and traded like any other
(live, its order is signed for ExchangeV3 and its position read as `CONDITIONAL-V2`); merging it is
refused as "v2: not supported yet", and once it resolves the desk does not try to redeem it but
says so once (`V2_REDEEM_UNSUPPORTED`), and a redeem asked for it is refused with the reason."""

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
PUSD = 1_000_000


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=71, agents=False, maintenance_schedule="off", resolution_delay_s=2) as handle:
        yield handle


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_v2_market_trades_and_what_it_cannot_do_is_refused_with_the_reason(tmp_path: Path, sim: SimHandle,
                                                                             mode: str) -> None:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    cid, position = market["condition_id"], market["yes_token_id"]
    sim.clear_book(cid)
    sim.place_liquidity(position, "BUY", "0.38", "100")
    sim.place_liquidity(position, "SELL", "0.40", "100")
    engine, _ = live_desk(tmp_path, sim, mode=mode, settings={"redeem_check_s": 1, "paper_mined_after_ms": 200})
    try:
        engine.start(wait=False)
        engine.wait_alive(90)
        assert _rows(engine, "SELECT gamma_version, tradable, yes_token FROM markets WHERE condition_id = ?", cid) == [
            ("v2", 1, position)]
        done = engine.run("place_order", {"condition_id": cid, "outcome": "YES", "side": "BUY", "size": 20,
                                          "price": 0.40, "tif": "GTC"}, timeout=30)
        assert done.status == "done", done.error
        wait_until(lambda: _rows(engine, "SELECT settled, pending FROM positions WHERE token_id = ?", position) ==
                   [(20 * PUSD, 0)], 30, interval=0.1, what="the position bought and settled")
        if mode == "live":  # the signed order the ledger keeps: the position id on the wire, the venue's answer
            (payload,) = _rows(engine, "SELECT signed_payload FROM orders WHERE token_id = ?", position)[0]
            assert json.loads(payload)["order"]["tokenId"] == position

        refused = engine.run("merge", {"condition_id": cid}, timeout=20)
        assert refused.status == "failed" and "v2: not supported yet" in (refused.error or "")

        sim.resolve(cid, "YES")
        wait_until(lambda: _rows(engine, "SELECT message FROM alerts WHERE code = 'V2_REDEEM_UNSUPPORTED'"), 40,
                   interval=0.2, what="the alert that a v2 position needs redeeming")
        asked = engine.run("redeem", {"condition_id": cid}, timeout=20)
        assert asked.status == "failed" and "v2: not supported yet" in (asked.error or "")
        assert _rows(engine, "SELECT COUNT(*) FROM claims WHERE status = 'open' AND condition_id = ?", cid) == [(1,)]
        assert _rows(engine, "SELECT COUNT(*) FROM settlement_txs WHERE condition_id = ?", cid) == [(0,)]
        assert _rows(engine, "SELECT COUNT(*) FROM alerts WHERE code = 'V2_REDEEM_UNSUPPORTED'") == [(1,)]
    finally:
        engine.cleanup()
