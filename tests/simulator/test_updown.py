"""The simulator's short crypto up/down series: each window's market listed ahead under its computed
slug (Up first), charging the venue's crypto fee schedule, traded, and resolved from the simulator's
Chainlink price (a small basis away from the exchange spot) as the venue settles them: on its averages
over the minute before the start and the minute before the end, never on one report; its event carries
the price to beat once the window has opened and the final price once it has ended; the spot served as
OKX's and Binance's public ticker streams, their refusals included."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
import websockets

from simulator.config import SimConfig
from simulator.testing import running_simulator
from tests.helpers import wait_until

pytestmark = pytest.mark.slow


def _gamma(port: int, slug: str) -> list[dict[str, Any]]:
    return httpx.get(f"http://127.0.0.1:{port}/gamma/markets", params={"slug": slug}, timeout=10).json()


async def _okx(port: int, requests: list[str], answers: int) -> list[Any]:
    async with websockets.connect(f"ws://127.0.0.1:{port}/okx/ws/v5/public") as ws:
        for text in requests:
            await ws.send(text)
        got: list[Any] = []
        while len(got) < answers:
            raw = await asyncio.wait_for(ws.recv(), 10)
            got.append(raw if raw == "pong" else json.loads(raw))
        return got


async def _binance(url: str, messages: int) -> list[Any]:
    async with websockets.connect(url) as ws:
        return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(messages)]


def _event(port: int, slug: str, closed: bool = False) -> dict[str, Any]:
    [event] = httpx.get(f"http://127.0.0.1:{port}/gamma/events", params={"slug": slug, "closed": str(closed).lower()},
                        timeout=10).json()
    return event


def test_a_series_window_is_listed_ahead_traded_and_resolved_from_chainlink() -> None:
    # Near a window's close P(Up) is all but 0 or 1 and one side of its book is empty: begin in a fresh window.
    if (time.time() // 300 + 1) * 300 - time.time() < 60:
        wait_until(lambda: (time.time() // 300 + 1) * 300 - time.time() > 290, 70, 0.2, what="the next window")
    with running_simulator(seed=5, updown_series="btc-updown-5m", price_to_beat_delay_s=0) as sim:
        port, updown = sim.sim.port, sim.sim.updown
        start = int(time.time()) // 300 * 300
        [current] = _gamma(port, f"btc-updown-5m-{start}")
        [following] = _gamma(port, f"btc-updown-5m-{start + 300}")  # listed a window ahead
        assert json.loads(current["outcomes"]) == ["Up", "Down"]
        assert current["question"].startswith("Bitcoin Up or Down - ")
        assert current["acceptingOrders"] and following["acceptingOrders"]
        assert current["endDate"].startswith(time.strftime("%Y-%m-%dT%H:%M", time.gmtime(start + 300)))
        fees = httpx.get(f"http://127.0.0.1:{port}/clob-markets/{current['conditionId']}", timeout=10).json()
        assert fees["fd"] == {"r": 0.07, "e": 1, "to": True}  # the venue's crypto schedule
        # Gamma's, as the venue's crypto markets list it (captured Sep 2026): rate, exponent, the makers' rebate
        assert (current["feeType"], current["feeSchedule"]) == (
            "crypto_fees", {"rate": 0.07, "exponent": 1, "rebateRate": 0.2, "takerOnly": True})
        cid = current["conditionId"]
        assert sim.sim.exchange.markets[cid].taker_delay_s == 0.05  # its takers wait the venue's 50 ms
        sim.call(updown.step, time.time())  # quoted around P(Up)
        book = httpx.get(f"http://127.0.0.1:{port}/book", params={"token_id": json.loads(current["clobTokenIds"])[0]},
                         timeout=10).json()
        assert book["bids"] and book["asks"]
        opening = updown.openings[cid]  # Chainlink's average over the minute before the window opened
        oracle, spot = updown.spot.chainlink["btc"], updown.spot.walks["btc"]
        assert opening == oracle.average(start - 60, start)
        assert _event(port, f"btc-updown-5m-{start}")["eventMetadata"] == {"priceToBeat": round(opening, 8)}
        assert "eventMetadata" not in _event(port, f"btc-updown-5m-{start + 300}")  # not open yet
        assert oracle.points[-1][1] != spot.points[-1][1]  # a basis apart
        assert abs(oracle.points[-1][1] / spot.points[-1][1] - 1) < 0.005
        sim.call(updown.step, start + 301.0)  # the window's end has passed
        closing = oracle.average(start + 240, start + 300)  # the average over its last minute
        market = sim.sim.exchange.markets[cid]
        assert market.closed and market.uma_status == "proposed"
        assert closing is not None
        assert market.proposed == ((1_000_000, 0) if closing >= opening else (0, 1_000_000))
        assert _event(port, f"btc-updown-5m-{start}", closed=True)["eventMetadata"] == {
            "priceToBeat": round(opening, 8), "finalPrice": round(closing, 8)}
        assert _gamma(port, f"btc-updown-5m-{start + 600}")  # the next window listed as the clock moved


def _settle_on(updown: Any, cid: str, start: int, path: list[tuple[float, float]]) -> None:
    """Chainlink's reports for BTC replaced by `path` and the window settled at once (one call on the
    simulator's loop: its own once-a-second step cannot come between)."""
    updown.spot.chainlink["btc"].points = list(path)
    updown.openings.pop(cid, None)
    updown.step(start + 301.0)


def test_a_window_settles_on_chainlinks_averages_not_on_its_last_prices() -> None:
    """The minute before the start stood at 100,000 and the start's own report was 100,500; the window's last
    minute stood at 100,050 until its last five seconds at 99,900. Snapshots (100,500 then 99,900) say Down;
    the averages (100,000 then (55 × 100,050 + 5 × 99,900) / 60 = 100,037.5) say Up, and Up it is."""
    with running_simulator(seed=8, updown_series="btc-updown-5m", agents=False, price_to_beat_delay_s=0) as sim:
        port, updown = sim.sim.port, sim.sim.updown
        start = int(time.time()) // 300 * 300
        cid = next(c for c, (_, begin, _) in list(updown.events.items()) if begin == start)
        path = [(start - 200.0 + k, 100_000.0) for k in range(200)]
        path += [(start + k, 100_500.0 if k == 0 else 100_000.0) for k in range(240)]
        path += [(start + 240.0 + k, 100_050.0 if k < 55 else 99_900.0) for k in range(61)]
        sim.call(_settle_on, updown, cid, start, path)
        market = sim.sim.exchange.markets[cid]
        assert market.closed and market.proposed == (1_000_000, 0)  # Up
        assert _event(port, f"btc-updown-5m-{start}", closed=True)["eventMetadata"] == {
            "priceToBeat": 100_000.0, "finalPrice": 100_037.5}


def test_the_spot_is_served_as_okx_and_binance_tickers_and_bad_requests_are_refused() -> None:
    with running_simulator(seed=6, updown_series="eth-updown-15m") as sim:
        port = sim.sim.port
        subscribe = json.dumps({"op": "subscribe", "args": [{"channel": "tickers", "instId": "ETH-USDT"}]})
        wrong = json.dumps({"op": "subscribe", "args": [{"channel": "tickers", "instId": "DOGE-USDT"}]})
        ack, refused, pong, push = asyncio.run(_okx(port, [subscribe, wrong, "ping"], 4))
        assert ack["event"] == "subscribe" and ack["arg"] == {"channel": "tickers", "instId": "ETH-USDT"}
        assert refused["event"] == "error" and refused["code"] == "60018"
        assert pong == "pong"
        assert push["arg"]["instId"] == "ETH-USDT" and float(push["data"][0]["last"]) > 0
        assert int(push["data"][0]["ts"]) > 1_700_000_000_000
        [garbled] = asyncio.run(_okx(port, ["{not json"], 1))
        assert garbled["code"] == "60012"
        combined = asyncio.run(_binance(f"ws://127.0.0.1:{port}/binance/stream?streams=ethusdt@ticker", 1))[0]
        assert combined["stream"] == "ethusdt@ticker"
        assert combined["data"]["e"] == "24hrTicker" and combined["data"]["s"] == "ETHUSDT"
        assert float(combined["data"]["c"]) > 0
        raw = asyncio.run(_binance(f"ws://127.0.0.1:{port}/binance/ws/ethusdt@ticker", 1))[0]
        assert raw["e"] == "24hrTicker"
        unknown = httpx.get(f"http://127.0.0.1:{port}/binance/stream", params={"streams": "dogeusdt@ticker"})
        assert unknown.status_code == 400 and "Invalid symbol" in unknown.json()["msg"]


def test_a_series_name_the_venue_has_not_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="updown_series"):
        SimConfig().with_updates({"updown_series": "doge-updown-5m"})
    with pytest.raises(ValueError, match="updown_series"):
        SimConfig().with_updates({"updown_series": "btc-updown-7m"})
