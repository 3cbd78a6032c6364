"""Filled pairs back to cash (engine/trading/settlement/auto_merge.py): a live engine on the strict simulator
whose strategy holds complete YES+NO sets merges them back into pUSD by itself once they reach
`auto_merge_min_sets` (out of the positions at once, cash when the venue pays, the ledger equal to
the wallet), audited and alerted; below the threshold, or with it off, nothing moves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import wait_until
from tests.trading.test_redemption import PUSD, _desk, _holding_sets, _rows, ledger_cash, start, venue_cash

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=62, agents=False, relayer_delay_s=0.5) as handle:
        yield handle


def test_held_sets_are_merged_back_into_cash_from_the_threshold(tmp_path: Path, sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path / "on", sim, auto_merge_min_sets=10)
    market = sim.market(neg_risk=False, index=2)
    _holding_sets(engine, sim, wallet, market, 20)
    try:
        start(engine)
        wait_until(lambda: _rows(engine, "SELECT amount FROM cash_ledger WHERE kind = 'merge'") == [(20 * PUSD,)],
                   60, interval=0.2, what="the held sets merged and paid")
        assert _rows(engine, "SELECT settled + pending FROM positions WHERE condition_id = ?",
                     market["condition_id"]) == [(0,), (0,)]
        assert ledger_cash(engine) == venue_cash(sim, wallet)
        (audit,) = _rows(engine, "SELECT actor, entity, after FROM audit_log WHERE action = 'merge.auto'")
        assert audit[:2] == ("engine", "strategy:arb") and json.loads(audit[2])["sets"] == "20"
        (alert,) = _rows(engine, "SELECT message FROM alerts WHERE code = 'AUTO_MERGE'")
        assert "strategy 'arb' held 20 complete YES+NO sets" in alert[0]
        assert _rows(engine, "SELECT actor FROM settlement_txs WHERE kind = 'merge'") == [("engine",)]
    finally:
        engine.cleanup()


def test_below_the_threshold_nothing_is_merged(tmp_path: Path, sim: SimHandle) -> None:
    engine, wallet = _desk(tmp_path / "below", sim, auto_merge_min_sets=30)
    market = sim.market(neg_risk=False, index=4)
    _holding_sets(engine, sim, wallet, market, 20)
    try:
        start(engine)
        (began,) = _rows(engine, "SELECT heartbeat_at FROM engine_state WHERE id = 1")[0]
        # Two collections runs (redeem_check_s 5) after the engine began trading.
        wait_until(lambda: _rows(engine, "SELECT 1 FROM engine_state WHERE heartbeat_at > ?", began + 12_000),
                   60, interval=0.2, what="two collections runs")
        assert _rows(engine, "SELECT COUNT(*) FROM settlement_txs WHERE kind = 'merge'") == [(0,)]
        assert _rows(engine, "SELECT settled FROM positions WHERE condition_id = ? ORDER BY outcome",
                     market["condition_id"]) == [(20 * PUSD,), (20 * PUSD,)]
    finally:
        engine.cleanup()
