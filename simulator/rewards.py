"""Liquidity-reward programs: the daily pools a subset of markets pays to resting liquidity.

A program gives a market a daily pool (pUSD), a max spread (cents from the adjusted midpoint)
and a min size (shares). Every ``reward_sample_s`` (60 s, as the venue samples once a minute)
each program market's resting orders are scored with the venue's published method
(``simulator/reward_scoring.py``, read from the docs apart from the desk's own estimate) and
each maker's share of the sample is added to its day. At each payout (00:00 UTC by default,
every ``reward_period_s`` otherwise, or ``POST /_sim/pay-rewards``) the days close, the pools
are split by those shares, and each real maker whose day's total reaches the minimum (1 pUSD,
as the venue's docs say: "amounts below this will not be paid") is paid from the rewards
treasury, recorded as a ``REWARD`` activity. The synthetic participants score too (they are
the competition) and are never paid.

Which markets run a program: ``reward_markets`` (``default``: every market at an even index
of the simulator's list; ``none``; ``all``; or a list of indexes / condition ids), all with
the same ``reward_pool``, ``reward_max_spread`` and ``reward_min_size``.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eth_utils import keccak

from . import payouts
from .accounts import Ledger
from .activity import ActivityLog
from .book import Book
from .chain import COLLATERAL
from .markets import Market
from .orders import Order
from .payouts import utc_day
from .reward_scoring import cutoff_midpoint, earns, sample_parts, split_pool
from .units import to_micro
from .views import _number

REWARDS_TREASURY = "0x" + keccak(text="simulator-rewards-treasury").hex()[-40:]
PROGRAM_START = "2026-04-28"  # CLOB V2's launch; the programs run "until further notice"
PROGRAM_END = "2500-12-31"  # the venue's own open-ended end date


@dataclass(frozen=True)
class Program:
    """One market's reward program (micro-units)."""

    condition_id: str
    daily_pool: int  # micro-pUSD per UTC day
    max_spread: int  # micro-pUSD of price from the adjusted midpoint (the wire says cents)
    min_size: int  # micro-shares


@dataclass
class Day:
    """One market's scores for one UTC day, until a payout closes it."""

    shares: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # maker -> sum of sample shares
    samples: int = 0
    internal: set[str] = field(default_factory=set)


class Rewards:
    def __init__(self, programs: Iterable[Program], books: dict[str, Book], markets: dict[str, Market],
                 ledger: Ledger, activity: ActivityLog, minimum: int, period_s: float, sample_s: float) -> None:
        self.programs = {p.condition_id: p for p in programs}
        self.books, self.markets = books, markets
        self.ledger, self.activity = ledger, activity
        self.minimum, self.period_s, self.sample_s = minimum, period_s, sample_s
        self.open: dict[tuple[str, str], Day] = {}  # (day, condition id) -> scores still accruing
        self.earned: dict[tuple[str, str, str], int] = {}  # (day, cid, maker) -> paid
        ledger.account(REWARDS_TREASURY, internal=True)

    # -- sampling --------------------------------------------------------------------------

    def sample(self, now: float) -> None:
        """Score every program market's book once (the venue's once-a-minute sample)."""
        day = utc_day(now)
        for cid, program in self.programs.items():
            market = self.markets[cid]
            if market.closed or not market.accepting_orders:
                continue
            orders = list(self.books[cid].orders())
            shares = sample_parts(orders, program.max_spread, program.min_size)
            acc = self.open.setdefault((day, cid), Day())
            acc.samples += 1
            for maker, share in shares.items():
                acc.shares[maker] += share
            acc.internal |= {o.maker_address.lower() for o in orders if o.internal}

    def is_scoring(self, order: Order) -> bool:
        """``/order-scoring``: resting now in a program market, big enough, inside the max spread."""
        program = self.programs.get(order.market.condition_id)
        if program is None or not order.is_open or order.market.closed:
            return False
        mid = cutoff_midpoint(self.books[order.market.condition_id].orders(), program.min_size)
        return earns(order, mid, program.max_spread, program.min_size)

    # -- payouts ---------------------------------------------------------------------------

    def pay(self, *, closing_today: bool = True) -> list[tuple[str, int]]:
        """Close the days (only past ones unless `closing_today`) and pay each real maker whose
        day reaches the minimum; a smaller amount is not paid (the venue's rule). Returns
        (maker, amount) paid."""
        today = utc_day(time.time())
        due: dict[tuple[str, str], int] = defaultdict(int)  # (day, maker) -> total over markets
        for key in [k for k in self.open if closing_today or k[0] < today]:
            day, cid = key
            acc = self.open.pop(key)
            for maker, amount in split_pool(self.programs[cid].daily_pool, acc.shares).items():
                if maker not in acc.internal and amount > 0:
                    due[(day, maker)] += amount
                    self.earned[(day, cid, maker)] = self.earned.get((day, cid, maker), 0) + amount
        paid = []
        for (day, maker), amount in sorted(due.items()):
            if amount < max(self.minimum, 1):
                for forfeited in [k for k in self.earned if k[0] == day and k[2] == maker]:
                    del self.earned[forfeited]  # forfeited: never paid, never listed as earnings
                continue
            payouts.pay(self.ledger, self.activity, REWARDS_TREASURY, maker, amount, "REWARD", "reward")
            paid.append((maker, amount))
        return paid

    def next_payout_in(self, now: float) -> float:
        return payouts.next_payout_in(self.period_s, now)

    # -- what the endpoints answer ---------------------------------------------------------

    def config_json(self, program: Program) -> list[dict[str, Any]]:
        total = program.daily_pool * (datetime.strptime(PROGRAM_END, "%Y-%m-%d")
                                      - datetime.strptime(PROGRAM_START, "%Y-%m-%d")).days
        return [{"id": 0, "asset_address": COLLATERAL, "start_date": PROGRAM_START, "end_date": PROGRAM_END,
                 "rate_per_day": _number(program.daily_pool), "total_rewards": _number(total)}]

    def current_json(self) -> list[dict[str, Any]]:
        """``/rewards/markets/current`` rows: one per open program market."""
        rows = []
        for cid, program in self.programs.items():
            if self.markets[cid].closed:
                continue
            rows.append({"condition_id": cid, "rewards_max_spread": _number(program.max_spread * 100),
                         "rewards_min_size": _number(program.min_size), "rewards_config": self.config_json(program),
                         "sponsored_daily_rate": 0, "sponsors_count": 0,
                         "native_daily_rate": _number(program.daily_pool),
                         "total_daily_rate": _number(program.daily_pool)})
        return rows

    def market_json(self, cid: str) -> list[dict[str, Any]]:
        """``/rewards/markets/{condition_id}`` rows: the market with its program (none: empty)."""
        program, market = self.programs.get(cid), self.markets.get(cid)
        if program is None or market is None:
            return []
        return [{"condition_id": cid, "question": market.question, "market_slug": market.slug,
                 "event_slug": market.group or market.slug, "image": market.icon,
                 "rewards_max_spread": _number(program.max_spread * 100),
                 "rewards_min_size": _number(program.min_size),
                 "tokens": [{"token_id": t.token_id, "outcome": t.outcome} for t in market.tokens],
                 "rewards_config": self.config_json(program)}]

    def earnings(self, day: str, maker: str) -> list[dict[str, Any]]:
        """``/rewards/user``: what a maker was paid for `day`, by market (closed days only)."""
        rate = {cid: p.daily_pool for cid, p in self.programs.items()}
        return [{"date": d, "condition_id": cid, "asset_address": COLLATERAL, "maker_address": who,
                 "earnings": _number(amount), "asset_rate": _number(rate.get(cid, 0))}
                for (d, cid, who), amount in sorted(self.earned.items()) if d == day and who == maker.lower()]

    def total_earnings(self, day: str, maker: str) -> list[dict[str, Any]]:
        """``/rewards/user/total``: the day's earnings summed over markets (empty when none)."""
        rows = self.earnings(day, maker)
        if not rows:
            return []
        total = sum(amount for (d, _, who), amount in self.earned.items() if d == day and who == maker.lower())
        return [{"date": day, "asset_address": COLLATERAL, "maker_address": maker.lower(),
                 "earnings": _number(total), "asset_rate": 1}]


def build_programs(chosen: list[Market], pool: str, max_spread_cents: str, min_size: str) -> list[Program]:
    """The same program on every chosen market (amounts as the config gives them)."""
    spread = to_micro(max_spread_cents) // 100
    return [Program(m.condition_id, to_micro(pool), spread, to_micro(min_size)) for m in chosen]
