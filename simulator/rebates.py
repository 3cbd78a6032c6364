"""Maker rebates: a share of taker fees paid back to the makers whose liquidity was taken.

Polymarket's Maker Rebates Program (docs.polymarket.com, "Maker Rebates Program"): a market's
taker fees fund a pool, the share of its category (its Gamma ``feeSchedule.rebateRate``:
fees.py ``rebate_share_ppm``, 20 % crypto, 15 % sports, 25 % the others), shared
among that market's makers "fee-curve weighted" (by the fee-equivalent of their filled
liquidity: ``shares * r * (p * (1 - p)) ** e`` at each fill's price), paid daily in USDC,
and only once a maker's accrued rebate reaches 1 USDC (less waits for a later day).

Here: every trade that reaches CONFIRMED adds its taker fee (times the share) to its
market's pool for the UTC day, and each maker leg's fee-equivalent to that maker's weight
(the synthetic participants weigh in, and are never paid). At each payout (00:00 UTC by
default, every ``rebate_period_s`` otherwise, or ``POST /_sim/pay-rebates``) the pools close,
each real maker's share is floored to a micro-unit and owed; an owed total of at least the
minimum is paid from the fee collector and recorded as a ``MAKER_REBATE`` activity.
``GET /rebates/current?date=&maker_address=`` lists a maker's rebated fees of a day by market.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import payouts
from .accounts import Ledger
from .activity import ActivityLog
from .chain import COLLATERAL
from .fees import FEE_COLLECTOR, rebate_share_ppm
from .markets import Market
from .payouts import utc_day
from .trades import Trade
from .units import ONE, fmt

PPM = 1_000_000


@dataclass
class Pool:
    """One market's rebate pool for one UTC day (until a payout closes it)."""

    market: Market
    day: str
    funded: int = 0  # micro-pUSD times PPM: the taker fees times the share, exact
    weights: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # maker -> fee-equivalent
    internal: set[str] = field(default_factory=set)

    def shares(self) -> dict[str, int]:
        """Each real maker's rebate, floored to a micro-unit."""
        total = sum(self.weights.values())
        if not total or not self.funded:
            return {}
        return {maker: self.funded * weight // (total * PPM) for maker, weight in self.weights.items()
                if maker not in self.internal and weight}


class Rebates:
    def __init__(self, ledger: Ledger, activity: ActivityLog, minimum: int, period_s: float) -> None:
        self.ledger = ledger
        self.activity = activity
        self.minimum = minimum
        self.period_s = period_s
        self.open: dict[tuple[str, str], Pool] = {}  # (day, condition id) -> pool still accruing
        self.owed: dict[str, int] = defaultdict(int)  # maker -> rebates earned, not yet paid
        self.rebated: dict[tuple[str, str, str], int] = defaultdict(int)  # (day, cid, maker) -> earned

    def on_confirmed(self, trade: Trade) -> None:
        """A final trade: its fee funds the pool, its makers' legs weigh in it."""
        market = trade.market
        if not trade.fee or market.fee_rate <= 0:
            return
        pool = self.open.get((utc_day(trade.match_time), market.condition_id))
        if pool is None:
            pool = self.open[(utc_day(trade.match_time), market.condition_id)] = Pool(market, utc_day(trade.match_time))
        pool.funded += trade.fee * rebate_share_ppm(market)
        for leg in trade.makers:
            maker = leg.order.maker_address.lower()
            pool.weights[maker] += leg.size * market.fee_rate * (leg.price * (ONE - leg.price)) ** market.fee_exponent
            if leg.order.internal:
                pool.internal.add(maker)

    def pay(self, *, closing_today: bool = True) -> list[tuple[str, int]]:
        """Close the pools (only past days' unless `closing_today`), then pay every maker owed
        at least the minimum; returns (maker, amount) paid."""
        today = utc_day(time.time())
        for key in [k for k in self.open if closing_today or k[0] < today]:
            pool = self.open.pop(key)
            for maker, amount in pool.shares().items():
                self.owed[maker] += amount
                self.rebated[(pool.day, pool.market.condition_id, maker)] += amount
        paid = []
        for maker, amount in list(self.owed.items()):
            if amount < self.minimum or amount <= 0:
                continue  # accrues until a later payout reaches the minimum
            del self.owed[maker]
            payouts.pay(self.ledger, self.activity, FEE_COLLECTOR, maker, amount, "MAKER_REBATE", "rebate")
            paid.append((maker, amount))
        return paid

    def next_payout_in(self, now: float) -> float:
        return payouts.next_payout_in(self.period_s, now)

    def current(self, day: str, maker: str) -> list[dict[str, Any]] | None:
        """``GET /rebates/current``: a maker's rebated fees of `day`, by market (null when none,
        as the venue answers a maker without rebates)."""
        found = [{"date": day, "condition_id": cid, "asset_address": COLLATERAL,
                  "maker_address": maker, "rebated_fees_usdc": fmt(amount)}
                 for (d, cid, who), amount in sorted(self.rebated.items()) if d == day and who == maker.lower()]
        return found or None
