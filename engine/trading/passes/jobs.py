"""The trading core's periodic work beside the tick, each on a timer of its own: the equity
curve's snapshots and the daily reset, retention, the live venue's order sync, the wallet
against the ledger, stale orders, collateral, and what the venue owes. The process's scheduler
(engine/process/scheduler.py) runs the `Job`s this module describes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from contracts.domain import MICRO
from contracts.followed_wallets import parse_wallets
from contracts.runtime_settings import RuntimeConfig
from contracts.updown import parse_series
from contracts.venue_policies import policy_of
from engine.execution import portfolio
from engine.marketdata.candle_backfill import roll_old_ticks
from engine.risk.decisions_log import prune
from engine.risk.source_breaker import SourceBreaker
from engine.trading.exits.strategy_exits import cancel_stale
from engine.trading.lookouts.resolution_watch import ResolutionWatch
from engine.trading.passes.ledger import Ledger, markets_held_by
from engine.trading.settlement.auto_merge import merge_held_sets
from engine.trading.settlement.posted_resolutions import PostedResolutions
from engine.trading.settlement.resolution import settle_missed_resolutions
from engine.trading.settlement.rewards import reward_job
from engine.venues.base import VenueError
from engine.venues.market_data import FOLLOW_POLL_S, FOLLOW_STREAM_CHECK_S
from storage.engine_stores import indicator_store, portfolio_snapshots
from storage.engine_stores.tick_store import prune_ticks

if TYPE_CHECKING:
    from engine.analytics.markout_job import MarkoutJob
    from engine.trading.hosting.selection import Selection
    from engine.trading.ledgers.venue_link import VenueLink
    from engine.trading.lookouts.lookout import Lookout
    from engine.trading.settlement.rewards import RewardTracker

log = logging.getLogger("engine.trading.passes.jobs")
BALANCE_RECHECK_S = 30  # while halted for balances: look again this often
BALANCE_POLL_S = 5  # the balance job wakes this often and checks when `balance_check_s` has passed
ORDER_AGE_CHECK_S = 5
MARKOUT_S = 2  # the markout job's pass: a fill's 1 s markout is written within a few seconds
SERIES_POLL_S = 5  # the up/down series: a new window is traded within seconds of being listed
COLLATERAL_CHECK_S = 60
EARLY_SNAPSHOT_S = 10  # the equity curve's cadence for the first EARLY_WINDOW_MS of trading
EARLY_WINDOW_MS = 10 * 60_000
FILL_SNAPSHOT_S = 2  # after a fill, equity and today's PnL are snapshotted within this
SOURCE_BREAKER_S = 30  # outside sources judged this often, the markets they priced asked about first
REWARD_DEPTH = 100  # book levels the rewards estimate reads (the max spread is a few cents)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[..., Any]
    trigger: BaseTrigger
    misfire_grace_s: int = 15


class CoreJobs:
    def __init__(self, link: VenueLink, desk: Ledger, lookout: Lookout, selection: Selection,
                 rewards: RewardTracker, markouts: MarkoutJob, *,
                 config: Callable[[], RuntimeConfig], deciding: Callable[[], bool],
                 trading_since: Callable[[], int | None], others: Callable[[], list[Ledger]] = list,
                 ledger_ready: Callable[[], bool] = lambda: True):
        """What the jobs work on, each given by the core: the markets and feeds, the desk's ledger (its
        executor, risk and collections), the watch, each strategy's markets, rewards, markouts; and what they
        read of the core: the runtime settings in force, whether it decides, since when it trades, and the
        other ledgers (the desk venue's beside a live desk, another venue's: their snapshots,
        collections, resolutions and stale orders too)."""
        self.link = link
        self.desk = desk
        self.risk = desk.risk
        self.lookout = lookout
        self.selection = selection
        self.collector = desk.collections
        self.rewards = rewards
        self.markout_job = markouts
        self.config = config
        self.deciding = deciding
        self.trading_since = trading_since
        self.ledger_ready = ledger_ready  # the desk's ledger recovered for its mode (its snapshots' first condition)
        self.others = lambda: [ledger for ledger in others() if ledger.live]  # the other ledgers open
        self.filled = False  # a fill since the last fill snapshot (note_fill)
        self.resolutions = ResolutionWatch()
        self.follower = link.market_data.follower()  # the wallets followed on the desk's venue
        self.sources = SourceBreaker(link.db)
        self.posted_resolutions = PostedResolutions()  # the resolutions of the markets sources priced

    @property
    def _live_venue(self) -> bool:
        """Trading live against a connected venue (not a replay)."""
        desk = self.desk
        return desk.mode == "live" and desk.live and desk.replay is None

    def all(self) -> list[Job]:
        config = self.config()
        return [
            Job("market_refresh", self.market_refresh, IntervalTrigger(minutes=config.market_refresh_minutes)),
            Job("portfolio_snapshot", self.snapshot, IntervalTrigger(seconds=config.snapshot_interval_s)),
            Job("early_snapshots", self.early_snapshot, IntervalTrigger(seconds=EARLY_SNAPSHOT_S)),
            Job("fill_snapshots", self.fill_snapshot, IntervalTrigger(seconds=FILL_SNAPSHOT_S)),
            Job("daily_reset", self.daily, CronTrigger(hour=0, minute=0, timezone="UTC"), misfire_grace_s=3600),
            Job("decisions_retention", self.decisions_retention, IntervalTrigger(hours=1)),
            Job("ticks_retention", self.ticks_retention, IntervalTrigger(hours=6)),
            Job("venue_sync", self.venue_sync, IntervalTrigger(seconds=config.venue_sync_s)),
            Job("balance_check", self.balance, IntervalTrigger(seconds=BALANCE_POLL_S)),
            Job("order_age", self.order_age, IntervalTrigger(seconds=ORDER_AGE_CHECK_S)),
            Job("collateral", self.collateral, IntervalTrigger(seconds=COLLATERAL_CHECK_S)),
            Job("collections", self.collections, IntervalTrigger(seconds=config.redeem_check_s)),
            Job("liquidity_rewards", self.liquidity_rewards, IntervalTrigger(seconds=self.rewards.sample_s)),
            Job("markouts", self.markouts, IntervalTrigger(seconds=MARKOUT_S)),
            Job("follow_wallets", self.follow_wallets, IntervalTrigger(seconds=FOLLOW_POLL_S)),
            Job("follow_stream", self.follow_stream, IntervalTrigger(seconds=FOLLOW_STREAM_CHECK_S)),
            Job("series_discovery", self.series_discovery, IntervalTrigger(seconds=SERIES_POLL_S)),
            Job("source_breaker", self.source_breaker, IntervalTrigger(seconds=SOURCE_BREAKER_S)),
        ]

    async def source_breaker(self) -> None:
        """Outside sources of fair values judged on their calibration (engine/risk/source_breaker.py),
        on every market they priced that has resolved: the venue asked first about those not yet
        recorded (engine/trading/settlement/posted_resolutions.py)."""
        if self.link.replay is not None:
            return
        try:
            await self.posted_resolutions.record(self.desk, self.link.market_data)
        except Exception as exc:  # best effort: judged on what is recorded; the next pass asks again
            log.warning("could not read the resolutions of the markets sources priced", extra={"error": str(exc)})
        await asyncio.to_thread(self.sources.run, self.config(), self.link.clock())

    async def series_discovery(self) -> None:
        """The up/down series' new windows, found as they open (the desk venue's series,
        engine/venues/market_data.py `UpDownSeries`) and traded at once: the catalog read afresh, each strategy's
        markets chosen again, their books subscribed; then each open window's price to beat and pricing."""
        link = self.link
        series = parse_series(self.config().updown_series)  # checked when saved
        updown = link.references.series
        if link.replay is not None or not series or updown is None:
            return
        if await updown.discover(series, link.clock() / 1000):
            link.catalog.load(link.db)
            self.selection.reselect(self.desk.executor)
            link.subscribe()
        await updown.check(link.catalog.all(), link.clock())

    async def follow_wallets(self) -> None:
        """The followed wallets' trades read from the venue's listing, what the stream missed or has not
        heard (the desk venue's follower, engine/venues/market_data.py), kept for copy_trading."""
        if self.link.replay is not None:
            return
        wallets = [w for w in parse_wallets(self.config().followed_wallets) if w.enabled]
        if wallets:
            await self.follower.poll(wallets, self.link.clock())

    async def follow_stream(self) -> None:
        """The venue's real-time trade stream follows the wallets followed now; after it reconnects, the
        venue's listing is read at once for what it missed."""
        if self.link.replay is not None:
            return
        wallets = [w for w in parse_wallets(self.config().followed_wallets) if w.enabled]
        if await self.follower.watch(wallets) and wallets:
            await self.follower.poll(wallets, self.link.clock())

    async def settle_missed(self) -> None:
        """Held markets that resolved while nobody listened, settled (engine/trading/settlement/resolution.py)."""
        if self.link.replay is not None:
            return
        try:
            also = set().union(*(markets_held_by(ledger) for ledger in self.others()))
            await settle_missed_resolutions(self.desk, self.link.market_data, also=also)
        except Exception as exc:  # best effort: the next refresh tries again
            log.warning("could not check held markets for resolution", extra={"error": str(exc)})

    async def market_refresh(self) -> None:
        """The market refresh: resolutions missed, new markets, each strategy's selection afresh."""
        link = self.link
        await self.settle_missed()
        await link.discover()
        self.resolutions.check(link.db, self.desk.executor.state, link.catalog)
        self.selection.reselect(self.desk.executor)
        link.subscribe()

    async def liquidity_rewards(self) -> None:
        """Liquidity rewards: scoring of the resting orders, estimates and payouts (trading/settlement/rewards.py)."""
        link, desk = self.link, self.desk
        if not desk.live or link.replay is not None:
            return
        venue = desk.executor.venue if desk.mode == "live" and hasattr(desk.executor.venue, "orders_scoring") else None
        catalog = link.catalog
        refreshed = await reward_job(self.rewards, mode=desk.mode, book_of=lambda t: link.books.book(t, REWARD_DEPTH),
                                     yes_token=lambda cid: (m.yes_token if (m := catalog.get(cid)) else None),
                                     fetch_page=link.reward_page, venue=venue)  # type: ignore[arg-type]  # the live venue has orders_scoring (hasattr above)
        if refreshed:
            catalog.load(link.db)  # the strategies see each market's program

    async def markouts(self) -> None:
        """Each fill's markouts, written once their horizons have passed (engine/analytics/markout_job.py)."""
        await asyncio.to_thread(self.markout_job.run, self.link.clock())

    def snapshot(self, kind: str = "scheduled") -> portfolio.Valuation:
        """The ledgers' equity for the curve, written only from a complete valuation: the ledger loaded
        for its mode (never the empty one of a mode switch or a start still recovering: a zero) and every
        held position valued from its book (never at cost while its book is on its way: a jump)."""
        desk = self.desk
        state, now = desk.executor.state, desk.clock()
        valuation, books = portfolio.valued(state, desk.marks)
        if self.ledger_ready() and valuation.complete:
            with desk.db.write() as conn:
                portfolio_snapshots.write_snapshot(conn, desk.mode, valuation, now, kind, desk.venue_name)
                portfolio_snapshots.write_strategy_snapshots(conn, desk.mode, books, now, desk.venue_name)
        else:
            log.info("snapshot skipped: the valuation is not complete",
                     extra={"ready": self.ledger_ready(), "unmarked": list(valuation.unmarked)[:5]})
        for ledger in self.others():
            ledger.snapshot(kind)
        return valuation

    def early_snapshot(self) -> None:
        """Snapshots every EARLY_SNAPSHOT_S for the first minutes of trading, so the equity curve
        of a fresh start is a curve, not a line between two points a minute apart."""
        since = self.trading_since()
        if since is not None and self.deciding() and self.link.clock() - since <= EARLY_WINDOW_MS:
            self.snapshot("scheduled")

    def note_fill(self) -> None:
        self.filled = True

    def fill_snapshot(self) -> None:
        """A snapshot soon after a fill, so the Overview's equity and today's PnL move with it
        rather than at the next minute's snapshot (the Orders page shows the fill at once)."""
        if self.filled and self.link.replay is None:
            self.filled = False
            self.snapshot("scheduled")

    def daily(self) -> None:
        self.risk.daily_reset(self.snapshot("daily").equity)

    def decisions_retention(self) -> None:
        prune(self.link.db, now=self.link.clock(), retention_days=self.config().decisions_retention_days)

    async def ticks_retention(self) -> None:
        cutoff = self.link.clock() - self.config().record_retention_days * 86_400_000
        # Ticks recorded before the recorder kept candles are rolled into candles before they go.
        await asyncio.to_thread(roll_old_ticks, self.link.db.path, before_ms=cutoff)
        await asyncio.to_thread(prune_ticks, self.link.db.path, before_ms=cutoff)
        await asyncio.to_thread(indicator_store.prune, self.link.db, cutoff)  # recorded with the ticks, kept as long

    async def venue_sync(self) -> None:
        """Live: close orders the venue no longer has, import the ones it has that we do not."""
        if self._live_venue:
            await self.desk.executor.sync_with_venue()
        for ledger in self.others():
            if ledger.mode == "live":  # a venue armed live on its own: its orders as it lists them
                await ledger.executor.sync_with_venue()

    async def balance(self) -> None:
        """Live: the wallet against the ledger every `balance_check_s` while trading (every
        BALANCE_RECHECK_S while halted for balances, so the halt ends once they agree again);
        engine/trading/lookouts/balance_watch.py says what a difference does."""
        every = BALANCE_RECHECK_S if self.risk.halted_for_balances else self.config().balance_check_s
        if self.lookout.balance_watch.due(self.link.clock(), every):
            await self.check_balances()
        config = self.config()
        for ledger in self.others():  # a live ledger (a venue armed live on its own): its venue against its ledger
            again = BALANCE_RECHECK_S if ledger.risk.halted_for_balances else config.balance_check_s
            try:
                await ledger.check_balances(tolerance_usdc=config.balance_drift_tolerance_usdc, every_s=again)
            except VenueError as exc:
                log.warning("a ledger's balances could not be read", extra={"ledger": ledger.label, "error": str(exc)})

    async def check_balances(self) -> None:
        """Live: compare the wallet with the ledger now (the balance job's work, without its timer)."""
        if self._live_venue:
            config = self.config()
            await self.lookout.check_balances(self.desk, self.risk, now=self.link.clock(),
                                              tolerance_usdc=config.balance_drift_tolerance_usdc,
                                              feed_down_s=config.alert_feed_down_s)

    async def order_age(self) -> None:
        """The stale-order clean-up: resting orders past their strategy's max order age."""
        if self.deciding() and self.desk.live:
            await cancel_stale(self.desk, self.risk)
            for ledger in self.others():
                await cancel_stale(ledger, ledger.risk)

    async def collateral(self) -> None:
        """Live: the wallet's collateral; paper: the ledger's cash (against the low-collateral alert)."""
        desk = self.desk
        if not desk.live or desk.replay is not None:
            return
        if desk.mode == "live":
            collateral = (await desk.executor.venue.balances([])).collateral
        else:
            collateral = desk.executor.state.cash
        self.lookout.watch.collateral_now(collateral, desk.clock())

    async def collections(self) -> None:
        """What the venue paid, booked; redeem and merge transactions followed; final markets
        redeemed (engine/trading/settlement/collections.py)."""
        if not self.desk.live or self.link.replay is not None:
            return
        await self.collect_owed()
        config = self.config()
        if config.auto_merge_min_sets > 0:  # held YES+NO sets back to cash (engine/trading/settlement/auto_merge.py)
            await merge_held_sets(self.collector, round(config.auto_merge_min_sets * MICRO))

    async def collect_owed(self) -> None:
        """Every ledger's collections: what its venue paid booked, resolved markets redeemed. A replay runs it at
        its simulated times while a claim is owed (engine/backtest/resolutions.py)."""
        config = self.config()
        await self.collector.run(auto=bool(config.auto_redeem), grace_ms=config.auto_redeem_grace_s * 1000)
        for ledger in self.others():  # a paper ledger's redemptions, on its paper venue
            if policy_of(ledger.venue_name).redeems:
                await ledger.collections.run(auto=bool(config.auto_redeem), grace_ms=config.auto_redeem_grace_s * 1000)
            else:  # a venue that pays a settled market by itself: on paper its stand-in pays when asked at
                # once; live, there is nothing to ask for, only what the venue paid to book
                await ledger.collections.run(auto=ledger.mode == "paper", grace_ms=0)
