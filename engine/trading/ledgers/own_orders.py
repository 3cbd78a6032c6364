"""The books as the desk's decisions and marks read them: live, without the desk's own resting orders.

Live, the desk's quotes are in the venue's book it reads, and in both of the market's books: the
venue keeps one book per market, so a BUY of YES at p also shows in the NO book as an ask at 1 - p
(and a SELL of YES, which the desk may send as a BUY of NO, as a YES ask). Read as the market's, its
own quotes move what it prices from: a market maker whose ask is the touch lowers the mid, wants a
lower ask, cancels; withdrawn, the mid rises and it places the first ask again (every ~35 ms with
decisions on events). A position marked at a mid made of its own ask is valued, and stop-lossed, at
a price no one else offers. Paper's orders are never in the book, so in paper nothing is netted.

The desk's mirror and the market feed are two channels that race: an order's acknowledgement may
come before or after the feed shows it, a cancel's before or after the feed drops it. So what is
taken out of a level is not what the mirror says rests there but what the feed has shown of it:
`shown`, per level of a book, rises when the level grows while an order of the desk's is on its way
in (placed, not yet shown) and falls when the level shrinks while one is on its way out (a cancel
sent or acknowledged, a fill): a cancelled order stays netted until the feed drops it, a new one is
netted once the feed shows it. A feed that never shows the change (someone else's order met ours
at the level in one update) is believed after `LAG_MS`: then the mirror is the truth.

Every live ledger's orders rest in the books of its venue: the desk's in its venue's, a live ledger's
(a venue armed live on its own) in that venue's, which the desk keeps in the same cache. `OwnBooks` holds one
`OwnOrders` per such ledger and reads each token's book through the one of the token's venue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.domain import ONE, Book, Level, Side, Tif
from contracts.order_status import OrderStatus
from contracts.venues import venue_of
from engine.execution.bus import EventBus, OrderAdvanced
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import BookChanged, MarketEvent

LAG_MS = 1_000  # past this, a level the feed has not caught up with is taken as the mirror says
RESTS = frozenset({Tif.GTC, Tif.GTD})  # a fill-and-kill never rests: it is never in the book
# Acknowledged and not closed: in the book once the feed shows it (a cancel sent may still rest).
ACKED = frozenset({OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING})
STAYING = frozenset({OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED})  # acknowledged, not leaving
COMING = ACKED | {OrderStatus.PENDING_SUBMIT}  # what may be in the book, or about to be
Where = tuple[str, bool, int]  # (token, is a bid, price): one level as the feed shows it


@dataclass
class _Level:
    seen: int  # the level's size when last looked at
    shown: int = 0  # how much of it is the desk's, as far as the feed has shown
    ids: set[int] = field(default_factory=set)  # the desk's orders resting (or on their way) here
    since: int | None = None  # when what the feed shows of them and the mirror first disagreed


class OwnOrders:
    """Live, the desk's own orders as the market feed shows them, and the books without them."""

    def __init__(self, books: BookCache, catalog: MarketCatalog, state: Callable[[], ExecutionState],
                 clock: Callable[[], int]) -> None:
        self.books, self.catalog, self._state, self.clock = books, catalog, state, clock
        self._levels: dict[str, dict[tuple[bool, int], _Level]] = {}  # token -> (is a bid, price) -> level
        self._mirror: ExecutionState | None = None  # the state the levels were counted against

    def watch(self, bus: EventBus) -> None:
        """Follow the ledger's orders (its bus) and the feed (first of the book's listeners: a trigger
        reading the books as the desk sees them after a change must see this one counted)."""
        self.listen(bus)
        self.books.add_listener(self.on_market_event)

    def listen(self, bus: EventBus) -> None:
        """Follow the ledger's orders (its bus) only: the feed is handed on by `OwnBooks`."""
        bus.subscribe(OrderAdvanced, lambda e: self.on_order(e.order))

    def state(self) -> ExecutionState | None:
        """The desk's live mirror; None in paper (a mode switch starts the count again)."""
        state = self._state()
        if state is not self._mirror:
            self._mirror, self._levels = state, {}
        return state if state.mode == "live" else None

    # -- what changes it ---------------------------------------------------------------------

    def on_order(self, row: OrderRow) -> None:
        if row.tif not in RESTS or self.state() is None:
            return
        now = self.clock()
        wheres = self._wheres(row)
        for token in {token for token, _, _ in wheres}:  # an amend moved it: it left the level it rested at
            for (is_bid, price), level in list(self._levels.get(token, {}).items()):
                if row.id in level.ids and (token, is_bid, price) not in wheres:
                    level.ids.discard(row.id)
                    self._check((token, is_bid, price), level, now)
        for where in wheres:
            level = self._level(where)
            if row.terminal:
                level.ids.discard(row.id)
            else:
                level.ids.add(row.id)
            self._check(where, level, now)

    def on_market_event(self, event: MarketEvent) -> None:
        if not isinstance(event, BookChanged) or event.token_id not in self._levels or self.state() is None:
            return
        now = self.clock()
        for (is_bid, price), level in list(self._levels[event.token_id].items()):
            where = (event.token_id, is_bid, price)
            size = self.books.level_size(*where)
            grew, level.seen = size - level.seen, size
            most, least = self._bounds(level, COMING), self._bounds(level, STAYING)
            if grew > 0 and level.shown < most:  # an order of ours on its way in: the feed shows it
                level.shown += min(grew, most - level.shown)
            elif grew < 0 and level.shown > least:  # one on its way out: the feed drops it
                level.shown -= min(-grew, level.shown - least)
            level.shown = min(level.shown, size)  # never more of ours than the level holds
            self._check(where, level, now)

    def adopt(self) -> None:
        """Orders the mirror holds that were never followed (loaded at a start: resting since before
        the feed's snapshot, so shown by it)."""
        state = self.state()
        if state is None:
            return
        for row in state.orders.values():
            if row.tif in RESTS and row.status in ACKED:
                for where in self._wheres(row):
                    level = self._level(where)
                    if row.id not in level.ids:
                        level.ids.add(row.id)
                        level.shown = min(level.shown + row.remaining, level.seen)

    # -- what it reads -----------------------------------------------------------------------

    def nets(self, token_id: str) -> bool:
        """Whether `book` takes orders of its ledger out of `token_id`'s book (it follows some there)."""
        return bool(self._levels.get(token_id)) and self.state() is not None

    def book(self, token_id: str, depth: int = 10) -> Book | None:
        """`token_id`'s book without what the feed shows of the desk's own orders (live)."""
        levels = self._levels.get(token_id)
        if not levels or self.state() is None:
            return self.books.book(token_id, depth)
        now = self.clock()
        mine: dict[tuple[bool, int], int] = {}
        for (is_bid, price), level in list(levels.items()):
            self._check((token_id, is_bid, price), level, now)
            if level.shown > 0:
                mine[(is_bid, price)] = level.shown
        if not mine:
            return self.books.book(token_id, depth)
        book = self.books.book(token_id, depth + len(mine))  # a level netted away uncovers the next
        return None if book is None else net_of(book, mine, depth)

    def shown(self, token_id: str) -> dict[tuple[bool, int], int]:
        """What the feed shows of the desk's orders in `token_id`'s book, by (is a bid, price)."""
        return {key: level.shown for key, level in self._levels.get(token_id, {}).items() if level.shown}

    # -- inside --------------------------------------------------------------------------------

    def _wheres(self, row: OrderRow) -> list[Where]:
        """Where the order shows: its own token's book and, mirrored, the other token's."""
        wheres = [(row.token_id, row.side is Side.BUY, row.price)]
        info = self.catalog.by_token(row.token_id)
        if info is not None:
            other = info.no_token if row.token_id == info.yes_token else info.yes_token
            wheres.append((other, row.side is not Side.BUY, ONE - row.price))
        return wheres

    def _level(self, where: Where) -> _Level:
        token, is_bid, price = where
        at = self._levels.setdefault(token, {})
        level = at.get((is_bid, price))
        if level is None:
            level = at[(is_bid, price)] = _Level(seen=self.books.level_size(token, is_bid, price))
        return level

    def _bounds(self, level: _Level, statuses: frozenset[OrderStatus]) -> int:
        """The remaining size of the desk's orders at `level` whose status is one of `statuses`."""
        orders = self._mirror.orders if self._mirror is not None else {}
        total = 0
        for order_id in list(level.ids):
            row = orders.get(order_id)
            if row is None:  # closed: the mirror forgot it
                level.ids.discard(order_id)
            elif row.status in statuses:
                total += row.remaining
        return total

    def _check(self, where: Where, level: _Level, now: int) -> None:
        """Start, or end, the wait for the feed; past `LAG_MS`, take the mirror's word. A level with
        nothing of ours, shown or coming, is forgotten."""
        least, most = self._bounds(level, STAYING), self._bounds(level, COMING)
        if least <= level.shown <= most:
            level.since = None
        elif level.since is None:
            level.since = now
        elif now - level.since >= LAG_MS:
            level.shown, level.since = min(max(level.shown, least), most, level.seen), None
        if not level.ids and level.shown == 0:
            token, is_bid, price = where
            del self._levels[token][(is_bid, price)]
            if not self._levels[token]:
                del self._levels[token]


class OwnBooks:
    """The books as decisions and marks read them, for every live ledger: the desk's own orders and
    each live ledger's, each read out of the books of its venue (a token's venue chooses whose)."""

    def __init__(self, desk: OwnOrders) -> None:
        self.desk = desk
        self._ledgers: dict[str, OwnOrders] = {}  # venue -> the live ledger trading there

    def watch(self, bus: EventBus) -> None:
        """The desk's bus, and the feed for every ledger (one listener, first of the book's)."""
        self.desk.listen(bus)
        self.desk.books.add_listener(self.on_market_event)

    def follow(self, venue: str, bus: EventBus, state: Callable[[], ExecutionState]) -> OwnOrders:
        """A live ledger trading on `venue`: its orders (its bus, its mirror) netted out of that venue's books."""
        own = OwnOrders(self.desk.books, self.desk.catalog, state, self.desk.clock)
        own.listen(bus)
        self._ledgers[venue] = own
        return own

    def forget(self, venue: str, own: OwnOrders) -> None:
        """A ledger closed: its venue's books are read as they are again (unless another took its place)."""
        if self._ledgers.get(venue) is own:
            del self._ledgers[venue]

    def of(self, token_id: str) -> OwnOrders:
        return self._ledgers.get(venue_of(token_id), self.desk)

    def nets(self, token_id: str) -> bool:
        """Whether `token_id`'s book is read with the desk's own orders taken out (then its touch may
        move while the feed's does not)."""
        return self.of(token_id).nets(token_id)

    def book(self, token_id: str, depth: int = 10) -> Book | None:
        """`token_id`'s book without what the feed shows of the orders of the ledger trading there (live)."""
        return self.of(token_id).book(token_id, depth)

    def adopt(self) -> None:
        for own in (self.desk, *self._ledgers.values()):
            own.adopt()

    def on_market_event(self, event: MarketEvent) -> None:
        for own in (self.desk, *list(self._ledgers.values())):
            own.on_market_event(event)


def net_of(book: Book, mine: dict[tuple[bool, int], int], depth: int) -> Book:
    """`book` without `mine` ((is a bid, price) -> size; a level left empty is gone), to `depth`.
    A level with none of ours is the book's own (a pass nets every quoted book: at 50 markets,
    building each level afresh was most of the netting)."""
    def levels(is_bid: bool, found: tuple[Level, ...]) -> tuple[Level, ...]:
        out: list[Level] = []
        for lv in found:
            ours = mine.get((is_bid, lv.price))
            if ours is None:
                if lv.size > 0:
                    out.append(lv)
            elif lv.size > ours:
                out.append(Level(lv.price, lv.size - ours))
        return tuple(out[:depth])

    return Book(book.token_id, levels(True, book.bids), levels(False, book.asks), book.updated_ms)
