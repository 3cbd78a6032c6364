"""How the venue ends orders, met by a real live engine process on the strict simulator: a FOK the
venue kills after a sports market's matching delay ends CANCELED with the venue's own reason on the
order (its `CANCELED_<reason>` status was a crash that dropped the message), and an order the venue
ends MATCHED with rounding dust left, then forgets, is FILLED with no ORDER_UNLISTED or ORDER_GONE
warning however long the desk keeps syncing with the venue."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from py_clob_client_v2 import ClobClient, MarketOrderArgs, OrderType

from engine.execution.cancels import UNLISTED_GRACE_MS
from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, live_desk, set_book, wait_until
from tests.simulator.conftest import PromptClient

pytestmark = pytest.mark.slow
SETTINGS = {"venue_sync_s": 1, "venue_heartbeat_s": 2}
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=83, agents=False, maintenance_schedule="off", sports_delay_s=2.0) as handle:
        yield handle


@pytest.fixture
def engine(tmp_path: Path, sim: SimHandle) -> Iterator[EngineProcess]:
    desk, _ = live_desk(tmp_path, sim, settings=SETTINGS)
    try:
        desk.start()
        wait_until(lambda: desk.status().state == "RUNNING", 60, what="running")
        yield desk
    finally:
        desk.cleanup()


def _rows(engine: EngineProcess, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(engine.db_path, timeout=10) as conn:
        return conn.execute(sql, args).fetchall()


def _ticket(engine: EngineProcess, market: dict[str, Any], price: float, size: int, tif: str) -> int:
    placed = engine.run("place_order", {"condition_id": market["condition_id"], "outcome": "YES", "side": "BUY",
                                        "size": size, "price": price, "tif": tif, "post_only": False}, timeout=30)
    assert placed.status == "done", placed.error
    return int(_rows(engine, "SELECT MAX(id) FROM orders")[0][0])


def _alerts(engine: EngineProcess) -> list[str]:
    return [r[0] for r in _rows(engine, "SELECT code FROM alerts")]


def test_a_fok_the_venue_kills_after_the_delay_ends_cancelled_with_its_reason(engine: EngineProcess,
                                                                               sim: SimHandle) -> None:
    game = next(m for m in sim.markets() if m["sports"])
    set_book(sim, game, ("BUY", "0.49", "50"), ("SELL", "0.5", "20"))
    order_id = _ticket(engine, game, 0.5, 20, "FOK")  # answered "delayed": its fate comes later
    set_book(sim, game, ("BUY", "0.49", "50"), ("SELL", "0.5", "19"))  # one share short when its turn comes
    wait_until(lambda: _rows(engine, "SELECT status FROM orders WHERE id = ?", order_id) == [("CANCELED",)],
               30, 0.1, "the killed FOK")
    [(filled, error)] = _rows(engine, "SELECT filled, error FROM orders WHERE id = ?", order_id)
    assert filled == 0 and error == f"ended by the venue: {FOK_KILLED}"
    assert "ORDER_GONE" not in _alerts(engine)  # the venue said how it ended: nothing to find out
    assert "could not be read" not in engine.log()


def _taker(sim: SimHandle) -> ClobClient:
    """Another trader on the venue (a deposit wallet, as the strict venue wants), answered as the venue
    answers: not waiting for its trades' settlement hashes."""
    client = PromptClient(sim.clob_host, 137, key="0x" + secrets.token_hex(32), signature_type=3,
                        funder=Account.create().address)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def test_an_order_ended_matched_with_rounding_dust_is_filled_without_a_warning(engine: EngineProcess,
                                                                               sim: SimHandle) -> None:
    market = next(m for m in sim.markets() if not m["sports"] and not m["neg_risk"])
    set_book(sim, market, ("BUY", "0.2", "100"), ("SELL", "0.8", "100"))
    order_id = _ticket(engine, market, 0.3, 10, "GTC")
    wait_until(lambda: _rows(engine, "SELECT status FROM orders WHERE id = ?", order_id) == [("LIVE",)], 30, 0.1)
    taker = _taker(sim)
    for budget in (5.99, 1.01):  # buyers of NO at 0.70 mint against our YES bid: 8.557142 + 1.442857 shares
        taker.post_order(taker.create_market_order(
            MarketOrderArgs(token_id=market["no_token_id"], amount=budget, side="BUY", price=0.7)), OrderType.FOK)
    wait_until(lambda: _rows(engine, "SELECT status, filled FROM orders WHERE id = ?", order_id)
               == [("FILLED", 9_999_999)], 30, 0.1, "the order closed as filled")
    [(closed_at,)] = _rows(engine, "SELECT closed_at FROM orders WHERE id = ?", order_id)
    # The venue no longer lists nor knows the order: the desk keeps syncing past the grace after
    # which an order it still thought open would be cancelled "to be sure" and warned about.
    wait_until(lambda: _rows(engine, "SELECT 1 FROM engine_state WHERE heartbeat_at > ?",
                             closed_at + UNLISTED_GRACE_MS + 5_000), 60, 0.5, "the desk running past the grace")
    assert not {"ORDER_UNLISTED", "ORDER_GONE"} & set(_alerts(engine))
    assert _rows(engine, "SELECT status, filled FROM orders WHERE id = ?", order_id) == [("FILLED", 9_999_999)]
