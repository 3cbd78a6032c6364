"""Backtests: recorded (or imported) market data replayed through the same trading core as
live: the same strategy code, risk gate, executor, PaperVenue fill model and ledger.

Each run gets a scratch database (its own orders, fills and ledger; the live tables are
never touched) carrying copies of the markets it trades and of the live risk limits and
settings. A simulated clock is set from each event's recorded time; the engine decides at
the recorded decision markers (or, without any, every decision interval), so a backtest of
a paper session with the same seed and config makes the same decisions. Deterministic:
same inputs, same results.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from engine.contracts import metrics as metric_fns
from engine.backtest.income import BacktestIncome
from engine.backtest.markouts import ReplayedMids, add_markouts, metric_fields
from engine.backtest.refusals import RefusalTally
from engine.backtest.replay import (
    DECIDE,
    Replay,
    ReplayFeed,
    Row,
    RowApplier,
    as_rows,
    count_recorded,
    history_events,
    recorded_batches,
)
from engine.trading.core import TradingCore
from engine.contracts.backtest_spec import BacktestSpec
from engine.domain import MICRO, MarketInfo, Side
from engine.execution.ledger import FillFact, apply_fill
from engine.feeds.discovery import market_info
from engine.strategies.registry import validate_params
from engine.venues.paper import PaperVenue
from engine.venues.base import TradeStatus
from storage import reward_queries
from storage.db import Database
from storage.migrations import migrate
from engine.contracts.settings import Settings

STRATEGY_NAME = "backtest"
# Indexes only the dashboard's and the retention jobs' queries use: a scratch ledger is never
# read that way, and every order write would otherwise update them (an order's status moves
# several times). Results are the same without them (every replayed query orders its rows).
SCRATCH_UNUSED_INDEXES = ("ix_orders_open", "ix_orders_market", "ix_orders_strategy", "ix_orders_created",
                          "ix_fills_market", "ix_fills_matched", "ix_decisions_at", "ix_decisions_reason",
                          "ix_paper_orders_status")
Progress = Callable[[int, int], None]


class BacktestError(ValueError):
    """Bad input (unknown strategy, bad params, no data in range); the message says which."""


@dataclass
class BacktestResult:
    metrics: metric_fns.Metrics
    curve: list[tuple[int, float]]
    exposure: list[tuple[int, float]]
    fills: list[dict]  # type: ignore[type-arg]
    orders: list[dict]  # type: ignore[type-arg]
    events: int = 0
    decisions: int = 0
    markets: list[str] = field(default_factory=list)
    refusals: dict = field(default_factory=dict)  # type: ignore[type-arg]  # RefusalTally.summary()


class SimClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _main_rows(main_db: Path, sql: str, params: tuple = ()) -> list[sqlite3.Row]:  # type: ignore[type-arg]
    conn = sqlite3.connect(f"file:{main_db}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def resolve_markets(spec: BacktestSpec, main_db: Path) -> list[dict]:  # type: ignore[type-arg]
    """Market rows to trade: the ones named, or every market with data in the range."""
    if spec.markets:
        marks = ",".join("?" * len(spec.markets))
        rows = _main_rows(main_db, f"SELECT * FROM markets WHERE condition_id IN ({marks})", spec.markets)
        missing = set(spec.markets) - {r["condition_id"] for r in rows}
        if missing:
            raise BacktestError(f"unknown markets (not discovered): {', '.join(sorted(missing))}")
        return [dict(r) for r in rows]
    table, column = ("ticks", "token_id") if spec.source == "recorded" else ("price_history", "token_id")
    rows = _main_rows(main_db, f"""SELECT * FROM markets WHERE yes_token IN (SELECT DISTINCT {column} FROM {table}
                                   WHERE at BETWEEN ? AND ?) ORDER BY condition_id""", (spec.from_ms, spec.to_ms))
    if not rows:
        raise BacktestError(f"no {spec.source} data between the given times")
    return [dict(r) for r in rows]


def _scratch(work_dir: Path, main_db: Path, spec: BacktestSpec, market_rows: list[dict]) -> Database:  # type: ignore[type-arg]
    path = work_dir / "backtest.db"
    for leftover in work_dir.glob("backtest.db*"):
        leftover.unlink()
    migrate(path)
    db = Database(path)
    limits = _main_rows(main_db, "SELECT name, value, version, updated_at, updated_by FROM risk_limits")
    config = _main_rows(main_db, "SELECT key, value, version, updated_at, updated_by FROM settings")
    with db.write() as conn:
        columns = list(market_rows[0])
        conn.execute(text(f"INSERT INTO markets ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
                     market_rows)
        for row in limits:
            conn.execute(text("INSERT INTO risk_limits VALUES (:n, :v, :ver, :at, :by)"),
                         dict(zip(("n", "v", "ver", "at", "by"), tuple(row), strict=True)))
        for row in config:
            conn.execute(text("INSERT INTO settings VALUES (:k, :v, :ver, :at, :by)"),
                         dict(zip(("k", "v", "ver", "at", "by"), tuple(row), strict=True)))
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES (:n, :k, :p, :m, 1, 0, 0, 'backtest')"""),
                     {"n": STRATEGY_NAME, "k": spec.kind, "p": json.dumps(spec.params),
                      "m": json.dumps([r["condition_id"] for r in market_rows])})
        conn.execute(text("UPDATE engine_state SET mode = 'paper'"))
    programs = reward_queries.programs_in_file(main_db, [r["condition_id"] for r in market_rows])
    reward_queries.copy_programs(db, programs)  # the run's markets pay what they paid
    with db.write() as conn:
        for index in SCRATCH_UNUSED_INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS {index}"))
    return db


def _events(spec: BacktestSpec, main_db: Path,
            markets: list[MarketInfo]) -> tuple[Iterator[list[Row]], list[str], int, int]:
    """(the replay's rows in batches of about 1/200 of the run, each a progress step; the
    tokens the rows index; how many events; how many recorded decision markers)."""
    tokens = [t for m in markets for t in (m.yes_token, m.no_token)]
    if spec.source == "history":
        total = _main_rows(main_db, f"""SELECT COUNT(*) FROM price_history WHERE at BETWEEN ? AND ? AND token_id IN
                                       ({','.join('?' * len(markets))})""",
                           (spec.from_ms, spec.to_ms, *[m.yes_token for m in markets]))[0][0]
        step = max(1, total * 5 // 200)
        return (as_rows(history_events(main_db, markets, spec.from_ms, spec.to_ms), tokens, step), tokens,
                total * 5, total)
    events, decides = count_recorded(main_db, tokens, spec.from_ms, spec.to_ms)
    step = max(1, (events + decides) // 200)
    return recorded_batches(main_db, tokens, spec.from_ms, spec.to_ms, step), tokens, events + decides, decides


async def run(spec: BacktestSpec, main_db: Path, settings: Settings, *, work_dir: Path,
              progress: Progress | None = None) -> BacktestResult:
    _, errors = validate_params(spec.kind, spec.params)
    if errors:
        raise BacktestError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    if spec.to_ms <= spec.from_ms:
        raise BacktestError("the end of the range must be after its start")
    market_rows = resolve_markets(spec, main_db)
    markets = [market_info(r) for r in market_rows]
    db = _scratch(work_dir, main_db, spec, market_rows)
    clock = SimClock(spec.from_ms)
    core = TradingCore(settings, db, clock=clock, replay=Replay(spec.seed, ReplayFeed()))
    tally = RefusalTally()
    tally.attach(core)
    income = BacktestIncome(core, spec.from_ms)
    try:
        try:
            curve, exposure, events, decisions = await _replay(core, clock, spec, main_db, markets, progress, income)
        finally:
            await core.stop()  # as a live session ends: working orders cancelled (on failure too)
        result = _result(core, curve, exposure, events, decisions, markets, income.totals(clock.now))
        result.refusals = tally.summary()
        _markouts(result, spec, main_db, market_rows, markets)
        return result
    finally:
        db.dispose()


async def _replay(core: TradingCore, clock: SimClock, spec: BacktestSpec, main_db: Path,
                  markets: list[MarketInfo], progress: Progress | None,
                  income: BacktestIncome) -> tuple[list, list, int, int]:  # type: ignore[type-arg]
    await core.start(operator=True)
    core.unblock_orders()
    batches, tokens, total, markers = _events(spec, main_db, markets)
    venue = core.executor.venue
    if isinstance(venue, PaperVenue):  # the core's only work for a book change or a print (TradingCore._on_market_event)
        apply = RowApplier(core.books, tokens, venue.rests_on, lambda token, at: venue.on_book_changed(token),
                           venue.on_level_changed, venue.on_market_event)
    else:
        apply = RowApplier(core.books, tokens, lambda token: True)
    interval = core.config["tick_interval_ms"]
    next_decide = spec.from_ms + interval
    curve: list[tuple[int, float]] = []
    exposure: list[tuple[int, float]] = []
    seen = decisions = 0
    for batch in batches:
        # The scratch ledger commits once per batch instead of once per write: a replay has
        # nothing to lose in a crash, and the same code then runs several times faster.
        with core.db.batch():
            if markers:  # decide at the recorded markers
                i = apply.until_decision(batch, 0, clock)
                while i < len(batch):
                    decisions += await _decide(core, clock, batch[i][0], curve, exposure, income)
                    i = apply.until_decision(batch, i + 1, clock)
            else:  # no recorded decisions: decide on the interval
                for event in batch:
                    at = event[0]
                    while at >= next_decide:
                        decisions += await _decide(core, clock, next_decide, curve, exposure, income)
                        next_decide += interval
                    clock.now = at
                    if event[2] == DECIDE:
                        decisions += await _decide(core, clock, at, curve, exposure, income)
                    else:
                        apply(event)
        seen += len(batch)
        if progress is not None:
            progress(seen, total)
    if progress is not None:
        progress(total, total)
    return curve, exposure, seen, decisions


async def _decide(core: TradingCore, clock: SimClock, at: int, curve: list, exposure: list,  # type: ignore[type-arg]
                  income: BacktestIncome) -> int:
    clock.now = at
    valuation = await core.tick()  # the pass's own valuation (what its breakers judged)
    curve.append((at, (valuation.equity + income.at(at)) / MICRO))  # rewards and rebates count
    exposure.append((at, valuation.exposure / MICRO))
    return 1


def _result(core: TradingCore, curve: list, exposure: list, events: int, decisions: int,  # type: ignore[type-arg]
            markets: list[MarketInfo], income: tuple[float, float]) -> BacktestResult:
    with core.db.read() as conn:
        fills = [dict(r) for r in conn.execute(text(
            """SELECT matched_at, condition_id, token_id, outcome, side, price, size, fee, liquidity, status, trade_id,
                      order_id FROM fills ORDER BY matched_at, trade_id""")).mappings()]
        orders = [dict(r) for r in conn.execute(text(  # closed_at: when it ended (None: still working)
            """SELECT id, created_at, closed_at, condition_id, token_id, outcome, side, price, size, filled, tif,
                      status FROM orders ORDER BY id""")).mappings()]
    closes, fees, trades = _trade_figures(fills)
    rewards, rebates = income  # (USDC) every reward estimated and rebate accrued, to the run's last event
    summary = metric_fns.compute(curve, [e for _, e in exposure], closes, trades=trades, fees=fees / MICRO,
                                 rewards=rewards, rebates=rebates)
    return BacktestResult(summary, curve, exposure, fills, orders, events, decisions,
                          [m.condition_id for m in markets])


def _markouts(result: BacktestResult, spec: BacktestSpec, main_db: Path, market_rows: list[dict],  # type: ignore[type-arg]
              markets: list[MarketInfo]) -> None:
    """Each fill's markouts (into its row) and the run's (into its metrics), from the mids the
    replay saw, up to the end of the replayed range."""
    mids = ReplayedMids(main_db, spec.source, markets)
    try:
        summary = add_markouts(result.fills, mids, until=spec.to_ms,
                               resolved={r["condition_id"]: r.get("resolved_outcome") for r in market_rows})
    finally:
        mids.close()
    result.metrics = dataclasses.replace(result.metrics, **metric_fields(summary))


def _trade_figures(fills: list[dict]) -> tuple[list[float], int, int]:  # type: ignore[type-arg]
    """From fill rows in match order: the realized PnL (USDC) of each fill that closed shares,
    the fees paid (micro-USDC) and the number of trades. Stepped through the ledger's own
    average-cost rule, per token, so a ghost (FAILED) fill counts nowhere, as in the ledger."""
    held: dict[str, tuple[int, int]] = {}  # token -> (shares, cost)
    closes: list[float] = []
    fees = trades = 0
    for row in fills:
        fill = FillFact(Side(row["side"]), row["price"], row["size"], row["fee"], TradeStatus(row["status"]))
        if fill.status is TradeStatus.FAILED:
            continue
        shares, cost = held.get(row["token_id"], (0, 0))
        step = apply_fill(shares, cost, fill)
        held[row["token_id"]] = (shares + step.shares, step.cost)
        if step.realized is not None:
            closes.append(step.realized / MICRO)
        fees, trades = fees + step.fee, trades + 1
    return closes, fees, trades


def run_sync(spec: BacktestSpec, main_db: Path, settings: Settings, *, work_dir: Path,
             progress: Progress | None = None) -> BacktestResult:
    return asyncio.run(run(spec, main_db, settings, work_dir=work_dir, progress=progress))
