"""A paper flag per strategy (issue 38): a new strategy starts paper only whatever the desk's mode;
while the desk trades live it trades on paper beside the live strategies, in its own ledger
(alerted once, PAPER_ONLY), and once promoted it quotes live. Promotion is its own act: refused
without its paper record or its name typed, audited when done; going back to paper is one audited
step."""

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
from tests.arming import EVERY_OVERRIDABLE
from tests.helpers import decoded, live_desk, set_book, wait_until

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


def _count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(sql).fetchone()[0])


WORKING = "status IN ('PENDING_SUBMIT', 'LIVE', 'PARTIALLY_FILLED', 'CANCEL_PENDING')"


@pytest.mark.slow
def test_paper_and_live_strategies_trade_side_by_side_until_one_is_promoted(tmp_path: Path, sim: SimHandle) -> None:
    engine, funder = live_desk(tmp_path, sim, mm=(MM, {"filter": {"max_markets": 1}}))
    with sqlite3.connect(engine.db_path) as conn:  # a second strategy, never promoted: paper only
        conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at,
                            updated_at, updated_by, status, live)
                        SELECT 'trial', kind, params, markets, 1, 1, created_at, updated_at, 't', status, 0
                        FROM strategies WHERE name = 'mm'""")
    db = engine.db_path
    try:
        engine.start()
        # Side by side: mm quotes at the venue (the live ledger), trial on the paper venue (the paper ledger).
        wait_until(lambda: _count(db, f"SELECT COUNT(*) FROM orders WHERE mode = 'paper' AND strategy = 'trial' "
                                      f"AND {WORKING}") >= 2, 60, interval=0.5, what="the paper strategy quoting")
        wait_until(lambda: sim.open_order_count(funder) >= 2, 60, interval=0.5, what="the live strategy quoting")
        assert _count(db, "SELECT COUNT(*) FROM orders WHERE strategy = 'trial' AND mode = 'live'") == 0
        assert _count(db, "SELECT COUNT(*) FROM orders WHERE strategy = 'mm' AND mode = 'paper'") == 0
        # at the paper venue, not Polymarket's (its book is written after the order's ledger row)
        wait_until(lambda: _count(db, "SELECT COUNT(*) FROM paper_orders") >= 2, 30, interval=0.2,
                   what="the paper venue's book holding the paper strategy's quotes")
        assert sim.open_order_count(funder) == _count(db, "SELECT COUNT(*) FROM orders WHERE mode = 'live' "
                                                          "AND status = 'LIVE'")
        assert _count(db, "SELECT COUNT(*) FROM cash_ledger WHERE mode = 'paper' AND kind = 'deposit'") == 1
        assert _count(db, "SELECT COUNT(*) FROM alerts WHERE code = 'PAPER_ONLY' AND subject = 'trial' "
                          "AND message LIKE '%on paper beside%'") == 1
        wait_until(lambda: _count(db, "SELECT COUNT(*) FROM portfolio_snapshots WHERE mode = 'paper'") > 0, 60,
                   interval=0.5, what="the paper ledger's equity snapshots")
        with sqlite3.connect(db) as conn:  # promoted: it leaves paper for the venue
            conn.execute("UPDATE strategies SET live = 1, version = version + 1 WHERE name = 'trial'")
        assert engine.run("reload_config").status == "done"
        wait_until(lambda: _count(db, f"SELECT COUNT(*) FROM orders WHERE mode = 'live' AND strategy = 'trial' "
                                      f"AND {WORKING}") >= 2, 60, interval=0.5, what="promoted: quoting live")
        wait_until(lambda: _count(db, f"SELECT COUNT(*) FROM orders WHERE mode = 'paper' AND {WORKING}") == 0, 60,
                   interval=0.5, what="its paper orders cancelled")
        assert engine.run("kill").status == "done"
        wait_until(lambda: sim.open_order_count(funder) == 0, 60, interval=0.5, what="the kill at the venue")
    finally:
        engine.cleanup()


@pytest.mark.slow
def test_paper_leftovers_stay_exitable_on_a_live_desk_with_no_paper_only_strategy(tmp_path: Path,
                                                                                   sim: SimHandle) -> None:
    """What the paper ledger holds when the desk goes live (here a ticket bought on paper) is nobody's
    ledger strategy's: the paper ledger opens for it anyway, so it is valued and its Exit sells it on paper."""
    engine, _ = live_desk(tmp_path, sim, mode="paper")
    market = sim.market(neg_risk=False, index=1)
    set_book(sim, market, ("BUY", "0.40", "500"), ("SELL", "0.45", "500"))
    db = engine.db_path
    try:
        engine.start()
        bought = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                            "size": 20, "price": 0.45, "tif": "FAK"}, timeout=30)
        assert bought.status == "done", bought.error
        wait_until(lambda: _count(db, "SELECT COUNT(*) FROM positions WHERE mode = 'paper' AND settled + pending = "
                                      "20000000") == 1, 30, interval=0.2, what="the paper position")
        assert engine.run("stop", timeout=30).status == "done"
        armed = engine.run("set_mode", {"mode": "live", "override": EVERY_OVERRIDABLE}, timeout=30)
        assert armed.status == "done", armed.error
        assert engine.run("start", timeout=60).status == "done"

        def exit_sells() -> bool:  # the ledger subscribes the leftover's market on its first pass: a price soon
            sold = engine.run("exit", {"strategy": "manual", "condition_id": market["condition_id"],
                                       "outcome": "YES", "ledger": "paper"}, timeout=30)
            if sold.status == "failed" and "holds nothing" in (sold.error or ""):
                return True  # an earlier exit's sale landed after its answer
            assert sold.status == "done", sold.error
            return "no price" not in str(decoded(sold.result)["positions"][0].get("not_sold"))

        wait_until(exit_sells, 30, interval=0.5, what="the leftover's exit selling")
        wait_until(lambda: _count(db, "SELECT COUNT(*) FROM positions WHERE mode = 'paper' AND settled + pending "
                                      "!= 0") == 0, 30, interval=0.2, what="the leftover sold on paper")
        assert _count(db, "SELECT COUNT(*) FROM orders WHERE mode = 'live'") == 0  # nothing of it at the venue
    finally:
        engine.cleanup()
