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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from contracts import metrics as metric_fns
from contracts.backtest_spec import BacktestSpec, limits_problem
from contracts.calibration import calibrate
from contracts.domain import MICRO, MarketInfo
from contracts.latency_spec import DEFAULT as DEFAULT_LATENCY
from contracts.latency_spec import LatencyError
from contracts.market_filter import SPANS_VENUES
from contracts.payouts import stored as stored_payouts
from contracts.settings import Settings
from contracts.strategy_kinds import validate_params
from contracts.strategy_schemas.copy_trading import COPY_TRADING
from contracts.venue_policies import policy_for_market
from contracts.venues import venue_of
from contracts.venues.kalshi import ids as wire
from engine.analytics.markouts import MarkoutSummary
from engine.backtest import as_it_was, event_replay, resolutions
from engine.backtest.confidence import FillShares
from engine.backtest.cursor import Cursor, SimClock
from engine.backtest.income import BacktestIncome
from engine.backtest.markouts import ReplayedMids, add_markouts, metric_fields
from engine.backtest.quiet_passes import QuietPasses
from engine.backtest.refusals import RefusalTally
from engine.backtest.replay import (
    RecordedRows,
    Replay,
    ReplayFeed,
    Row,
    RowApplier,
    as_rows,
    history_events,
)
from engine.backtest.results import KEPT_ROWS, Samples, TradeFigures, kept_rows
from engine.execution import portfolio
from engine.feeds.books import CONFIRM_EVERY_MS, BookCache
from engine.feeds.catalog import kalshi_market, market_info
from engine.feeds.market_data_events import TradePrint
from engine.trading.core import TradingCore
from engine.trading.hosting.views import COPY_WINDOW_MS
from engine.trading.passes.clock_parts import pass_parts
from engine.trading.passes.ledger import Ledger
from engine.venues.latency import LatencyModel, LatencyUnmeasured
from engine.venues.latency import resolve as resolve_latency
from engine.venues.paper import PaperVenue
from storage.engine_stores import reward_queries
from storage.research import backtest_recording as recording
from storage.research import backtest_scratch as scratch
from storage.research import calibration_queries
from storage.sqlite.db import Database, Synchronous
from storage.sqlite.migrations import migrate

STRATEGY_NAME = "backtest"
# Indexes only the dashboard's and the retention jobs' queries use: a scratch ledger is never
# read that way, and every order write would otherwise update them (an order's status moves
# several times). Results are the same without them (every replayed query orders its rows).
SCRATCH_UNUSED_INDEXES = ("ix_orders_open", "ix_orders_market", "ix_orders_strategy", "ix_orders_created",
                          "ix_fills_market", "ix_fills_matched", "ix_decisions_at", "ix_decisions_reason",
                          "ix_paper_orders_status", "ix_orders_ending")
# The notifier's triggers (each fill, refusal and venue cancel queued in `notify_events`): a
# backtest has no notifier, and every order status write would otherwise evaluate them.
SCRATCH_UNUSED_TRIGGERS = ("notify_refused_insert", "notify_refused", "notify_venue_cancel", "notify_fill")
# The scratch ledger never waits for the disk: a crash of a backtest loses a run that is started again,
# and nothing of it reaches a venue. It keeps the live ledger's code and statements (the same executor,
# the same rows: tests/backtest/test_scratch_ledger.py), committed once per batch of replayed rows
# (engine/backtest/cursor.py). What that left of crash safety was small: on a 100 k-event replay on
# events, 28 syncs of the file and 13.7 k page writes (~15 ms of system time); the ledger's statements
# cost the same CPU on a database held in memory (docs/research.md, "On events").
SCRATCH_SYNC: Synchronous = "OFF"
# Within a batch, the executor's and the paper venue's rows are held in memory and written once at its
# end (storage/sqlite/write_behind.py): the same rows as each step written at once, as live writes them
# (tests/backtest/test_scratch_ledger.py compares them row for row).
SCRATCH_WRITE_BEHIND = True
Progress = Callable[[int, int], None]
# How a run treats its timed passes that cannot act (engine/backtest/quiet_passes.py): "skip" them (the
# default), "run" every one (as before they were skipped), or "verify": run every one and report each
# the protocol would have skipped that acted (`engine backtest --verify-quiet-passes`).
Passes = Literal["skip", "run", "verify"]
PASSES: tuple[Passes, ...] = ("skip", "run", "verify")


class BacktestError(ValueError):
    """Bad input (unknown strategy, bad params, no data in range); the message says which."""


@dataclass
class BacktestResult:
    metrics: metric_fns.Metrics
    curve: Samples  # (time ms, equity pUSD) at each decision
    exposure: Samples  # (time ms, exposure pUSD) at the same times
    fills: list[dict]
    orders: list[dict]
    events: int = 0
    decisions: int = 0
    markets: list[str] = field(default_factory=list)
    refusals: dict = field(default_factory=dict)
    latency: dict = field(default_factory=dict)  # the model used and the fills it cost (paper_latency.py)
    calibration: dict = field(default_factory=dict)  # the stated probabilities scored (contracts/calibration.py)
    fill_count: int = 0  # every fill and order of the run (the rows above stop at KEPT_ROWS)
    order_count: int = 0
    history: dict = field(default_factory=dict)  # what the run replayed (engine/backtest/as_it_was.py)
    quiet_passes: dict = field(default_factory=dict)  # the timed passes skipped or, verified, those that acted


def resolve_markets(spec: BacktestSpec, main_db: Path) -> list[dict]:
    """Market rows to trade: the ones named, or every market with data in the range."""
    if spec.markets:
        rows = recording.markets_named(main_db, spec.markets)
        missing = set(spec.markets) - {r["condition_id"] for r in rows}
        if missing:
            raise BacktestError(f"unknown markets (not discovered): {', '.join(sorted(missing))}")
        return rows
    rows = recording.markets_with_data(main_db, spec.source, spec.from_ms, spec.to_ms)
    if not rows:
        raise BacktestError(f"no {spec.source} data between the given times")
    return rows


@dataclass(frozen=True)
class RunMarkets:
    """What a run trades: Polymarket's market rows (copied into the scratch database), or a Kalshi
    strategy's paired markets (their `venue_pairs` rows copied, the strategy naming them)."""

    rows: list[dict]
    markets: list[MarketInfo]
    pairs: list[dict] = field(default_factory=list)
    named: list[str] = field(default_factory=list)


def run_markets(spec: BacktestSpec, main_db: Path) -> RunMarkets:
    if spec.kind in SPANS_VENUES:
        return _cross_markets(spec, main_db)
    kalshi = [m for m in spec.markets if not policy_for_market(m).catalog_rows]  # the pairs' markets
    if not kalshi:
        rows = resolve_markets(spec, main_db)
        return RunMarkets(rows, [market_info(r) for r in rows])
    if len(kalshi) != len(spec.markets):
        raise BacktestError("a strategy trades one venue: name Polymarket markets or Kalshi markets "
                            "(kalshi:<ticker>), not both")
    if spec.source != "recorded":
        raise BacktestError("a Kalshi market has no price history here: backtest recorded data (the recorder "
                            "keeps the Kalshi book of every paired market)")
    tickers = [m.removeprefix(wire.PREFIX) for m in kalshi]
    pairs = recording.kalshi_pairs(main_db, tickers)
    missing = sorted(set(tickers) - {str(p["kalshi_ticker"]) for p in pairs})
    if missing:
        raise BacktestError(f"not paired with a Polymarket market: {', '.join(missing)} (a Kalshi market is "
                            "traded once linked by hand: engine pairs add)")
    markets = [kalshi_market(_pair_facts(p)) for p in pairs]
    return RunMarkets([], markets, pairs, kalshi)


def _cross_markets(spec: BacktestSpec, main_db: Path) -> RunMarkets:
    """A cross-venue arbitrage's run: its Polymarket markets, as any run's, and each one's Kalshi market (its
    pair's row copied, its recorded book replayed beside), both legs trading on paper as live would."""
    if spec.source != "recorded":
        raise BacktestError("a cross-venue arbitrage trades both venues' books: backtest recorded data (the recorder "
                            "keeps the Kalshi book of every paired market)")
    if any(not policy_for_market(m).catalog_rows for m in spec.markets):  # the pairs' markets
        raise BacktestError("a cross-venue arbitrage names the Polymarket markets paired with Kalshi, not Kalshi's")
    rows = resolve_markets(spec, main_db)
    links = recording.desk_pairs(main_db, [r["condition_id"] for r in rows])
    if spec.markets and (unpaired := sorted(set(spec.markets) - set(links))):
        raise BacktestError(f"not paired with a Kalshi market: {', '.join(unpaired)} (link it by hand: engine pairs "
                            "add)")
    rows = [r for r in rows if r["condition_id"] in links]
    if not rows:
        raise BacktestError("no market with recorded data in the range is paired with a Kalshi market")
    pairs = [p for p in recording.kalshi_pairs(main_db, sorted({ticker for ticker, _ in links.values()}))
             if p["condition_id"] in links]
    kalshi = [kalshi_market(_pair_facts(p)) for p in pairs]
    return RunMarkets(rows, [market_info(r) for r in rows] + kalshi, pairs)


def _pair_facts(pair: Mapping[str, object]) -> dict[str, object]:
    """A pair's row as the catalog reads a paired Kalshi market (its grid and fees as last read)."""
    return {"ticker": pair["kalshi_ticker"], "title": pair["kalshi_title"], "price_grid": pair.get("kalshi_price_grid"),
            "fee_type": pair.get("kalshi_fee_type"), "fee_multiplier_ppm": pair.get("kalshi_fee_multiplier_ppm"),
            "fee_changes": pair.get("kalshi_fee_changes")}


def followed_trades(spec: BacktestSpec, main_db: Path, run_markets: RunMarkets) -> list[dict]:
    """The followed wallets' trades the run's markets saw, each replayed from when the desk kept it
    (engine/trading/hosting/views.py, ReplayedCopies). Copy trading copies nothing else: a run of it
    without any is refused, with why, rather than reported as a strategy that never traded."""
    cids = [m.condition_id for m in run_markets.markets]
    rows = recording.followed_trades(main_db, cids, spec.from_ms, spec.to_ms, COPY_WINDOW_MS)
    if spec.kind == COPY_TRADING.kind and not rows:
        raise BacktestError("copy trading copies the trades of the wallets the desk follows, and the desk kept none "
                            "in these markets in this range (it keeps a wallet's trades from when it starts following "
                            "it: Strategies page, Followed wallets): there is nothing to replay")
    return rows


def check_data(spec: BacktestSpec, main_db: Path) -> None:
    """Whether the desk holds what a run of `spec` replays (its markets' data in range, a cross-venue
    arbitrage's pairs, copy trading's followed trades): a sweep asks before any worker starts."""
    followed_trades(spec, main_db, run_markets(spec, main_db))


def _scratch(work_dir: Path, main_db: Path, spec: BacktestSpec, run_markets: RunMarkets) -> Database:
    path = work_dir / "backtest.db"
    for leftover in work_dir.glob("backtest.db*"):
        leftover.unlink()
    migrate(path)
    db = Database(path, writer_sync=SCRATCH_SYNC, write_behind=SCRATCH_WRITE_BEHIND)
    limits, config = recording.desk_limits_and_settings(main_db)
    if spec.capital is not None:  # the run's own starting cash, not the desk-wide setting
        config = [r for r in config if r["key"] != "paper_starting_cash"] + [
            {"key": "paper_starting_cash", "value": json.dumps(spec.capital / MICRO), "version": 1,
             "updated_at": spec.from_ms, "updated_by": "backtest"}]
    market_rows = run_markets.rows
    scratch.seed_scratch(db, markets=market_rows, limits=limits, settings=config, strategy=STRATEGY_NAME,
                         kind=spec.kind, params=spec.params,
                         fair_values=recording.desk_fair_values(main_db, [r["condition_id"] for r in market_rows]),
                         pairs=run_markets.pairs, strategy_markets=run_markets.named,
                         followed=followed_trades(spec, main_db, run_markets),
                         verdicts=recording.desk_source_verdicts(main_db),
                         posts=recording.fair_value_posts(main_db, [r["condition_id"] for r in market_rows],
                                                          spec.from_ms, spec.to_ms),
                         strategy_limits=spec.limits)
    programs = reward_queries.programs_in_file(main_db, [r["condition_id"] for r in market_rows])
    reward_queries.copy_programs(db, programs)  # the run's markets pay what they paid
    scratch.drop_unused(db, indexes=SCRATCH_UNUSED_INDEXES, triggers=SCRATCH_UNUSED_TRIGGERS)
    return db


def _events(spec: BacktestSpec, main_db: Path, markets: list[MarketInfo], pairs: Mapping[str, tuple[str, bool]],
            tick_changes: list[tuple[str, int, int | None, int]], ended: resolutions.RunResolutions,
            ) -> tuple[Iterator[list[Row]], list[str], Callable[[int], int], bool]:
    """(the replay's rows in batches of about 1/200 of the run (at most MAX_BATCH_IDS ids of
    `ticks` on a long one), each a progress step, the markets' ends among them; the tokens the rows
    index; the run's events in total, as known after so many were seen;
    whether the range holds recorded decision markers)."""
    tokens = [t for m in markets for t in (m.yes_token, m.no_token)]
    if spec.source == "history":  # prices only: a paired market has no Kalshi book here, so no reference
        points = recording.history_point_count(main_db, [m.yes_token for m in markets], spec.from_ms, spec.to_ms)
        step = max(1, points * 5 // 200)
        return (resolutions.spliced(as_rows(history_events(main_db, markets, spec.from_ms, spec.to_ms), tokens, step),
                                    ended, tokens), tokens, lambda seen: points * 5, points > 0)
    # The Kalshi books of paired markets, recorded beside them: their reference prices (trading/ledgers/references.py).
    tickers = sorted({ticker for ticker, _ in pairs.values()})
    tokens += [wire.token_id(ticker, side) for ticker in tickers for side in ("yes", "no")]
    tokens = list(dict.fromkeys(tokens))  # (a cross-venue run names its Kalshi markets too)
    recorded = RecordedRows(main_db, tokens, spec.from_ms, spec.to_ms)

    def total(seen: int) -> int:  # not counted up front (a second pass over the range): projected
        return max(seen, round(seen / recorded.fraction)) if recorded.fraction > 0 else seen

    batches = as_it_was.spliced(recorded.batches(max(1, recorded.span // 200)), tick_changes, tokens)
    return resolutions.spliced(batches, ended, tokens), tokens, total, recorded.markers


async def run(spec: BacktestSpec, main_db: Path, settings: Settings, *, work_dir: Path,
              progress: Progress | None = None, passes: Passes = "skip") -> BacktestResult:
    """`passes`: how the timed passes that cannot act are treated (`Passes`)."""
    _, errors = validate_params(spec.kind, spec.params)
    if errors:
        raise BacktestError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    if spec.to_ms <= spec.from_ms:
        raise BacktestError("the end of the range must be after its start")
    if (problem := limits_problem(spec.limits)) is not None:
        raise BacktestError(problem)
    chosen = run_markets(spec, main_db)
    start_ticks, tick_changes = ({}, []) if spec.source != "recorded" else \
        as_it_was.ticks_at_start(main_db, chosen.markets, spec.from_ms, spec.to_ms)
    rows, infos = as_it_was.with_start_ticks(chosen.rows, chosen.markets, start_ticks)
    chosen = dataclasses.replace(chosen, rows=rows, markets=infos)
    market_rows, markets = chosen.rows, chosen.markets
    latency = _latency(spec, main_db)
    db = _scratch(work_dir, main_db, spec, chosen)
    clock = SimClock(spec.from_ms)
    pairs = recording.desk_pairs(main_db, [m.condition_id for m in markets]) if spec.source == "recorded" else {}
    core = TradingCore(settings, db, clock=clock, replay=Replay(spec.seed, ReplayFeed(), latency, pairs))
    tally = RefusalTally()
    income = BacktestIncome(core, spec.from_ms)
    ending = resolutions.Ending(core, resolutions.load(main_db, markets, spec.from_ms, spec.to_ms), clock)
    try:
        try:
            curve, exposure, events, decisions, latency_spent, quiet = await _replay(
                core, clock, spec, main_db, markets, progress, income, tally, tick_changes, ending, passes)
        finally:
            await core.stop()  # as a live session ends: working orders cancelled (on failure too)
        mids = ReplayedMids(main_db, spec.source, markets)
        try:
            shares = FillShares(lambda token: mids.mid_at(token, spec.to_ms))
            result = _result(core, curve, exposure, events, decisions, markets, income.totals(clock.now),
                             _fill_marker(spec, mids, market_rows, shares))
            result.metrics = dataclasses.replace(result.metrics, **shares.fields(
                result.metrics.end_equity - result.metrics.start_equity, spec.seed))
        finally:
            mids.close()
        result.refusals = tally.summary()
        result.quiet_passes = _quiet_summary(passes, quiet)
        result.latency = latency_spent
        scratch.known_payouts(db, market_rows)  # the markets' ends as the desk knows them today, to score forecasts
        result.calibration = _calibration(db)
        fair = as_it_was.fair_value_words(spec.kind, spec.params, core.views.signals.history,
                                          [m.condition_id for m in markets])
        result.history = {**as_it_was.stated_history(main_db, spec.source, spec.from_ms, spec.to_ms,
                                                     [m.condition_id for m in markets], fair[0] if fair else None),
                          "fair_values_missing": bool(fair and fair[1]), "tick_changes": len(tick_changes),
                          "resolutions": ending.summary()}
        return result
    finally:
        db.dispose()


def _calibration(db: Database) -> dict:
    """The run's forecasts scored against the markets' resolutions as the desk knows them today
    (empty when its strategy stated no probability)."""
    stated = calibration_queries.forecast_count(db, "paper", STRATEGY_NAME)
    if not stated:
        return {}
    return {**calibrate(calibration_queries.scored_forecasts(db, "paper", STRATEGY_NAME)).to_json(), "stated": stated}


def _latency(spec: BacktestSpec, main_db: Path) -> LatencyModel:
    """The run's latency model: the spec's, or the desk's `paper_latency` setting (`measured` draws
    from the desk's own live placements)."""
    text = spec.latency or recording.desk_setting(main_db, "paper_latency") or DEFAULT_LATENCY
    db = Database(main_db)
    try:
        return resolve_latency(str(text), db)
    except (LatencyError, LatencyUnmeasured) as exc:
        raise BacktestError(str(exc)) from None
    finally:
        db.dispose()


async def _replay(core: TradingCore, clock: SimClock, spec: BacktestSpec, main_db: Path,
                  markets: list[MarketInfo], progress: Progress | None, income: BacktestIncome,
                  tally: RefusalTally, tick_changes: list[tuple[str, int, int | None, int]],
                  ending: resolutions.Ending, passes: Passes,
                  ) -> tuple[Samples, Samples, int, int, dict, QuietPasses | None]:
    """(the equity and exposure curves, the events replayed, the decisions made, the latency the
    run's paper venue spent, its quiet passes), the strategy trading where live would put it: the
    desk's ledger, or Kalshi's paper ledger for a strategy naming Kalshi markets; the markets' ends
    inside the run booked as the venue pays them (engine/backtest/resolutions.py)."""
    await core.start(operator=True)
    core.gate.unblock()
    sites = _sites(core)
    ending.sites = sites
    for site in sites:
        tally.attach(site.risk)
    batches, tokens, total_after, markers = _events(spec, main_db, markets, core.link.references.replayed_pairs,
                                                    tick_changes, ending.run)
    venue = sites[0].executor.venue
    venues = [v for v in (s.executor.venue for s in sites) if isinstance(v, PaperVenue)]
    # The core's only work for a book change or a print (passes/market_events.py).
    if len(venues) == 2:  # a cross-venue run: each token's changes to its own venue's paper venue
        apply = _two_venues(core.books, tokens, venues[0], venues[1])
    elif isinstance(venue, PaperVenue):
        # `by_token.get` answers as `rests_on` does (an empty or missing entry: no order rests) without a
        # Python call per row.
        apply = RowApplier(core.books, tokens, venue.by_token.get, lambda token, at: venue.on_book_changed(token),
                           venue.on_level_changed, venue.on_market_event, _print_fee(core))
    else:
        apply = RowApplier(core.books, tokens, lambda token: True)
    if not markers:  # (an imported archive's stream, as the connection that received it kept its books)
        apply.connection_ms = CONFIRM_EVERY_MS
    apply.resolved = ending
    seen = [0]

    def finished_batch(rows: int) -> None:
        seen[0] += rows
        if progress is not None:
            progress(seen[0], total_after(seen[0]))

    cursor = Cursor(batches, apply, clock, core.db, finished_batch)
    for paper in venues:
        paper.trips.wait_until = cursor.until  # a venue call's trip replays the recording meanwhile
    curve, exposure = Samples(), Samples()
    quiet = _quiet_passes(core, sites, cursor, venue, tally, ending, passes)
    decisions = 0
    try:
        if core.config.decide_on_events:  # as live decides: on events, between the timed passes
            decisions = await _decide_on_events(core, sites, clock, cursor, apply, venues, spec, markers, curve,
                                                exposure, income, quiet, ending)
        elif markers:  # decide at the recorded markers (those passed while a call was on its way are not)
            while (at := cursor.next_marker()) is not None:
                decisions += await _decide(core, sites, clock, at, curve, exposure, income, quiet, ending)
        else:  # no recorded decisions: decide on the interval, the next one after the pass ends
            interval = core.config.tick_interval_ms
            next_decide = spec.from_ms + interval
            while cursor.before(next_decide):
                decisions += await _decide(core, sites, clock, next_decide, curve, exposure, income, quiet, ending)
                next_decide = max(next_decide, clock.now) + interval
    finally:
        cursor.close()
    await ending.finish()  # what the venue pays after the recording's last row, up to the run's end
    if progress is not None:
        progress(seen[0], seen[0])
    return curve, exposure, seen[0], decisions, venue.trips.summary() if isinstance(venue, PaperVenue) else {}, quiet


async def _decide_on_events(core: TradingCore, sites: list[Ledger], clock: SimClock, cursor: Cursor,
                            apply: RowApplier, venues: list[PaperVenue], spec: BacktestSpec, markers: bool,
                            curve: Samples, exposure: Samples, income: BacktestIncome,
                            quiet: QuietPasses | None, ending: resolutions.Ending) -> int:
    """The replay with `decide_on_events` on (engine/backtest/event_replay.py): the timed passes where
    they are without it, and each market decided after the replayed events that mark it."""
    apply.triggers = triggers = event_replay.ReplayTriggers(core.events, venues)
    core.events.listen(core.bus)  # the desk's own fills and order updates (the ledgers' are listened to)
    core.events.schedule.min_gap_s = core.config.decision_min_gap_ms / 1000
    executors = [site.executor for site in sites]
    interval = core.config.tick_interval_ms
    passes, decided = await event_replay.replay(
        cursor, clock, triggers, executors, markers=markers, first_pass=spec.from_ms + interval, interval=interval,
        timed_pass=lambda at: _decide(core, sites, clock, at, curve, exposure, income, quiet, ending),
        quiet_run=None if quiet is None else _quiet_run(quiet, clock, interval, curve, exposure, income))
    return passes + decided


def _quiet_run(quiet: QuietPasses, clock: SimClock, interval: int, curve: Samples, exposure: Samples,
               income: BacktestIncome) -> Callable[[int, int], int]:
    """The replay's runs of quiet passes taken at once: each pass's curve and exposure points as
    `_decide` adds them one by one (the last valuation; the income, which samples nothing before its
    next sample, whose pass runs on its own)."""

    def run(first: int, before: int) -> int:
        count = quiet.run_of(first, interval, min(before, income.next_sample))
        if count:
            clock.now = max(clock.now, first + (count - 1) * interval)
            curve.repeat(first, interval, count, (quiet.last.equity + income.at(first)) / MICRO)
            exposure.repeat(first, interval, count, quiet.last.exposure / MICRO)
        return count

    return run


async def _decide(core: TradingCore, sites: list[Ledger], clock: SimClock, at: int, curve: Samples,
                  exposure: Samples, income: BacktestIncome, quiet: QuietPasses | None,
                  ending: resolutions.Ending) -> int:
    clock.now = at
    await ending.due(at)  # the collections job's runs due by now (what the venue owes is paid as it pays it)
    if quiet is not None and quiet.skips(at):  # nothing it reads changed: the last pass's valuation stands
        equity, held = quiet.last.equity, quiet.last.exposure
    else:
        if quiet is not None:  # the ledger's own steps first (the tick's own call then finds nothing to do)
            core.desk.prepare()
            quiet.prepared()
        valuation = await core.tick()  # the pass's own valuation (what its breakers judged)
        # A Kalshi strategy's ledger is Kalshi's paper ledger; a cross-venue one's, both ledgers together.
        valued = [valuation if site is core.desk else portfolio.valued(site.executor.state, site.marks)[0]
                  for site in sites]
        equity, held = sum(v.equity for v in valued), sum(v.exposure for v in valued)
        if quiet is not None:
            quiet.ran(at, equity, held)
    curve.add(at, (equity + income.at(at)) / MICRO)  # rewards and rebates count
    exposure.add(at, held / MICRO)
    return 1


def _quiet_passes(core: TradingCore, sites: list[Ledger], cursor: Cursor, venue: object,
                  tally: RefusalTally, ending: resolutions.Ending, passes: Passes) -> QuietPasses | None:
    """The run's quiet passes skipped (engine/backtest/quiet_passes.py): on the desk's own paper venue. The
    parts of its pass that read the clock, and the collections this run owes (`Ending`), answer when they
    next change."""
    if passes == "run" or sites != [core.desk] or not isinstance(venue, PaperVenue):
        return None
    core_parts = pass_parts(core)
    return QuietPasses(core, cursor, venue, tally, lambda: [*core_parts(), ending], verify=passes == "verify")


def _quiet_summary(passes: Passes, quiet: QuietPasses | None) -> dict:
    """What the run did with its timed passes that cannot act: how many it skipped, or, verifying,
    how many it ran to check and those that acted (each in words)."""
    if quiet is None:
        return {"mode": passes if passes == "run" else "run (only the desk's own paper ledger skips passes)"}
    if quiet.verify is None:
        return {"mode": passes, "skipped": quiet.skipped}
    return {"mode": passes, **quiet.verify.as_json()}


def _sites(core: TradingCore) -> list[Ledger]:
    """The ledgers the run's one strategy trades on: the desk's, Kalshi's paper ledger (a strategy naming
    Kalshi markets), or both (a cross-venue arbitrage: one leg on each)."""
    others: list[Ledger] = list(core.ledgers.others())
    if not others:
        return [core.desk]
    if any(hosted.instance.spans_venues for hosted in core.host.hosted.values()):
        return [core.desk, *others]
    return others


def _two_venues(books: BookCache, tokens: list[str], desk: PaperVenue, kalshi: PaperVenue) -> RowApplier:
    """A row applier for a cross-venue run: each token's book changes and prints go to its own venue's
    paper venue (Polymarket's tokens to the desk's, Kalshi's to Kalshi's ledger's)."""
    by_venue = {kalshi.venue_name: kalshi}

    def of(token: str) -> PaperVenue:
        return by_venue.get(venue_of(token), desk)

    def printed(event: TradePrint) -> None:
        of(event.token_id).on_market_event(event)

    return RowApplier(books, tokens, lambda token: of(token).by_token.get(token),
                      lambda token, at: of(token).on_book_changed(token),
                      lambda token, is_bid, price: of(token).on_level_changed(token, is_bid, price), printed)


def _print_fee(core: TradingCore) -> Callable[[str, str], None]:
    """A print's own fee rate becomes its market's taker fee from then on (the venue charged it then)."""
    def seen(token: str, data: str) -> None:
        ppm = as_it_was.print_fee_ppm(data)
        market = core.catalog.by_token(token)
        if ppm is not None and market is not None and market.fee_rate_ppm != ppm:
            core.catalog.add(dataclasses.replace(market, fee_rate_ppm=ppm, fees_known=True))
    return seen


FillMarker = Callable[[Iterable[dict]], MarkoutSummary]


def _result(core: TradingCore, curve: Samples, exposure: Samples, events: int, decisions: int,
            markets: list[MarketInfo], income: tuple[float, float], mark: FillMarker) -> BacktestResult:
    """The run's figures from its scratch ledger, read as a stream: every fill is stepped
    through the trade figures and marked out, the first KEPT_ROWS fills and orders are kept."""
    figures, fills, orders = TradeFigures(), [], []  # type: ignore[var-annotated]  # the rows' types are the scratch ledger's dicts
    with core.db.read() as conn:
        marked = mark(_stepped(kept_rows(scratch.fill_rows(conn), fills, KEPT_ROWS), figures))
        orders = scratch.first_orders(conn, KEPT_ROWS)
        fill_count, order_count = scratch.ledger_counts(conn)
    rewards, rebates = income  # (pUSD) every reward estimated and rebate accrued, to the run's last event
    summary = metric_fns.compute(curve, exposure.values, figures.closes, trades=figures.trades,
                                 fees=figures.fees / MICRO, rewards=rewards, rebates=rebates,
                                 holdings_ms=figures.holdings)
    summary = dataclasses.replace(summary, **metric_fields(marked))
    return BacktestResult(summary, curve, exposure, fills, orders, events, decisions,
                          [m.condition_id for m in markets], fill_count=fill_count, order_count=order_count)


def _stepped(rows: Iterable[dict], figures: TradeFigures) -> Iterator[dict]:
    for row in rows:
        figures.step(row)
        yield row


def _fill_marker(spec: BacktestSpec, mids: ReplayedMids, market_rows: list[dict], shares: FillShares) -> FillMarker:
    """Each fill's markouts (into its row) and the run's (the summary), from the mids the
    replay saw, up to the end of the replayed range; each fill's share of the PnL and its
    markouts into `shares` (the run's intervals)."""
    resolved = {r["condition_id"]: stored_payouts(r) for r in market_rows}
    return lambda fills: add_markouts(fills, mids, until=spec.to_ms, resolved=resolved, shares=shares)


def _trade_figures(fills: Iterable[dict]) -> tuple[list[float], int, int]:
    """(closing PnL per closing fill in pUSD, fees in micro-pUSD, trades) of fill rows in match order."""
    figures = TradeFigures()
    for row in fills:
        figures.step(row)
    return figures.closes, figures.fees, figures.trades


def run_sync(spec: BacktestSpec, main_db: Path, settings: Settings, *, work_dir: Path,
             progress: Progress | None = None, passes: Passes = "skip") -> BacktestResult:
    return asyncio.run(run(spec, main_db, settings, work_dir=work_dir, progress=progress, passes=passes))
