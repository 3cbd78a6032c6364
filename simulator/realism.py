"""``python -m simulator realism``: the agents' market, measured beside the published facts.

The agents run on their own clock (``agents.py``), so the report drives them step by
step in simulated time: an hour of market takes seconds, not an hour. It builds the
same venue the server does (markets, fees, sports delays, ledger, trades, matching
engine, agents) with a recording sink in place of the WebSocket hub: what it records
is exactly the public market channel (``price_change``, ``book``,
``last_trade_price``) the server would send, stamped with the agents' clock.

Two phases of ``--minutes`` each, from the same seed: **served** (the default market,
closing 30 days out, as ``make run`` serves it) and **closing** (the same market, its
close at the end of the phase: convergence, thinning depth, resolution).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .accounts import Ledger
from .agents import Agents
from .config import SimConfig, env_overrides
from .exchange import Exchange
from .fees import assign_fees
from .market_config import FLAGS as MARKET_FLAGS
from .market_config import describe_changes
from .market_payloads import JSON
from .markets import Market, build_markets, price_to_tick
from .orders import BID, Order
from .participants import MAKER_OWNER
from .sports import assign_sports
from .trades import MakerLeg, Trade, TradeLog
from .units import ONE, to_micro

EPOCH = 1_800_000_000.0  # the simulated clock's start (any fixed value: runs are reproducible)
SAMPLE_EVERY_S = 5.0  # book samples for spreads and depth
BOOK_LEVELS = 10


@dataclass(frozen=True)
class Print:
    """A taker's trade as the public feed shows it (YES token)."""

    t: float
    market: str
    sign: int  # +1 taker BUY of YES, -1 SELL
    price: float
    mid_before: float | None
    tick: float


@dataclass(frozen=True)
class PassiveFill:
    """One resting agent-maker order filled (private to the maker: from the venue's trades)."""

    t: float
    market: str
    sign: int  # +1 the maker bought YES, -1 sold
    price: float
    size: float
    mid_before: float | None


@dataclass(frozen=True)
class BookSample:
    t: float
    market: str
    category: str
    time_to_close_s: float
    bid: float | None
    ask: float | None
    bid_sizes: tuple[float, ...]  # best first, up to BOOK_LEVELS
    ask_sizes: tuple[float, ...]


@dataclass
class Phase:
    name: str
    seconds: float
    closes: bool
    samples: list[BookSample] = field(default_factory=list)
    prints: list[Print] = field(default_factory=list)
    fills: list[PassiveFill] = field(default_factory=list)
    mids: dict[str, tuple[list[float], list[float | None]]] = field(default_factory=dict)
    outcomes: dict[str, float] = field(default_factory=dict)  # condition id -> YES payout (1/0)
    categories: dict[str, str] = field(default_factory=dict)
    step_ms: list[float] = field(default_factory=list)  # CPU time of each agents' step
    wall_s: float = 0.0


class Feed:
    """The public market channel in simulated time: every book change's best bid and ask, every
    trade print, every tick change of the YES token.

    ``full=True`` reads them from the very messages the server would send (the exchange builds
    each ``price_change`` and ``last_trade_price``); the default hands the same facts over at
    the same moments without serialising the messages (``_FastExchange``), ten times faster.
    """

    def __init__(self, clock: Callable[[], float], phase: Phase, markets: list[Market], full: bool) -> None:
        self.clock = clock
        self.phase = phase
        self.full = full
        self.mid: dict[str, float | None] = {m.condition_id: None for m in markets}
        self.before: dict[str, float | None] = dict(self.mid)  # the mid before the latest book change
        self.tick = {m.condition_id: m.tick / ONE for m in markets}
        for m in markets:
            phase.mids[m.condition_id] = ([], [])

    def watching(self, market: Market) -> bool:
        return self.full

    def user(self, owner: str, market: Market, message: JSON) -> None:
        return None

    def market(self, market: Market, message: JSON) -> None:
        kind, cid, yes = message.get("event_type"), market.condition_id, market.yes.token_id
        if kind == "price_change":
            entry = next((e for e in message["price_changes"] if e["asset_id"] == yes), None)
            if entry is not None:  # "0" / "1" stand for an empty side
                bid, ask = float(entry["best_bid"]), float(entry["best_ask"])
                self.levels_changed(cid, bid if bid > 0 else None, ask if ask < 1 else None)
        elif kind == "last_trade_price" and message["asset_id"] == yes:
            self.printed(cid, float(message["price"]), message["side"])
        elif kind == "tick_size_change" and message["asset_id"] == yes:
            self.tick[cid] = float(message["new_tick_size"])

    def levels_changed(self, cid: str, bid: float | None, ask: float | None) -> None:
        self.before[cid] = self.mid[cid]  # a trade's prints follow its own book change
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        if mid == self.mid[cid]:
            return
        self.mid[cid] = mid
        times, mids = self.phase.mids[cid]
        now = self.clock()
        if times and times[-1] == now:
            mids[-1] = mid
        else:
            times.append(now)
            mids.append(mid)

    def printed(self, cid: str, yes_price: float, taker_side: str) -> None:
        self.phase.prints.append(Print(self.clock(), cid, 1 if taker_side == "BUY" else -1, yes_price,
                                       self.before[cid], self.tick[cid]))


class _FastExchange(Exchange):
    """The matching engine, handing the feed its facts without building the messages."""

    def __init__(self, *args: Any, feed: Feed) -> None:
        super().__init__(*args)
        self.feed = feed

    def _publish_levels(self, changes: Any, ts: int) -> None:
        for cid in changes.levels:
            book = self.books[cid]
            bid, ask = book.best_bid(), book.best_ask()
            self.feed.levels_changed(cid, bid / ONE if bid is not None else None,
                                     ask / ONE if ask is not None else None)

    def _publish_trade_print(self, market: Market, taker_token: Any, size: int, ts: int) -> None:
        self.feed.printed(market.condition_id, (market.last_trade_price or 0) / ONE, market.last_trade_side)


class _Clock:
    """Trade settlement timers (MINED, CONFIRMED) on the simulated clock."""

    def __init__(self) -> None:
        self.now = EPOCH
        self._queue: list[tuple[float, int, Callable[[], object]]] = []
        self._seq = itertools.count()

    def schedule(self, delay: float, fn: Callable[[], object]) -> None:
        heapq.heappush(self._queue, (self.now + delay, next(self._seq), fn))

    def run_due(self) -> None:
        while self._queue and self._queue[0][0] <= self.now:
            heapq.heappop(self._queue)[2]()


class _RecordingTrades(TradeLog):
    """The venue's trade log, also noting every fill of the agent maker's resting orders."""

    def __init__(self, *args: Any, phase: Phase, clock: _Clock, feed: Feed) -> None:
        super().__init__(*args)
        self.phase, self.clock, self.feed = phase, clock, feed

    def new(self, market: Market, taker: Order, size: int, makers: list[MakerLeg], deltas: Any,
            fee: int = 0) -> Trade:
        for leg in makers:
            order = leg.order
            if order.owner == MAKER_OWNER:
                yes_price = order.yes_price / ONE
                self.phase.fills.append(PassiveFill(
                    self.clock.now, market.condition_id, 1 if order.yes_side == BID else -1, yes_price,
                    leg.size / ONE, self.feed.mid[market.condition_id]))
        return super().new(market, taker, size, makers, deltas, fee)

    def publish(self, trade: Trade) -> None:
        if self.feed.full:  # nobody reads the user channel here; building it is the costly part
            super().publish(trade)


Progress = Callable[[str, float], None]  # (phase name, share done)


def run_phase(cfg: SimConfig, name: str, seconds: float, closes: bool, full_feed: bool = False,
              progress: Progress | None = None) -> Phase:
    """Run the agents' market for ``seconds`` of simulated time and record it (``full_feed``:
    from the serialised market-channel messages, see ``Feed``; ``progress`` hears of every
    tenth of the way)."""
    phase = Phase(name, seconds, closes)
    clock = _Clock()
    markets = build_markets(cfg.markets, random.Random(f"markets:{cfg.seed}"), EPOCH,
                            seconds if closes else cfg.end_after_s)
    assign_fees(markets, cfg.fee_rate, cfg.fee_exponent)
    assign_sports(markets, cfg.sports_markets, cfg.sports_delay_s)
    feed = Feed(lambda: clock.now, phase, markets, full_feed)
    ledger = Ledger(to_micro(cfg.starting_balance))
    trades = _RecordingTrades(ledger, feed, random.Random(f"trades:{cfg.seed}"), clock.schedule,
                              cfg.mined_delay_s, cfg.confirmed_delay_s, 0.0,
                              phase=phase, clock=clock, feed=feed)
    exchange = (Exchange(markets, ledger, trades, feed, clock.schedule) if full_feed
                else _FastExchange(markets, ledger, trades, feed, clock.schedule, feed=feed))
    agents = Agents(exchange, random.Random(f"agents:{cfg.seed}"), cfg.seed, cfg.agent_interval_s,
                    cfg=cfg.market, start_ts=EPOCH)
    phase.categories = {m.condition_id: agents.news.category_of(m) for m in markets}
    for market in markets:
        market.last_trade_price = price_to_tick(market.latent, market.tick)
    agents.prefill()
    started = time.perf_counter()
    next_sample = EPOCH
    steps = int(round(seconds / cfg.agent_interval_s))
    tenth = max(1, steps // 10)
    for done in range(steps):
        if progress is not None and done and done % tenth == 0:
            progress(name, done / steps)
        clock.now = agents.now + cfg.agent_interval_s
        t0 = time.thread_time()  # CPU, not wall: a busy machine does not make a step dearer
        agents.step()
        clock.run_due()
        phase.step_ms.append((time.thread_time() - t0) * 1000)
        if clock.now >= next_sample:
            _sample(phase, exchange, markets, clock.now)
            next_sample += SAMPLE_EVERY_S
    phase.wall_s = time.perf_counter() - started
    if closes:
        for kind, ref, winner in agents.winners(random.Random(f"resolve:{cfg.seed}")):
            if kind == "group":
                for m in markets:
                    if m.neg_risk_market_id == ref:
                        phase.outcomes[m.condition_id] = 1.0 if m.condition_id == winner else 0.0
            else:
                phase.outcomes[ref] = 1.0 if winner == "YES" else 0.0
    return phase


def _sample(phase: Phase, exchange: Exchange, markets: list[Market], now: float) -> None:
    for market in markets:
        book = exchange.books[market.condition_id]
        bids, asks = book.token_levels(True)  # best last
        phase.samples.append(BookSample(
            now, market.condition_id, phase.categories[market.condition_id], max(0.0, market.end_ts - now),
            bids[-1][0] / ONE if bids else None, asks[-1][0] / ONE if asks else None,
            tuple(s / ONE for _, s in reversed(bids[-BOOK_LEVELS:])),
            tuple(s / ONE for _, s in reversed(asks[-BOOK_LEVELS:]))))


def run(cfg: SimConfig, minutes: float, progress: Progress | None = None) -> tuple[Phase, Phase]:
    seconds = minutes * 60.0
    return (run_phase(cfg, "served", seconds, closes=False, progress=progress),
            run_phase(cfg, "closing", seconds, closes=True, progress=progress))


# -- command line -------------------------------------------------------------------------------

def parse(argv: Sequence[str] | None, environ: dict[str, str] | None = None) -> tuple[SimConfig, float]:
    parser = argparse.ArgumentParser(
        prog="python -m simulator realism",
        description="Run the agents' market in simulated time and print its microstructure beside the "
                    "published figures (Dubach 2026, arXiv 2604.24366). Settings: defaults, then "
                    "SIMULATOR_* variables, then these flags.")
    parser.add_argument("--minutes", type=float, default=60.0,
                        help="simulated minutes per phase (default 60; takes seconds)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default 42)")
    parser.add_argument("--markets", type=int, default=None,
                        help=f"number of markets (default {REALISM_MARKETS}: the set the figures were calibrated on)")
    for flag, (dest, kind, help_text) in MARKET_FLAGS.items():
        parser.add_argument(flag, dest=dest, type=kind, default=None, help=help_text)
    args = vars(parser.parse_args(argv))
    minutes = args.pop("minutes")
    if not 1 <= minutes <= 24 * 60:
        parser.error("--minutes must be from 1 to 1440")
    overrides = {**env_overrides(environ), **{k: v for k, v in args.items() if v is not None}}
    relevant = {k: v for k, v in overrides.items() if k in _REALISM_SETTINGS}
    try:
        return SimConfig().with_updates({"markets": REALISM_MARKETS, **relevant}), minutes
    except ValueError as exc:
        parser.error(str(exc))
        raise  # unreachable: parser.error exits


REALISM_MARKETS = 10  # the report's default set: the one its published comparison was calibrated on
_REALISM_SETTINGS = {"seed", "markets", "agent_interval_s", "fee_rate", "fee_exponent", "sports_markets",
                     "sports_delay_s", *(dest for dest, _, _ in MARKET_FLAGS.values())}


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    from .realism_stats import report  # the measures and the published figures

    cfg, minutes = parse(argv, environ)
    served, closing = run(cfg, minutes, progress=_progress if minutes >= LONG_RUN_MINUTES else None)
    try:
        print(report(cfg, served, closing, describe_changes(cfg.market)), flush=True)
    except BrokenPipeError:  # the reader went away (``| head``): nothing left to say
        sys.stderr.close()
    return 0


LONG_RUN_MINUTES = 240.0  # runs this long report their progress on stderr


def _progress(name: str, done: float) -> None:
    print(f"realism: {name} phase {done:.0%}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
