"""The markets the trading core trades through, and how a ledger's venue is built: the feeds (the desk's,
and a registered venue's own) and the books, the catalog, market discovery, fee schedules, the feed's
subscriptions, the reference prices and the marks; the executor and the settlement venue of a (venue,
mode), which each ledger (engine/trading/passes/ledger.py) owns. What the desk reads of its own venue's
markets (its channel, listing, fees, reward programs) is that venue's market data, from its adapter
(engine/venues/market_data.py, engine/venues/registry.py `desk_market_data`).

The core owns the decisions; this owns the connections to the market. Every executor is built here
with the one order gate of the desk (engine/execution/placement.py), so "orders are blocked" survives
every rebuild (a reopened venue, a mode switch). Which adapter a venue gets is
engine/venues/registry.py's to say; what differs in how it trades, its policy's
(contracts/venue_policies.py).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from contracts.domain import MICRO, Book
from contracts.latency_spec import LatencyError
from contracts.runtime_settings import RuntimeConfig
from contracts.settings import Settings
from contracts.venue_policies import policy_for_market, policy_of
from engine.execution import portfolio
from engine.execution.bus import EventBus
from engine.execution.executor import Executor
from engine.execution.lookups import ExecutorConfig
from engine.execution.placement import OrderGate
from engine.execution.state import ExecutionState
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog, Row
from engine.risk.monitor import RiskMonitor
from engine.trading.ledgers.own_orders import OwnBooks, OwnOrders
from engine.trading.ledgers.references import References
from engine.trading.parts import ReplaySource
from engine.venues.base import Venue
from engine.venues.latency import DEFAULT_MODEL, LatencyModel, LatencyUnmeasured
from engine.venues.latency import resolve as resolve_latency
from engine.venues.market_data import BookFeed
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.paper_settlement import PaperSettlement
from engine.venues.registry import (
    FeedParts,
    LiveParts,
    MarketDataParts,
    VenueFeed,
    adapter_of,
    desk_market_data,
    live_settlement,
    venue_feeds,
)
from engine.venues.settlement import SettlementVenue
from storage.desk.audit import raise_alert
from storage.engine_stores import quarantine_store
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.ledgers.venue_link")


class VenueLink:
    def __init__(self, settings: Settings, db: Database, *, clock: Callable[[], int],
                 replay: ReplaySource | None, config: Callable[[], RuntimeConfig], bus: EventBus, gate: OrderGate,
                 desk_state: Callable[[], ExecutionState], strategy_markets: Callable[[], set[str]]):
        """`config` reads the runtime settings in force; `desk_state` the desk's own ledger as it stands;
        `strategy_markets` the markets the strategies select (the feed follows them, with what is held or
        worked)."""
        self.settings = settings
        self.db = db
        self.clock = clock
        self.replay = replay
        self._config = config
        self.gate = gate
        self._desk_state = desk_state
        self._strategy_markets = strategy_markets
        self.books = BookCache()
        self.catalog = MarketCatalog(set_aside=self._set_aside)
        # Live, the books as decisions and marks read them: without the desk's own orders (nor a live ledger's).
        self.own = OwnBooks(OwnOrders(self.books, self.catalog, desk_state, clock))
        if replay is None:
            self.own.watch(bus)
        self.market_data = desk_market_data(MarketDataParts(settings, db, self.catalog, self.books, clock))
        # The feed stamps books with the core's clock: staleness is measured on one clock.
        self.feed: BookFeed = replay.feed(self.books) if replay else self.market_data.feed()
        # Reference, up/down series and paired-market prices (trading/ledgers/references.py); a replay reads no pairs.
        self.references = References(settings, self.catalog, self.books, None if replay else db,
                                     replayed_pairs=replay.pairs if replay else None, series=self.market_data.up_down())
        # The registered venues' own feeds (engine/venues/adapter.py `feed`); a replay replays their books.
        self.venue_feeds: list[VenueFeed] = [] if replay else venue_feeds(
            FeedParts(settings, self.catalog, self.books, clock, self.relevant_markets))
        self.discovery_failing = False  # the last market refresh failed (alerted once)
        self.refresh_markets = self.market_data.refresh_job(traded=self.relevant_markets)

    # -- building ----------------------------------------------------------------------

    def executor_for(self, venue_name: str, mode: str, risk: RiskMonitor, bus: EventBus) -> Executor:
        """A ledger's executor: on paper, a paper venue standing in for `venue_name` on the desk's books; live,
        the venue itself (its adapter). The ledger's own risk checks and bus, the desk's one order gate (a kill
        blocks every ledger's orders)."""
        if mode == "paper":
            return self._executor(self._paper_venue(venue_name), "paper", risk, bus, venue_name)
        live = adapter_of(venue_name).live(self._live_parts())
        return self._executor(live.venue, "live", risk, bus, venue_name, lost_grace_ms=live.lost_after_ms)

    def _live_parts(self) -> LiveParts:
        return LiveParts(self.settings, self.catalog, heartbeat_s=self._config().venue_heartbeat_s)

    def _paper_venue(self, venue_name: str) -> PaperVenue:
        return PaperVenue(self.db, self.books, self.catalog, clock=self.clock, config=self.paper_config(venue_name),
                          venue_name=venue_name)

    def _executor(self, venue: Venue, mode: str, risk: RiskMonitor, bus: EventBus,
                  venue_name: str, lost_grace_ms: int | None = None) -> Executor:
        """`lost_grace_ms`: how long an unacknowledged placement waits before it is LOST, when the
        venue answers sooner than the desk's setting allows for (at most the setting)."""
        grace = self.settings.lost_order_grace_s * 1000
        grace = grace if lost_grace_ms is None else min(grace, lost_grace_ms)
        counter = iter(range(1, 2**62))
        prefix = policy_of(venue_name).replay_order_prefix  # one replay, one id per order
        ids = (lambda: f"{prefix}{next(counter)}") if self.replay else None
        return Executor(self.db, venue, self.catalog, mode=mode, clock=self.clock, new_client_id=ids,
                        placement_check=risk.check_placement, bus=bus, gate=self.gate, venue_name=venue_name,
                        config=ExecutorConfig(lost_grace_ms=grace))

    def build_settlement(self, mode: str, venue_name: str) -> SettlementVenue:
        """Where a ledger's positions end in cash: the paper venue's own redemptions, or the venue's adapter
        (redeemed claims, or what a venue that pays by itself paid: engine/venues/registry.py)."""
        if mode == "paper":
            return PaperSettlement(self.db, self.catalog, clock=self.clock,
                                   delay_ms=self._config().paper_mined_after_ms, pays_income=self.replay is None,
                                   new_id=_counted(venue_name) if self.replay else None)
        return live_settlement(venue_name, self.settings, lambda cid: self.catalog.resolution(cid) is not None)

    def paper_config(self, venue_name: str) -> PaperConfig:
        """The paper venue's settings. Standing in for a venue whose fills are final when they match
        (`fills_final_on_match`): no chain to mine one, nothing to fail it, as there."""
        paper = self._paper_settings()
        if not policy_of(venue_name).fills_final_on_match:
            return paper
        return replace(paper, mined_after_ms=0, confirmed_after_ms=0, fail_rate=0.0)

    def _paper_settings(self) -> PaperConfig:
        config = self._config()
        mined = config.paper_mined_after_ms
        seed = self.replay.seed if self.replay else self.settings.simulator_seed
        return PaperConfig(mined_after_ms=mined, confirmed_after_ms=mined * 3,
                           fail_rate=config.paper_fail_rate, seed=seed,
                           starting_cash=int(config.paper_starting_cash * MICRO),  # the ledger's too
                           save_queues_each_tick=self.replay is None,
                           latency=self._latency(config))

    def _latency(self, config: RuntimeConfig) -> LatencyModel:
        """The replay's model, or the setting's; `measured` without enough live placements to draw
        from trades on the default, alerted (never on zero, which would flatter)."""
        if self.replay is not None and self.replay.latency is not None:
            return self.replay.latency
        try:
            return resolve_latency(config.paper_latency, self.db)
        except (LatencyError, LatencyUnmeasured) as exc:
            with self.db.write() as conn:
                raise_alert(conn, level="warning", source="engine", code="PAPER_LATENCY_DEFAULT",
                            message=f"{exc}; the paper venue uses the default ({DEFAULT_MODEL.describe()})")
            return DEFAULT_MODEL

    # -- markets and feeds -------------------------------------------------------------

    async def discover(self) -> None:
        """New markets from the venue (not in a replay), then the catalog read afresh, and the registered
        venues' own feeds (re)started, which put their markets in it; a set-aside market the venue wrote a
        good row for again leaves the quarantine."""
        if self.replay is None:
            try:
                await self.refresh_markets()
            except Exception as exc:  # the venue may be briefly down: trade what the table knows
                log.warning("market discovery failed; using stored markets", extra={"error": str(exc)})
                self._discovery_failed(str(exc))
            else:
                self._discovery_ok()
        self.catalog.load(self.db)
        for feed in self.venue_feeds:
            await feed.start()
        with self.db.write() as conn:
            quarantine_store.markets_back(conn)

    def _discovery_failed(self, error: str) -> None:
        """The first failed refresh of a run of them alerts; the stored catalog stays in force."""
        if self.discovery_failing:
            return
        self.discovery_failing = True
        with self.db.write() as conn:
            raise_alert(conn, level="warning", source="engine", code="MARKETS_REFRESH_FAILED",
                        message=f"the market refresh failed ({error[:300]}); the desk trades the markets it "
                                "already knows until a refresh reads the venue's listing whole again")

    def _discovery_ok(self) -> None:
        if not self.discovery_failing:
            return
        self.discovery_failing = False
        with self.db.write() as conn:
            raise_alert(conn, level="info", source="engine", code="MARKETS_REFRESH_OK",
                        message="the market refresh reads the venue's listing again")

    def _set_aside(self, rows: list[tuple[Row, str]]) -> None:
        """Rows the catalog could not load leave the catalog for the quarantine, alerted: the
        engine runs without them rather than failing (storage/engine_stores/quarantine_store.py)."""
        log.error("market rows set aside", extra={"markets": [str(r.get("condition_id")) for r, _ in rows]})
        with self.db.write() as conn:
            quarantine_store.set_aside_markets(conn, rows, self.clock())

    async def ensure_fees(self, condition_ids: list[str] | None = None) -> None:
        """Read the fee schedule of every market we trade, hold or work (or of `condition_ids`:
        a manual ticket's market) whose schedule is not known yet, so neither a preview nor a
        fill ever books an unknown fee as 0."""
        asked = self.relevant_markets() if condition_ids is None else condition_ids
        # Only a venue whose fee rates are asked per market is asked (`fee_rates_asked`); another's are
        # known from its rules.
        unknown = [cid for cid in self.catalog.fees_unknown(asked) if policy_for_market(cid).fee_rates_asked]
        if not unknown or self.replay is not None:
            return
        try:
            await self.market_data.read_fees(unknown)
        except Exception as exc:  # the next market refresh tries again
            log.warning("fee schedules could not be read", extra={"markets": len(unknown), "error": str(exc)})
        self.catalog.load(self.db)

    def relevant_markets(self) -> list[str]:
        """Strategies' markets plus any the desk's ledger holds or works, sorted: every pass sees them in the
        same order, so a backtest replays the same decisions."""
        state = self._desk_state()
        held = {cid for (cid, _) in state.position_market.values()}
        working = {o.condition_id for o in state.orders.values()}
        return sorted(self._strategy_markets() | held | working)

    def subscribe(self) -> None:
        """The feed follows exactly the tokens of the relevant markets on the desk's feed
        (`desk_feed`: a paired market of another venue is followed by its pair feeds, references.py)."""
        tokens = set()
        for cid in self.relevant_markets():
            info = self.catalog.get(cid)
            if info is not None and policy_for_market(cid).desk_feed:
                tokens |= {info.yes_token, info.no_token}
        current = self.feed.subscribed()
        if tokens - current:
            self.feed.subscribe(tokens - current)
        if current - tokens:
            self.feed.unsubscribe(current - tokens)

    async def start_reference(self) -> None:
        """The reference price feeds of the settings (each restarted when its setting changed)."""
        await self.references.start(self._config())

    async def close_feeds(self) -> None:
        await self.feed.close()
        await self.references.close()
        for feed in self.venue_feeds:
            await feed.close()

    def marks(self, token_id: str) -> Book | None:
        """The book a position is valued and sold at: live, without the orders of the ledger trading there."""
        return self.own.book(token_id, portfolio.MARK_DEPTH)

    async def reward_page(self, cursor: str) -> Any:
        """One page of the venue's current liquidity-reward programs."""
        return await self.market_data.reward_page(cursor)


def _counted(venue_name: str) -> Callable[[], str]:
    """A replay's settlement requests numbered (32 hex digits, the venue's and the count first): the same run
    gives the same rows."""
    venue = hashlib.sha256(venue_name.encode()).hexdigest()[:8]
    counter = itertools.count(1)

    def next_id() -> str:
        n = next(counter)
        return f"{venue}{n:08x}{n:016x}"
    return next_id
