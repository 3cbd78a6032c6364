"""Liquidity rewards on the desk: which resting orders score, what they should earn, what was paid.

Every `reward_sample_s` (60 s, the venue's own sampling) the core's job:

1. reads the venue's reward programs (`GET /rewards/markets/current`, public, paginated) every
   `PROGRAMS_EVERY_MS` into `reward_programs`;
2. scores the desk's resting orders in program markets with the venue's published method
   (contracts/reward_scoring.py, the function the simulator pays with): each order
   scores when it is at least the min size and inside the max spread of the size-cutoff-adjusted
   midpoint. The desk's share of the sample is its Q_min against the rest of the visible book,
   which is counted as one other maker quoting both sides (the book does not say whose orders
   it holds, so the estimate assumes the strongest competition). Live, the desk's own orders
   are taken out of the visible book first; paper orders were never in it;
3. adds the share to the day of each (market, strategy) — split among strategies by the raw
   score of their own orders — and estimates the day's reward as the pool times the summed
   share over a full day of samples;
4. live, asks the venue whether each order is scoring (`are_orders_scoring`) and records its
   answer beside the desk's;
5. once a UTC day has ended, records what was paid: live, the venue's earnings for that day
   (`get_earnings_for_user_for_day`), split among strategies by their estimates; paper, the
   estimate itself when the desk's day reaches the venue's 1 pUSD minimum (nothing below it).
   The paper venue then pays it as cash; live, the venue's REWARD activity is booked as cash
   (engine/execution/credits.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from contracts.domain import ONE, Book, to_micros
from contracts.reward_scoring import ASK, BID, Quote, adjusted_midpoint, order_score, sample_shares, scores_now
from storage.engine_stores import reward_queries as rq
from storage.sqlite.db import Database

log = logging.getLogger("engine.rewards")
DESK, BOOK = "desk", "book"
PROGRAMS_EVERY_MS = 600_000
PAYOUT_MINIMUM = 1_000_000  # the venue pays no day under 1 pUSD


class RewardsVenue(Protocol):
    """What a live venue answers about rewards (the desk venue's adapter)."""

    async def orders_scoring(self, venue_order_ids: Sequence[str]) -> dict[str, bool]: ...

    async def reward_earnings(self, day: str) -> dict[str, int]: ...


def yes_quote(order: rq.RestingOrder) -> Quote:
    """An order in the YES price space: a BUY NO at p is an ask at 1 - p, a SELL NO a bid."""
    if order.outcome == "YES":
        return Quote(str(order.id), order.strategy, BID if order.side == "BUY" else ASK, order.price, order.remaining)
    return Quote(str(order.id), order.strategy, ASK if order.side == "BUY" else BID, ONE - order.price,
                 order.remaining)


def others(book: Book | None, own: Iterable[Quote], own_in_book: bool) -> list[Quote]:
    """The visible YES book as one other maker's quotes, less the desk's own where they rest in it."""
    if book is None:
        return []
    mine: dict[tuple[str, int], int] = defaultdict(int)
    if own_in_book:
        for quote in own:
            mine[(quote.yes_side, quote.price)] += quote.size
    out = []
    for side, levels in ((BID, book.bids), (ASK, book.asks)):
        for level in levels:
            size = level.size - mine[(side, level.price)]
            if size > 0:
                out.append(Quote(f"{BOOK}:{side}:{level.price}", BOOK, side, level.price, size))
    return out


@dataclass(frozen=True)
class MarketSample:
    """One market's sample: each desk order's scoring, and each strategy's share (10^12 parts)."""

    scoring: dict[int, bool]
    shares: dict[str, int]


def score_market(orders: Sequence[rq.RestingOrder], book: Book | None, program: rq.ProgramRow,
                 own_in_book: bool) -> MarketSample:
    """Score the desk's orders in one program market against the visible book."""
    own = [yes_quote(o) for o in orders]
    everyone = own + others(book, own, own_in_book)
    mid = adjusted_midpoint(everyone, program.min_size)
    scoring = {o.id: scores_now(q, mid, program.max_spread, program.min_size)
               for o, q in zip(orders, own, strict=False)}
    as_desk = [Quote(q.order_id, DESK, q.yes_side, q.price, q.size) for q in own] + everyone[len(own):]
    desk_share = sample_shares(as_desk, program.max_spread, program.min_size).get(DESK, 0)
    raw: dict[str, Any] = defaultdict(int)
    for order, quote in zip(orders, own, strict=False):
        if scoring[order.id] and mid is not None:
            raw[order.strategy] += order_score(program.max_spread, abs(quote.price - mid)) * quote.size
    total = sum(raw.values())
    shares = {s: int(desk_share * r / total) for s, r in raw.items()} if total and desk_share else {}
    return MarketSample(scoring, shares)


def split_paid(paid: int, estimates: Mapping[str, int]) -> dict[str, int]:
    """A market's paid reward split among strategies by their estimates (equally without any);
    the rounding remainder goes to the largest estimate, so the parts add up to what was paid."""
    if not estimates:
        return {DESK: paid} if paid else {}
    total = sum(estimates.values())
    parts = ({s: paid * e // total for s, e in estimates.items()} if total
             else {s: paid // len(estimates) for s in estimates})
    top = max(estimates, key=lambda s: (estimates[s], s))
    parts[top] += paid - sum(parts.values())
    return parts


def program_rows(items: Iterable[Any]) -> list[rq.ProgramRow]:
    """`/rewards/markets/current` rows as programs (max spread from cents, min size in shares)."""
    rows = []
    for item in items:
        if not isinstance(item, dict) or not item.get("condition_id"):
            continue
        try:
            pool = to_micros(item.get("total_daily_rate") or item.get("native_daily_rate") or 0)
            spread = to_micros(item.get("rewards_max_spread") or 0) // 100
            size = to_micros(item.get("rewards_min_size") or 0)
        except ValueError:
            log.warning("unreadable reward program", extra={"condition_id": item.get("condition_id")})
            continue
        if pool > 0 and spread > 0:
            rows.append(rq.ProgramRow(str(item["condition_id"]), pool, spread, size))
    return rows


@dataclass
class RewardTracker:
    db: Database
    clock: Callable[[], int]
    sample_s: int = 60
    programs_at: int = field(default=-PROGRAMS_EVERY_MS)

    @property
    def samples_per_day(self) -> int:
        return max(1, 86_400 // self.sample_s)

    async def refresh_programs(self, fetch_page: Callable[[str], Any]) -> int:
        """Read every page of the venue's current programs and store them."""
        items: list[Any] = []
        cursor = "MA=="
        for _ in range(100):
            page = await fetch_page(cursor)
            items += page.get("data") or [] if isinstance(page, dict) else []
            cursor = str(page.get("next_cursor") or "") if isinstance(page, dict) else ""
            if not cursor or cursor == "LTE=":
                break
        self.programs_at = self.clock()
        return rq.save_programs(self.db, program_rows(items), self.programs_at)

    def sample(self, mode: str, book_of: Callable[[str], Book | None], yes_token: Callable[[str], str | None],
               programs: Mapping[str, rq.ProgramRow] | None = None) -> int:
        """Score the desk's resting orders in every program market once; returns how many orders.
        `programs`: the programs as the caller holds them (a backtest's do not change during its
        replay); by default, as stored."""
        programs = rq.programs(self.db) if programs is None else programs
        orders = rq.resting_orders(self.db, mode, programs)
        by_market: dict[str, list[rq.RestingOrder]] = defaultdict(list)
        for order in orders:
            by_market[order.condition_id].append(order)
        scores: list[tuple[int, str, str, bool]] = []
        shares: dict[tuple[str, str], tuple[int, int]] = {}
        for cid, mine in by_market.items():
            token = yes_token(cid)
            result = score_market(mine, book_of(token) if token else None, programs[cid], mode == "live")
            scores += [(o.id, o.strategy, cid, result.scoring[o.id]) for o in mine]
            for strategy in {o.strategy for o in mine}:
                shares[(cid, strategy)] = (result.shares.get(strategy, 0), programs[cid].daily_pool)
        if scores:
            rq.record_sample(self.db, mode, self.clock(), scores, shares, self.samples_per_day)
        return len(scores)

    async def ask_venue(self, mode: str, venue: RewardsVenue) -> int:
        """Live: record the venue's own scoring answer for each resting order in a program market."""
        orders = [o for o in rq.resting_orders(self.db, mode, rq.programs(self.db)) if o.venue_order_id]
        if not orders:
            return 0
        answers = await venue.orders_scoring([o.venue_order_id for o in orders if o.venue_order_id])
        rq.record_venue_scoring(self.db, mode, {o.id: bool(answers.get(o.venue_order_id or "")) for o in orders})
        return len(orders)

    async def record_payouts(self, mode: str, venue: RewardsVenue | None) -> list[str]:
        """Record what was paid for each ended day not yet recorded (live also today and yesterday,
        as the venue reports them: its list may fill in late); returns the days recorded."""
        today = rq.day_of(self.clock())
        days = rq.unpaid_days(self.db, mode, today)
        if venue is not None:
            days = sorted(set(days) | {today, rq.day_of(self.clock() - rq.DAY_MS)})
        done = []
        for day in days:
            estimates = rq.day_estimates(self.db, mode, day)
            if venue is None:
                paid_by_market = _paper_payout(estimates)
            else:
                paid_by_market = await venue.reward_earnings(day)
                if not paid_by_market and (day == today or not estimates):
                    continue  # nothing reported (yet): not recorded as paid nothing
            parts: dict[tuple[str, str], int] = {}
            for cid, paid in paid_by_market.items():
                mine = {s: e for (c, s), e in estimates.items() if c == cid}
                parts |= {(cid, s): amount for s, amount in split_paid(paid, mine).items()}
            rq.record_paid(self.db, mode, day, parts, self.clock())
            done.append(day)
        return done


def _paper_payout(estimates: Mapping[tuple[str, str], int]) -> dict[str, int]:
    """The paper venue pays the day's estimate per market, nothing when the day is under 1 pUSD."""
    if sum(estimates.values()) < PAYOUT_MINIMUM:
        return {}
    paid: dict[str, int] = defaultdict(int)
    for (cid, _), amount in estimates.items():
        paid[cid] += amount
    return {cid: amount for cid, amount in paid.items() if amount > 0}


async def reward_job(tracker: RewardTracker, *, mode: str, book_of: Callable[[str], Book | None],
                     yes_token: Callable[[str], str | None], fetch_page: Callable[[str], Any],
                     venue: RewardsVenue | None) -> bool:
    """The core's periodic rewards work (module docstring, steps 1-5); `venue` only when live.
    Returns whether the programs were read afresh (the catalog then reloads them)."""
    refreshed = False
    if tracker.clock() - tracker.programs_at >= PROGRAMS_EVERY_MS:
        try:
            await tracker.refresh_programs(fetch_page)
            refreshed = True
        except Exception as exc:  # the venue may be briefly down: score against the stored programs
            log.warning("reward programs not read", extra={"error": str(exc)})
    await asyncio.to_thread(tracker.sample, mode, book_of, yes_token)
    if venue is not None:
        try:
            await tracker.ask_venue(mode, venue)
        except Exception as exc:
            log.warning("order scoring not read from the venue", extra={"error": str(exc)})
    await tracker.record_payouts(mode, venue)
    return refreshed
