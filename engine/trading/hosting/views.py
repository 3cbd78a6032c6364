"""Building the frozen pictures handed to strategies and to the risk gate.

Nothing here invents data: a market without a cached book gets `None` books (strategies
stay out, the gate calls it stale), and fair values and reference prices appear only when
an operator, an external signal or the reference feed supplied them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from contracts.domain import (
    ONE,
    CopiedTrade,
    MarketView,
    OrderView,
    OwnMarkout,
    PositionView,
    Side,
    Snapshot,
    SourcedFair,
    StrategyState,
)
from contracts.market_filter import MarketCandidate
from contracts.venue_policies import policy_for_market
from engine.execution import portfolio
from engine.execution.state import ExecutionState
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.reference import ReferenceSource
from engine.trading.hosting import fair_history
from engine.trading.ledgers.own_orders import OwnBooks
from engine.trading.ledgers.references import References
from storage.desk.audit import raise_alert
from storage.engine_stores import follow_store, trading_reads
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.hosting.views")
T = TypeVar("T")

OPERATOR_SOURCE = "operator"
DEPTH = portfolio.MARK_DEPTH  # one frozen book per token per tick, shared with the marks


def market_views(condition_ids: Iterable[str], catalog: MarketCatalog, books: BookCache,
                 fair_values: Mapping[str, int], reference: ReferenceSource | None,
                 copies: Mapping[str, tuple[CopiedTrade, ...]] | None = None,
                 pairs: Mapping[str, tuple[str, bool]] | None = None,
                 confidences: Mapping[str, int | None] | None = None,
                 own: OwnBooks | None = None,
                 sources: Mapping[str, tuple[SourcedFair, ...]] | None = None) -> dict[str, MarketView]:
    """Each market as strategies see it; `pairs`: the markets linked by hand to another venue's market;
    `confidences`: how sure each fair value's source is; `own`: live, the books read without the
    orders of the ledger trading in them (engine/trading/ledgers/own_orders.py); `sources`: every
    source's fair value in force, by market."""
    read = own.book if own is not None else books.book
    views: dict[str, MarketView] = {}
    for cid in condition_ids:
        info = catalog.get(cid)
        if info is None:
            continue
        last = books.last_trade(info.yes_token)
        latest = reference.reference(cid) if reference is not None else None
        views[cid] = MarketView(
            info=info, yes=read(info.yes_token, DEPTH), no=read(info.no_token, DEPTH),
            last_trade=last.price if last is not None else None,
            fair_value=fair_values.get(cid),
            fair_confidence=(confidences or {}).get(cid),
            reference=None if latest is None else latest[0],
            reference_at=None if latest is None else latest[1],
            reference_history=() if latest is None or reference is None else reference.history(cid),
            copies=(copies or {}).get(cid, ()),
            pair=(pairs or {}).get(cid),
            fair_sources=(sources or {}).get(cid, ()),
        )
    return views


def load_copies(db: Database, catalog: MarketCatalog, since: int) -> dict[str, tuple[CopiedTrade, ...]]:
    """The followed wallets' trades since `since`, by market, in YES space (a NO bought at q is YES
    sold at 1 - q); a trade in a market the catalog does not know, or of a token not its own, is
    left out."""
    with db.read() as conn:
        rows = follow_store.recent(conn, since)
    found: dict[str, list[CopiedTrade]] = {}
    for row in rows:
        copied = _copied(row, catalog)
        if copied is not None:
            found.setdefault(row.condition_id, []).append(copied)
    return {cid: tuple(trades) for cid, trades in found.items()}


def _copied(row: follow_store.Followed, catalog: MarketCatalog) -> CopiedTrade | None:
    """A kept trade in YES space, or None when its market or token is not the catalog's."""
    info = catalog.get(row.condition_id)
    if info is None or row.token_id not in (info.yes_token, info.no_token):
        return None
    side = Side(row.side)
    if row.token_id == info.no_token:
        side, price = (Side.SELL if side is Side.BUY else Side.BUY), ONE - row.price
    else:
        price = row.price
    return CopiedTrade(f"{row.wallet}:{row.trade_key}", row.label, side, price, row.size, row.at)


class ReplayedCopies:
    """A replay's followed trades (its scratch database holds the run's, read once), each seen from
    when the desk kept it (`seen_at`) while it is within COPY_WINDOW_MS of the replay's clock: what a
    copy-trading strategy saw live, as it saw it."""

    def __init__(self, known: list[tuple[int, CopiedTrade, str]]) -> None:
        self.known = known  # (seen at, trade, market), in the order the desk kept them
        self.next = 0
        self.seen: list[tuple[CopiedTrade, str]] = []
        self.shown: dict[str, tuple[CopiedTrade, ...]] = {}
        self.oldest = 0  # the earliest trade time among those seen: the shown set changes when it ages out

    def at(self, now: int) -> dict[str, tuple[CopiedTrade, ...]]:
        start = self.next
        while self.next < len(self.known) and self.known[self.next][0] <= now:
            self.seen.append(self.known[self.next][1:])
            self.next += 1
        if self.next == start and (not self.seen or self.oldest >= now - COPY_WINDOW_MS):
            return self.shown
        self.seen = [(trade, cid) for trade, cid in self.seen if trade.at_ms >= now - COPY_WINDOW_MS]
        self.oldest = min((trade.at_ms for trade, _ in self.seen), default=0)
        found: dict[str, list[CopiedTrade]] = {}
        for trade, cid in sorted(self.seen, key=lambda seen: seen[0].at_ms):  # oldest first, as live reads them
            found.setdefault(cid, []).append(trade)
        self.shown = {cid: tuple(trades) for cid, trades in found.items()}
        return self.shown


def snapshot(now: int, views: Mapping[str, MarketView], condition_ids: Iterable[str],
             hosted: Iterable[str] = ()) -> Snapshot:
    """The markets `condition_ids` a strategy decides now (those with a view), the rest of its markets
    (`hosted`) named as undecided: still its own (contracts/domain.py, Snapshot)."""
    markets = {cid: views[cid] for cid in condition_ids if cid in views}
    return Snapshot(now_ms=now, markets=markets, undecided=frozenset(cid for cid in hosted if cid not in markets))


def strategy_state(name: str, condition_ids: Iterable[str], catalog: MarketCatalog, state: ExecutionState,
                   allocation: int = 0, book: portfolio.StrategyBook | None = None,
                   markouts: Mapping[str, tuple[OwnMarkout, ...]] | None = None) -> StrategyState:
    """What a strategy may know of itself. Its cash is the wallet's free cash, or, with an
    allocation, the allocation plus its realized PnL less fees and what it has at risk (never
    more than the wallet's free cash); its markouts are its recent fills' (trading/hosting/own_markouts.py)."""
    positions: dict[str, PositionView] = {}
    orders: list[OrderView] = []
    for cid in condition_ids:
        info = catalog.get(cid)
        if info is None:
            continue
        positions[cid] = state.position_view(name, info)
        orders += [OrderView(o.client_id, cid, o.outcome, o.side, o.price, o.size, o.filled, o.status.value)
                   for o in state.open_for(name, cid)]
    free = max(0, state.cash - state.reserved_buy_cash())
    if allocation > 0:
        own = book or portfolio.StrategyBook()
        free = min(free, max(0, allocation + own.realized - own.fees - own.exposure))
    return StrategyState(name=name, positions=positions, open_orders=tuple(orders), cash=free,
                         markouts=markouts or {})


def load_fair_values(db: Database, now: int) -> dict[str, int]:
    """Operator values win over external ones; among external sources the newest wins. A signal
    past its `expires_at` (a news signal's time-to-live) is no longer a fair value, nor one whose
    source the model-confidence breaker benched (engine/risk/source_breaker.py)."""
    return {cid: value for cid, (value, _) in load_fair_signals(db, now).items()}


def load_fair_signals(db: Database, now: int) -> dict[str, tuple[int, int | None]]:
    """`load_fair_values` with each fair value's confidence."""
    return read_fair_signals(db, now)[0]


def read_fair_signals(db: Database, now: int) -> tuple[dict[str, tuple[int, int | None]], int]:
    """`load_fair_signals`, and how many stored values were left out: a value that is not a
    probability in micro-units (written around the desk's writers) is never a fair value."""
    with db.read() as conn:
        stored = trading_reads.fair_signals(conn, now=now, operator_source=OPERATOR_SOURCE)
    kept: dict[str, tuple[int, int | None]] = {}
    for cid, (value, confidence) in stored.items():
        if type(value) is int and 0 <= value <= ONE:
            kept[cid] = (value, confidence)
    return kept, len(stored) - len(kept)


def read_fair_sources(db: Database, now: int) -> dict[str, tuple[SourcedFair, ...]]:
    """Every source's fair value in force, by market (what an ensemble weighs); a stored value that is
    not a probability in micro-units is left out, as `read_fair_signals` leaves it out."""
    with db.read() as conn:
        rows = trading_reads.fair_sources(conn, now=now, operator_source=OPERATOR_SOURCE)
    found: dict[str, list[SourcedFair]] = {}
    for cid, source, value, confidence, brier in rows:
        if type(value) is int and 0 <= value <= ONE:
            found.setdefault(cid, []).append(SourcedFair(source, value, _micros_or_none(confidence),
                                                         _micros_or_none(brier)))
    return {cid: tuple(fairs) for cid, fairs in found.items()}


def _micros_or_none(value: object) -> int | None:
    return value if type(value) is int and 0 <= value <= ONE else None


def candidates(db: Database, catalog: MarketCatalog) -> list[MarketCandidate]:
    with db.read() as conn:
        rows = trading_reads.market_activity(conn)
    out = []
    for cid, volume, liquidity, volume_24h in rows:
        info = catalog.get(cid)
        if info is not None:
            out.append(MarketCandidate(info, volume, liquidity, volume_24h))
    # The paired venue's markets of the operator's pairs (`catalog_rows` false): a strategy that names
    # one trades it (no activity is known of them here, and a filter never selects them:
    # contracts/market_filter.py).
    return out + [MarketCandidate(info, 0, 0, 0) for info in catalog.all()
                  if not policy_for_market(info.condition_id).catalog_rows]


FAIR_VALUE_RELOAD_MS = 5_000
COPY_WINDOW_MS = 3_600_000  # followed trades a strategy sees: the last hour's


class SignalReads:
    """The fair values and the followed wallets' trades the market pictures carry, read from the
    database every FAIR_VALUE_RELOAD_MS rather than every tick. A replay's scratch database holds the
    run's fair values as the desk received them (read once, each in force from when it was received until
    it expired or was replaced: engine/trading/hosting/fair_history.py) and the followed trades of the run
    (read once, each shown from when the desk kept it: ReplayedCopies)."""

    def __init__(self, db: Database, catalog: MarketCatalog, *, replay: bool,
                 followed_kept: Callable[[], int] = lambda: 0):
        """`followed_kept`: how many followed trades the follower has kept; when it changes the
        copies are read at the next tick, not the next reload (a copy at the speed of the trade)."""
        self.db, self.catalog, self.replay = db, catalog, replay
        self.fair: dict[str, int] = {}
        self.confidence: dict[str, int | None] = {}
        self.sources: dict[str, tuple[SourcedFair, ...]] = {}
        self.fair_at = 0
        self.copies: dict[str, tuple[CopiedTrade, ...]] = {}
        self.copies_at = 0
        self.told: set[str] = set()  # what was alerted this run (each said once)
        self.followed_kept = followed_kept
        self.copies_kept = 0
        self.replayed: ReplayedCopies | None = None
        self.history: fair_history.ReplayedFairValues | None = None  # a replay's fair values, as they were

    def fair_values(self, now: int) -> dict[str, int]:
        if self.replay:  # each as the desk held it at the replay's time (engine/trading/hosting/fair_history.py)
            if self.history is None:
                with self.db.read() as conn:
                    self.history = fair_history.from_rows(*trading_reads.fair_value_history(conn), OPERATOR_SOURCE)
            held = self.history.at(now)
            self.fair, self.confidence, self.sources = held.fair, held.confidence, held.sources
            return self.fair
        if now - self.fair_at > FAIR_VALUE_RELOAD_MS:
            none: dict[str, tuple[int, int | None]] = {}
            signals = self._read("fair values", lambda: self._checked(read_fair_signals(self.db, now)), none)
            self.fair = {cid: value for cid, (value, _) in signals.items()}
            self.confidence = {cid: confidence for cid, (_, confidence) in signals.items()}
            nothing: dict[str, tuple[SourcedFair, ...]] = {}
            self.sources = self._read("fair values by source", lambda: read_fair_sources(self.db, now), nothing)
            self.fair_at = now
        return self.fair

    def followed(self, now: int) -> dict[str, tuple[CopiedTrade, ...]]:
        if self.replay:
            if self.replayed is None:
                with self.db.read() as conn:
                    known = follow_store.known(conn)
                self.replayed = ReplayedCopies([(seen, copied, row.condition_id) for seen, row in known
                                                if (copied := _copied(row, self.catalog)) is not None])
            return self.replayed.at(now)
        kept = self.followed_kept()
        if now - self.copies_at > FAIR_VALUE_RELOAD_MS or kept != self.copies_kept:
            nothing: dict[str, tuple[CopiedTrade, ...]] = {}
            self.copies, self.copies_at = self._read(
                "followed trades", lambda: load_copies(self.db, self.catalog, now - COPY_WINDOW_MS), nothing), now
            self.copies_kept = kept
        return self.copies

    def _checked(self, read: tuple[dict[str, tuple[int, int | None]], int]) -> dict[str, tuple[int, int | None]]:
        values, refused = read
        if refused:
            self._tell("FAIR_VALUE_REFUSED", f"{refused} stored fair value(s) are not probabilities (0 to 1 in "
                       "micro-units) and are left out; the others are used")
        return values

    def _read(self, what: str, read: Callable[[], T], none: T) -> T:
        """One read of what the pictures carry; one that fails leaves the pictures without it until
        the next read (a strategy that needs it stays out) instead of failing every pass, alerted once."""
        try:
            found = read()
        except Exception as exc:
            log.exception("a read for the market pictures failed", extra={"what": what})
            self._tell("SIGNAL_READ_FAILED", f"the {what} could not be read ({type(exc).__name__}: {str(exc)[:200]}):"
                       " the desk trades without them and reads them again every "
                       f"{FAIR_VALUE_RELOAD_MS // 1000} s", key=what)
            return none
        self.told.discard(what)
        return found

    def _tell(self, code: str, message: str, *, key: str | None = None) -> None:
        if (key or code) in self.told or self.replay:
            return
        self.told.add(key or code)
        try:
            with self.db.write() as conn:
                raise_alert(conn, level="warning", source="engine", code=code, message=message)
        except Exception:
            log.exception("the alert could not be written", extra={"code": code})


class Views:
    """The market pictures a decision reads, built one way for the timed pass and for decisions on events:
    the books as the feed has them (live, without the desk's own orders: `own`), the fair values and
    followed trades as last read (`signals`), the reference prices and the operator's pairs (`references`)."""

    def __init__(self, catalog: MarketCatalog, books: BookCache, signals: SignalReads, references: References,
                 own: OwnBooks) -> None:
        self.catalog, self.books, self.signals, self.references, self.own = catalog, books, signals, references, own

    def of(self, condition_ids: Iterable[str], now: int) -> dict[str, MarketView]:
        signals, references = self.signals, self.references
        return market_views(condition_ids, self.catalog, self.books, signals.fair_values(now), references.source,
                            signals.followed(now), references.pairs(), signals.confidence, own=self.own,
                            sources=signals.sources)
