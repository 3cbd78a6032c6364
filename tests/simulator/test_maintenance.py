"""The matching engine's maintenance window: HTTP 425 on every order-related private endpoint,
then a post-only phase; heartbeat timers stand still meanwhile; weekly and periodic schedules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgs,
    OpenOrderParams,
    OrderArgs,
    OrderMarketCancelParams,
    OrderPayload,
    OrderType,
    PostOrdersV2Args,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from simulator.config import SimConfig
from simulator.maintenance import CLOSED, OPEN, POST_ONLY, Maintenance, weekly_next, weekly_start
from simulator.testing import SimHandle, approved_simulator

from .conftest import FAST, deposit_client, wait_for

POST_ONLY_MODE = "the matching engine is in post-only mode: only post-only orders are accepted"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # The calendar's weekly window must not overlap the hand-started ones of these tests.
    with approved_simulator(seed=41, **{**FAST, "allow_eoa_makers": False, "maintenance_schedule": "off"}) as handle:
        yield handle


@pytest.fixture(autouse=True)
def no_window_left(sim: SimHandle) -> Iterator[None]:
    yield
    sim.end_maintenance()


def _refusal(call: Any) -> tuple[int, Any]:
    with pytest.raises(PolyApiException) as exc:
        call()
    return exc.value.status_code, exc.value.error_msg


def test_the_restart_answers_425_on_trading_endpoints_only(sim):
    m = sim.market(neg_risk=False)
    sim.clear_book(m["condition_id"])
    yes = m["yes_token_id"]
    client, wallet = deposit_client(sim)
    resting = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.3, size=10, side="BUY")))
    order = client.create_order(OrderArgs(token_id=yes, price=0.31, size=10, side="BUY"))
    state = httpx.post(f"{sim.clob_host}/_sim/maintenance", json={"seconds": 30, "post_only_seconds": 30}).json()
    assert state["phase"] == CLOSED and state["window"]["source"] == "manual"
    calls = {
        "POST /order": lambda: client.post_order(order),
        "POST /orders": lambda: client.post_orders([]),
        "DELETE /order": lambda: client.cancel_order(OrderPayload(orderID=resting["orderID"])),
        "DELETE /orders": lambda: client.cancel_orders([resting["orderID"]]),
        "DELETE /cancel-all": client.cancel_all,
        "DELETE /cancel-market-orders": lambda: client.cancel_market_orders(
            OrderMarketCancelParams(market=m["condition_id"])),
        "GET /data/orders": lambda: client.get_open_orders(OpenOrderParams()),
        "GET /data/order": lambda: client.get_order(resting["orderID"]),
        "GET /data/trades": lambda: client.get_trades(TradeParams()),
        "POST /v1/heartbeats": client.post_heartbeat,
    }
    for name, call in calls.items():
        status, body = _refusal(call)
        assert status == 425, name
        assert isinstance(body, dict) and "restarting" in body["error"], name
    # Market data, Gamma, auth and balances keep answering.
    assert client.get_order_book(yes)["bids"] == [{"price": "0.3", "size": "10"}]
    assert httpx.get(sim.gamma_host + "/markets").status_code == 200
    assert client.create_or_derive_api_key().api_key == client.creds.api_key
    balance = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert balance["balance"] == "10000000000"
    sim.end_maintenance()
    assert client.get_order(resting["orderID"])["status"] == "LIVE"  # resting orders survive a restart
    assert sim.open_order_count(wallet) == 1


def test_the_post_only_phase_takes_only_post_only_orders(sim):
    m = sim.market(neg_risk=False, index=1)
    sim.clear_book(m["condition_id"])
    yes = m["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.6", "100")
    client, _ = deposit_client(sim)
    before = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.2, size=10, side="BUY")))
    sim.start_maintenance(seconds=0, post_only_seconds=30)
    assert sim.maintenance()["phase"] == POST_ONLY
    gtc = client.create_order(OrderArgs(token_id=yes, price=0.3, size=10, side="BUY"))
    assert _refusal(lambda: client.post_order(gtc)) == (400, {"error": POST_ONLY_MODE})
    fok = client.create_market_order(MarketOrderArgs(token_id=yes, amount=6, side="BUY", price=0.6))
    assert _refusal(lambda: client.post_order(fok, OrderType.FOK)) == (400, {"error": POST_ONLY_MODE})
    fak = client.create_market_order(MarketOrderArgs(token_id=yes, amount=6, side="BUY", price=0.6))
    assert _refusal(lambda: client.post_order(fak, OrderType.FAK)) == (400, {"error": POST_ONLY_MODE})
    quote = client.post_order(gtc, OrderType.GTC, post_only=True)
    assert quote["status"] == "live"
    expiring = client.create_order(OrderArgs(token_id=yes, price=0.25, size=10, side="BUY",
                                             expiration=int(time.time()) + 3600))
    assert client.post_order(expiring, OrderType.GTD, post_only=True)["status"] == "live"
    crossing = client.create_order(OrderArgs(token_id=yes, price=0.6, size=10, side="BUY"))
    refused = client.post_order(crossing, OrderType.GTC, post_only=True)  # refused inside a 200
    assert (refused["errorMsg"], refused["orderID"]) == ("invalid post-only order: order crosses book", "")
    assert client.cancel_order(OrderPayload(orderID=before["orderID"]))["canceled"] == [before["orderID"]]
    sim.end_maintenance()
    assert client.post_order(client.create_order(
        OrderArgs(token_id=yes, price=0.31, size=10, side="BUY")))["status"] == "live"


def test_a_batch_in_the_post_only_phase_is_refused_item_by_item(sim):
    m = sim.market(neg_risk=False, index=1)
    sim.clear_book(m["condition_id"])
    yes = m["yes_token_id"]
    client, _ = deposit_client(sim)
    sim.start_maintenance(seconds=0, post_only_seconds=30)
    args = [PostOrdersV2Args(order=client.create_order(OrderArgs(token_id=yes, price=p, size=10, side="BUY")),
                             orderType=OrderType.GTC) for p in (0.2, 0.21)]
    first, second = client.post_orders(args[:1], post_only=True)[0], client.post_orders(args[1:])[0]
    assert first["success"] is True
    assert (second["success"], second["errorMsg"]) == (False, POST_ONLY_MODE)


def test_heartbeat_timers_stand_still_during_the_restart_and_restart_in_full(sim):
    m = sim.market(neg_risk=False, index=2)
    sim.clear_book(m["condition_id"])
    client, wallet = deposit_client(sim)
    oid = client.post_order(client.create_order(
        OrderArgs(token_id=m["yes_token_id"], price=0.2, size=15, side="BUY")))["orderID"]
    hb = client.post_heartbeat()["heartbeat_id"]  # the suite's timeout is 1 s
    sim.start_maintenance(seconds=1.5, post_only_seconds=0.5)
    # Polled past the 425 phase: over 1.5 s without a heartbeat, yet none of it counted.
    wait_for(lambda: sim.maintenance()["phase"] == POST_ONLY, timeout=5)
    assert client.get_order(oid)["status"] == "LIVE"
    wait_for(lambda: sim.open_order_count(wallet) == 0, timeout=2.0)  # then a full 1 s timeout runs out
    assert client.get_order(oid) is None  # cancelled, then forgotten as the venue forgets finished orders
    with pytest.raises(PolyApiException):
        client.post_heartbeat(hb)


def test_a_heartbeat_kept_after_the_restart_keeps_the_orders(sim):
    m = sim.market(neg_risk=False, index=2)
    sim.clear_book(m["condition_id"])
    client, wallet = deposit_client(sim)
    client.post_order(client.create_order(OrderArgs(token_id=m["yes_token_id"], price=0.2, size=15, side="BUY")))
    hb = client.post_heartbeat()["heartbeat_id"]
    sim.start_maintenance(seconds=1.2, post_only_seconds=0)
    wait_for(lambda: sim.maintenance()["phase"] == OPEN, timeout=5)  # 1.2 s without a beat, none counted
    assert client.post_heartbeat(hb)["heartbeat_id"] not in ("", hb)  # the same chain, still alive
    assert sim.open_order_count(wallet) == 1


def test_control_api_shows_and_ends_windows(sim):
    assert httpx.get(f"{sim.clob_host}/_sim/maintenance").json()["phase"] == OPEN
    bad = httpx.post(f"{sim.clob_host}/_sim/maintenance", json={"seconds": -1})
    assert bad.status_code == 400 and "seconds" in bad.json()["error"]
    started = httpx.post(f"{sim.clob_host}/_sim/maintenance", json={"seconds": 5, "post_only_seconds": 7}).json()
    window = started["window"]
    assert window["closed_until"] - window["started_at"] == 5000
    assert window["post_only_until"] - window["closed_until"] == 7000
    assert started["schedule"]["kind"] == "off" and started["schedule"]["next_start"] is None
    assert sim.state()["maintenance_phase"] == CLOSED
    ended = httpx.delete(f"{sim.clob_host}/_sim/maintenance").json()
    assert ended["phase"] == OPEN and ended["window"] is None


def test_agents_do_not_trade_while_the_engine_restarts():
    """The agents stepped by hand (their own clock), not left running for a while."""
    with approved_simulator(seed=42, agents=False, prefill_books=True, maintenance_schedule="off") as sim:
        def steps(count: int) -> None:
            for _ in range(count):
                sim.call(sim.sim.agents.step)

        volume = _volume(sim)
        steps(50)  # open: they trade
        assert _volume(sim) > volume
        sim.start_maintenance(seconds=30, post_only_seconds=0)
        volume = _volume(sim)
        steps(200)
        assert _volume(sim) == volume


def _volume(sim: SimHandle) -> float:
    return sum(float(r["volumeNum"]) for r in httpx.get(sim.gamma_host + "/markets").json())


# -- schedules ---------------------------------------------------------------------------------


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp()


def test_weekly_is_tuesday_seven_new_york_time_through_daylight_saving():
    assert weekly_start(_ts("2026-03-03T12:30:00")) == _ts("2026-03-03T12:00:00")  # EST: 12:00 UTC
    assert weekly_start(_ts("2026-03-10T10:59:59")) == _ts("2026-03-03T12:00:00")
    assert weekly_start(_ts("2026-03-10T11:00:00")) == _ts("2026-03-10T11:00:00")  # EDT: 11:00 UTC
    assert weekly_next(_ts("2026-03-10T10:59:59")) == _ts("2026-03-10T11:00:00")
    assert weekly_next(_ts("2026-10-27T11:00:00")) == _ts("2026-11-03T12:00:00")  # back to EST
    now = [_ts("2026-03-10T11:00:00")]
    m = Maintenance("weekly", 90, 120, started_at=0, clock=lambda: now[0])
    phases = []
    for offset in (-1, 0, 89.9, 90, 209.9, 210):
        now[0] = _ts("2026-03-10T11:00:00") + offset
        phases.append(m.phase())
    assert phases == [OPEN, CLOSED, CLOSED, POST_ONLY, POST_ONLY, OPEN]


def test_every_n_seconds_with_a_fake_clock_and_ending_a_scheduled_window_early():
    now = [1000.0]
    m = Maintenance("every:60", 5, 10, started_at=1000.0, clock=lambda: now[0])
    seen: list[tuple[str, str]] = []
    m.listeners.append(lambda old, new: seen.append((old, new)))
    for t in (1000, 1059, 1060, 1064.9, 1065, 1074.9, 1075, 1120, 1125):
        now[0] = float(t)
        m.tick()
    assert seen == [(OPEN, CLOSED), (CLOSED, POST_ONLY), (POST_ONLY, OPEN), (OPEN, CLOSED), (CLOSED, POST_ONLY)]
    assert m.status()["schedule"]["next_start"] == 1180_000
    m.end()
    assert m.phase() == OPEN and seen[-1] == (POST_ONLY, OPEN)
    now[0] = 1180.0
    assert m.phase() == CLOSED  # the next one comes as scheduled


def test_a_periodic_schedule_runs_in_a_live_simulator():
    with approved_simulator(seed=43, **{**FAST, "maintenance_schedule": "every:1.5", "maintenance_seconds": 0.5,
                                       "maintenance_post_only_seconds": 0.5}) as sim:
        client, _ = deposit_client(sim)
        yes = sim.market(neg_risk=False)["yes_token_id"]
        wait_for(lambda: sim.maintenance()["phase"] == CLOSED, timeout=3)
        order = client.create_order(OrderArgs(token_id=yes, price=0.2, size=10, side="BUY"))
        assert _refusal(lambda: client.post_order(order))[0] == 425
        wait_for(lambda: sim.maintenance()["phase"] == POST_ONLY, timeout=2)
        assert _refusal(lambda: client.post_order(order)) == (400, {"error": POST_ONLY_MODE})
        wait_for(lambda: sim.maintenance()["phase"] == OPEN, timeout=2)
        assert client.post_order(order)["status"] == "live"


def test_schedule_settings_are_checked():
    for bad, word in (({"maintenance_schedule": "daily"}, "maintenance_schedule"),
                      ({"maintenance_schedule": "every:100", "maintenance_seconds": 90,
                        "maintenance_post_only_seconds": 20}, "every:N"),
                      ({"maintenance_seconds": -1}, "maintenance_seconds")):
        with pytest.raises(ValueError, match=word):
            SimConfig().with_updates(bad)
    default = SimConfig()
    assert (default.maintenance_schedule, default.maintenance_seconds,
            default.maintenance_post_only_seconds) == ("weekly", 90.0, 120.0)
