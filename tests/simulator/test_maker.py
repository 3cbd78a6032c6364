"""The agent maker's ladder (simulator/maker.py): a uniform grid a tick apart, a half-spread that
is wider at the tails in relative terms (the longshot premium), tighter in a market listed with
a finer tick, and depth that thins inside the horizon before the close."""

from __future__ import annotations

import math
import random

import pytest

from simulator.accounts import Ledger
from simulator.exchange import Exchange
from simulator.maker import LadderMaker, depth_multiplier
from simulator.market_config import MarketConfig
from simulator.market_payloads import NullSink
from simulator.markets import build_markets
from simulator.orders import ASK, BID
from simulator.participants import OrderWriter
from simulator.trades import TradeLog
from simulator.units import ONE


@pytest.fixture(scope="module")
def venue():
    markets = build_markets(10, random.Random("markets:1"), 0.0, 86_400.0)
    ledger = Ledger(0)
    trades = TradeLog(ledger, NullSink(), random.Random(1), lambda delay, fn: None, 1.0, 2.0, 0.0)
    exchange = Exchange(markets, ledger, trades, NullSink())
    rng = random.Random(2)
    return exchange, LadderMaker(exchange, OrderWriter(exchange, 1, rng), rng, MarketConfig(), 0.5)


def _coarse(exchange):
    return next(m for m in exchange.markets.values() if m.tick == 10_000)


def test_a_ladder_of_ten_levels_a_tick_apart_around_the_belief(venue):
    exchange, maker = venue
    market = _coarse(exchange)
    for fair in (0.5, 0.503, 0.2, 0.8):
        targets = maker.targets(market, fair)
        bids = sorted((p for side, p in targets if side == BID), reverse=True)
        asks = sorted(p for side, p in targets if side == ASK)
        assert len(bids) == len(asks) == 10
        assert all(a - b == market.tick for a, b in zip(bids, bids[1:], strict=False)) and all(
            b - a == market.tick for a, b in zip(asks, asks[1:], strict=False))
        assert bids[0] <= fair * ONE <= asks[0] and bids[0] < asks[0]
        assert [targets[(BID, p)] for p in bids] == list(range(10))  # level 0 is the top of book
    near_one = [p for side, p in maker.targets(market, 0.93) if side == ASK]
    assert max(near_one) == ONE - market.tick and len(near_one) < 10  # never outside the price bounds


def test_the_half_spread_is_wider_at_the_tails_in_relative_terms(venue):
    exchange, maker = venue
    market = _coarse(exchange)
    maker.jitter[market.condition_id] = 1.0
    middle = maker.half_spread(market, 0.5) / 0.5
    assert middle == pytest.approx(0.02)  # 200 bps of the price at 0.5
    for q in (0.2, 0.05, 0.01):
        assert maker.half_spread(market, q) / q == pytest.approx(0.02 * (0.5 / q) ** 0.6)
        assert maker.half_spread(market, 1 - q) == pytest.approx(maker.half_spread(market, q))  # symmetric
    assert maker.half_spread(market, 0.05) / 0.05 > 3 * middle


def test_a_market_listed_with_a_finer_tick_is_quoted_tighter(venue):
    exchange, maker = venue
    fine = next(m for m in exchange.markets.values() if m.tick == 1_000)
    coarse = _coarse(exchange)
    maker.jitter[fine.condition_id] = maker.jitter[coarse.condition_id] = 1.0
    assert maker.half_spread(fine, 0.5) == pytest.approx(maker.half_spread(coarse, 0.5) / 10)


def test_depth_thins_inside_the_horizon():
    assert depth_multiplier(7200, 3600, 0.55) == 1.0
    assert depth_multiplier(36, 3600, 0.55) == pytest.approx(0.01 ** 0.55)
    assert depth_multiplier(0, 3600, 0.55) == 0.0
    assert depth_multiplier(1, math.inf, 0.55) == 1.0  # the calm market never thins
