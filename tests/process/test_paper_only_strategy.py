"""A paper flag per strategy (issue 38): a new strategy starts paper only whatever the desk's mode;
while the desk trades live it decides nothing (alerted once, PAPER_ONLY), and once promoted it
quotes live. Promotion is its own act: refused without its paper record or its name typed, audited
when done; going back to paper is one audited step."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.desk import config
from storage.desk.config import ConfigError
from storage.desk.strategy_lifecycle import set_strategy_live
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import live_desk, wait_until

MM = {"size": 20, "half_spread": 0.03, "max_spread": 0.9}


def test_a_new_strategy_is_paper_only_and_promotion_is_deliberate(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    saved = config.create_strategy(db, name="fresh", kind="market_making", params=MM, markets=[], enabled=True,
                                   actor="t")
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT live FROM strategies WHERE name = 'fresh'").scalar() == 0
    with pytest.raises(ConfigError, match="type the strategy's name"):
        set_strategy_live(db, name="fresh", version=saved.version, live=True, typed="", actor="t")
    with pytest.raises(ConfigError, match="has not traded in paper yet"):
        set_strategy_live(db, name="fresh", version=saved.version, live=True, typed="fresh", actor="t")
    with db.write() as conn:  # a paper fill of its own: an order, and what filled it
        conn.exec_driver_sql("""INSERT INTO orders (id, client_id, venue_order_id, mode, strategy, condition_id,
                                    token_id, outcome, side, price, size, filled, tif, status, status_rank, created_at,
                                    updated_at) VALUES (1, 'c1', 'v1', 'paper', 'fresh', '0xc', 'y', 'YES', 'BUY',
                                    500000, 5000000, 5000000, 'GTC', 'FILLED', 100, 1, 1)""")
        conn.exec_driver_sql("""INSERT INTO fills (trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                    side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                                VALUES ('t1', 1, 'paper', 'fresh', '0xc', 'y', 'YES', 'BUY', 500000, 5000000, 0,
                                        'MAKER', 'CONFIRMED', 30, 1, 1)""")
    promoted = set_strategy_live(db, name="fresh", version=saved.version, live=True, typed="fresh", actor="t")
    set_strategy_live(db, name="fresh", version=promoted.version, live=False, typed="", actor="t")
    with db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql(
            "SELECT action FROM audit_log WHERE entity = 'strategy:fresh' ORDER BY id")]
        assert conn.exec_driver_sql("SELECT live FROM strategies WHERE name = 'fresh'").scalar() == 0
    assert actions == ["strategy.create", "strategy.promote", "strategy.demote"]
    db.dispose()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=49, agents=False) as handle:
        yield handle


@pytest.mark.slow
def test_a_paper_only_strategy_stays_out_of_a_live_desk_until_promoted(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mm=(MM, {"filter": {"max_markets": 1}}))
    with sqlite3.connect(engine.db_path) as conn:
        conn.execute("UPDATE strategies SET live = 0 WHERE name = 'mm'")
    try:
        engine.start()

        def alerted() -> bool:
            with sqlite3.connect(engine.db_path) as conn:
                return bool(conn.execute("SELECT COUNT(*) FROM alerts WHERE code = 'PAPER_ONLY' "
                                         "AND subject = 'mm'").fetchone()[0])
        wait_until(alerted, 60, interval=0.5, what="the paper-only alert")
        assert sim.open_order_count(funder) == 0  # it decided nothing, live
        with sqlite3.connect(engine.db_path) as conn:
            conn.execute("UPDATE strategies SET live = 1, version = version + 1 WHERE name = 'mm'")
        assert engine.run("reload_config").status == "done"
        wait_until(lambda: sim.open_order_count(funder) >= 2, 60, interval=0.5, what="promoted: quoting live")
    finally:
        engine.cleanup()
