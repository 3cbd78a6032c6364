"""Building the frozen pictures handed to strategies and to the risk gate.

Nothing here invents data: a market without a cached book gets `None` books (strategies
stay out, the gate calls it stale), and fair values and reference prices appear only when
an operator, an external signal or the reference feed supplied them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from contracts.domain import (
    ONE,
    CopiedTrade,
    MarketView,
    OrderView,
    OwnMarkout,
    PositionView,
    Side,
    Snapshot,
    StrategyState,
)
from contracts.market_filter import MarketCandidate
from contracts.venues import KALSHI, venue_of
from engine.execution import portfolio
from engine.execution.state import ExecutionState
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.reference import ReferenceSource
from storage.engine_stores import follow_store, trading_reads
from storage.sqlite.db import Database

OPERATOR_SOURCE = "operator"
DEPTH = portfolio.MARK_DEPTH  # one frozen book per token per tick, shared with the marks


def market_views(condition_ids: Iterable[str], catalog: MarketCatalog, books: BookCache,
                 fair_values: Mapping[str, int], reference: ReferenceSource | None,
                 copies: Mapping[str, tuple[CopiedTrade, ...]] | None = None,
                 pairs: Mapping[str, tuple[str, bool]] | None = None,
                 confidences: Mapping[str, int | None] | None = None) -> dict[str, MarketView]:
    """Each market as strategies see it; `pairs`: the markets linked by hand to a Kalshi market;
    `confidences`: how sure each fair value's source is."""
    views: dict[str, MarketView] = {}
    for cid in condition_ids:
        info = catalog.get(cid)
        if info is None:
            continue
        last = books.last_trade(info.yes_token)
        latest = reference.reference(cid) if reference is not None else None
        views[cid] = MarketView(
            info=info, yes=books.book(info.yes_token, DEPTH), no=books.book(info.no_token, DEPTH),
            last_trade=last.price if last is not None else None,
            fair_value=fair_values.get(cid),
            fair_confidence=(confidences or {}).get(cid),
            reference=None if latest is None else latest[0],
            reference_at=None if latest is None else latest[1],
            reference_history=() if latest is None or reference is None else reference.history(cid),
            copies=(copies or {}).get(cid, ()),
            pair=(pairs or {}).get(cid),
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
        info = catalog.get(row.condition_id)
        if info is None or row.token_id not in (info.yes_token, info.no_token):
            continue
        side = Side(row.side)
        if row.token_id == info.no_token:
            side, price = (Side.SELL if side is Side.BUY else Side.BUY), ONE - row.price
        else:
            price = row.price
        found.setdefault(row.condition_id, []).append(
            CopiedTrade(f"{row.wallet}:{row.trade_key}", row.label, side, price, row.size, row.at))
    return {cid: tuple(trades) for cid, trades in found.items()}


def snapshot(now: int, views: Mapping[str, MarketView], condition_ids: Iterable[str]) -> Snapshot:
    return Snapshot(now_ms=now, markets={cid: views[cid] for cid in condition_ids if cid in views})


def strategy_state(name: str, condition_ids: Iterable[str], catalog: MarketCatalog, state: ExecutionState,
                   allocation: int = 0, book: portfolio.StrategyBook | None = None,
                   markouts: Mapping[str, tuple[OwnMarkout, ...]] | None = None) -> StrategyState:
    """What a strategy may know of itself. Its cash is the wallet's free cash, or, with an
    allocation, the allocation plus its realized PnL less fees and what it has at risk (never
    more than the wallet's free cash); its markouts are its recent fills' (trading/own_markouts.py)."""
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
    with db.read() as conn:
        return trading_reads.fair_signals(conn, now=now, operator_source=OPERATOR_SOURCE)


def candidates(db: Database, catalog: MarketCatalog) -> list[MarketCandidate]:
    with db.read() as conn:
        rows = trading_reads.market_activity(conn)
    out = []
    for cid, volume, liquidity, volume_24h in rows:
        info = catalog.get(cid)
        if info is not None:
            out.append(MarketCandidate(info, volume, liquidity, volume_24h))
    # The Kalshi markets of the operator's pairs: a strategy that names one trades it (no activity
    # is known of them here, and a filter never selects them: contracts/market_filter.py).
    return out + [MarketCandidate(info, 0, 0, 0) for info in catalog.all() if venue_of(info.condition_id) == KALSHI]


FAIR_VALUE_RELOAD_MS = 5_000
COPY_WINDOW_MS = 3_600_000  # followed trades a strategy sees: the last hour's


class SignalReads:
    """The fair values and the followed wallets' trades the market pictures carry, read from the
    database every FAIR_VALUE_RELOAD_MS rather than every tick. A replay's scratch database never
    changes its fair values (read once) and a backtest follows nobody (no copies)."""

    def __init__(self, db: Database, catalog: MarketCatalog, *, replay: bool):
        self.db, self.catalog, self.replay = db, catalog, replay
        self.fair: dict[str, int] = {}
        self.confidence: dict[str, int | None] = {}
        self.fair_at = 0
        self.copies: dict[str, tuple[CopiedTrade, ...]] = {}
        self.copies_at = 0

    def fair_values(self, now: int) -> dict[str, int]:
        if self.replay and self.fair_at:
            return self.fair
        if now - self.fair_at > FAIR_VALUE_RELOAD_MS:
            signals = load_fair_signals(self.db, now)
            self.fair = {cid: value for cid, (value, _) in signals.items()}
            self.confidence = {cid: confidence for cid, (_, confidence) in signals.items()}
            self.fair_at = now
        return self.fair

    def followed(self, now: int) -> dict[str, tuple[CopiedTrade, ...]]:
        if self.replay:
            return {}
        if now - self.copies_at > FAIR_VALUE_RELOAD_MS:
            self.copies, self.copies_at = load_copies(self.db, self.catalog, now - COPY_WINDOW_MS), now
        return self.copies
