"""The planner: turn a strategy's YES-space quotes into legal venue orders, and decide
which working orders to keep, cancel or place. Pure: no I/O, no clock.

Routing (binary complement): selling YES you do not hold is buying NO at 1 - p, and
buying YES while holding NO first sells the NO (reduce first). Legality: prices on the
tick grid within [tick, 1 - tick] (buys rounded down, sells up: never worse than asked),
sizes in 0.01-share lots, nothing below the market's minimum size; what cannot be placed
legally becomes an explicit residual with a reason, never a rejected order.

Reconciliation keeps queue position: a working order at the same price and size as a
desired one is left alone. SELLs are sized from settled inventory minus what working
SELLs already reserve, and a replacement SELL waits until the old SELL's cancel is
acknowledged, so SELLs never overlap.

Where the market's venue changes a resting order in place (its policy's `amends`: Kalshi), a
working order that no longer matches is moved to a wanted order of its token, side and time in
force instead of cancelled and replaced (`Amend`): fewer contracts at the same price is a
decrease, which keeps the order's queue place; any other change (a price, more contracts) puts it
at the back of the queue, as a new order, in one request instead of two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from contracts.domain import ONE, MarketInfo, Outcome, Quote, Side, Tif, complement
from contracts.order_status import OrderStatus
from contracts.venue_policies import policy_for_market
from contracts.venue_rules import LOT, TAKE, round_price, round_size

# FOK/FAK amounts the venue accepts: a BUY's pUSD to 2 decimals, a SELL's pUSD to 4.
_TAKE_NOTIONAL_STEP = {Side.BUY: 10_000, Side.SELL: 100}


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """A legal order the planner wants at the venue (token space)."""

    token_id: str
    outcome: Outcome
    side: Side
    price: int
    size: int
    tif: Tif = Tif.GTC
    post_only: bool = False
    expires_at_s: int = 0  # GTD only: unix seconds
    group: str = ""  # an arbitrage's legs share one: placed whole or not at all
    on_partial: str = ""


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A non-terminal order of this strategy in this market, as the planner sees it."""

    client_id: str
    token_id: str
    side: Side
    price: int
    size: int
    filled: int
    tif: Tif
    status: OrderStatus
    post_only: bool = False
    # An amend of it awaits the venue's answer: it is shown at the amend's terms, and neither cancelled
    # nor amended again until the venue answers (engine/execution/amends.py).
    amending: bool = False
    amendable: bool = True  # False: the venue refused to amend it; it is cancelled and replaced instead

    @property
    def remaining(self) -> int:
        return max(0, self.size - self.filled)

    @property
    def cancelling(self) -> bool:
        return self.status is OrderStatus.CANCEL_PENDING


@dataclass(frozen=True, slots=True)
class Holdings:
    """Settled shares the strategy may sell: settled + pending sells (negative) only."""

    yes: int = 0
    no: int = 0

    def of(self, outcome: Outcome) -> int:
        return self.yes if outcome is Outcome.YES else self.no


GROUP_INCOMPLETE = "another leg of its arbitrage cannot be placed, so no leg is"
# Residuals an operator should see (in the decisions log); the others are transient.
RESIDUAL_CODES = {
    "below the market's minimum size": "BELOW_MIN_SIZE",
    "price outside [tick, 1 - tick]": "PRICE_OUT_OF_BOUNDS",
    "not enough settled inventory": "NOT_ENOUGH_INVENTORY",
    "capped at settled inventory": "NOT_ENOUGH_INVENTORY",
    GROUP_INCOMPLETE: "GROUP_INCOMPLETE",
}


@dataclass(frozen=True, slots=True)
class Residual:
    outcome: Outcome
    side: Side
    price: int
    size: int
    reason: str

    @property
    def code(self) -> str | None:
        return RESIDUAL_CODES.get(self.reason)


@dataclass(frozen=True, slots=True)
class Amend:
    """A working order changed in place at the venue into a wanted one of its token, side and time in
    force: its price and its total (what it has filled and what is to rest)."""

    order: WorkingOrder
    spec: OrderSpec

    @property
    def size(self) -> int:
        """The order's new total: what it filled, and the wanted size to rest."""
        return self.order.filled + self.spec.size

    @property
    def decrease(self) -> bool:
        """Fewer contracts at the same price: the only change that keeps the order's queue place."""
        return self.spec.price == self.order.price and self.spec.size < self.order.remaining


@dataclass(frozen=True)
class Plan:
    keep: tuple[WorkingOrder, ...] = ()
    cancel: tuple[WorkingOrder, ...] = ()
    place: tuple[OrderSpec, ...] = ()
    residuals: tuple[Residual, ...] = field(default_factory=tuple)
    amend: tuple[Amend, ...] = ()  # orders changed in place (only where the venue amends: `amends`)


# -- legality --------------------------------------------------------------------------


def take_size(price: int, size: int, side: Side, condition_id: str = "") -> int:
    """The largest size <= `size` whose FOK/FAK amounts have the precision the venue accepts:
    the venue's amounts' decimals where it holds them to any (`take_amount_decimals`); elsewhere a count on
    the lot at any price on the grid is an exact amount."""
    if not policy_for_market(condition_id).take_amount_decimals:
        return round_size(size)
    step = _TAKE_NOTIONAL_STEP[side] * 1_000_000
    candidate = round_size(size)
    for _ in range(200):
        if candidate <= 0 or (price * candidate) % step == 0:
            return max(0, candidate)
        candidate -= LOT
    return 0


def in_bounds(price: int, tick: int) -> bool:
    return tick <= price <= ONE - tick


# -- routing ---------------------------------------------------------------------------


@dataclass
class _Router:
    market: MarketInfo
    left: dict[Outcome, int]
    specs: list[OrderSpec] = field(default_factory=list)
    residuals: list[Residual] = field(default_factory=list)

    def route(self, quote: Quote) -> None:
        # In YES space a BUY reduces NO first; a SELL reduces YES first.
        held = Outcome.NO if quote.side is Side.BUY else Outcome.YES
        reduce = min(quote.size, self.left[held])
        if reduce < self.market.min_size:
            reduce = 0  # a sub-minimum reduce is illegal; the complement buy does it all
        elif 0 < self.left[held] - reduce < self.market.min_size:
            reduce = self.left[held]  # what it would leave could never be sold on its own: it goes with this lot
        rest = max(0, quote.size - reduce)
        if reduce:
            self.left[held] -= reduce
            self._add(held, Side.SELL, complement(quote.price) if held is Outcome.NO else quote.price, reduce, quote)
        if rest:
            buy = Outcome.YES if quote.side is Side.BUY else Outcome.NO
            self._add(buy, Side.BUY, quote.price if buy is Outcome.YES else complement(quote.price), rest, quote)

    def _add(self, outcome: Outcome, side: Side, raw_price: int, raw_size: int, quote: Quote) -> None:
        tick = self.market.tick
        price = round_price(raw_price, side, tick)
        take = quote.tif in TAKE
        size = take_size(price, raw_size, side, self.market.condition_id) if take else round_size(raw_size)
        why = self._illegal(price, size)
        if why:
            self.residuals.append(Residual(outcome, side, price, raw_size, why))
            return
        if size < raw_size:
            self.residuals.append(Residual(outcome, side, price, raw_size - size, "size rounded to a lot"))
        self.specs.append(OrderSpec(
            token_id=self.market.token(outcome), outcome=outcome, side=side, price=price, size=size,
            tif=quote.tif, post_only=quote.post_only and not take, expires_at_s=quote.expires_at_s,
            group=quote.group, on_partial=quote.on_partial,
        ))

    def _illegal(self, price: int, size: int) -> str | None:
        if not in_bounds(price, self.market.tick):
            return "price outside [tick, 1 - tick]"
        if size < self.market.min_size:
            return "below the market's minimum size"
        return None


def route(quotes: Sequence[Quote], market: MarketInfo, holdings: Holdings) -> tuple[list[OrderSpec], list[Residual]]:
    """YES-space quotes -> legal token-space specs (reduce first, complement otherwise)."""
    router = _Router(market, {Outcome.YES: holdings.yes, Outcome.NO: holdings.no})
    # Sells of the best-priced quotes claim inventory first.
    for quote in sorted(quotes, key=lambda q: (q.side is Side.SELL, q.price if q.side is Side.SELL else -q.price)):
        if quote.size > 0:
            router.route(quote)
    return router.specs, router.residuals


# -- reconciliation --------------------------------------------------------------------


def _matches(order: WorkingOrder, spec: OrderSpec, keep_within: int, tick: int) -> bool:
    """A near match is kept only on the market's grid: after a tick change an order on the old
    grid makes way for one the venue would take now."""
    return (
        order.token_id == spec.token_id and order.side is spec.side and order.tif is spec.tif
        and abs(order.price - spec.price) <= keep_within and spec.size in (order.size, order.remaining)
        and order.price % tick == 0
    )


def _closest(candidates: list[WorkingOrder], spec: OrderSpec, keep_within: int, tick: int) -> WorkingOrder | None:
    found = [w for w in candidates if _matches(w, spec, keep_within, tick)]
    return min(found, key=lambda w: abs(w.price - spec.price)) if found else None


def _crossed(keep: list[WorkingOrder], market: MarketInfo) -> bool:
    """Whether the kept orders would cross each other in YES space (a bid at or above an ask):
    a YES buy or a NO sell is a bid, a YES sell or a NO buy an ask (at 1 - its price)."""
    bids: list[int] = []
    asks: list[int] = []
    for w in keep:
        yes = w.token_id == market.yes_token
        (bids if (w.side is Side.BUY) == yes else asks).append(w.price if yes else ONE - w.price)
    return bool(bids and asks and max(bids) >= min(asks))


def reconcile(specs: Iterable[OrderSpec], working: Sequence[WorkingOrder], holdings: Holdings,
              market: MarketInfo, keep_within: int = 0, *, amends: bool = False) -> Plan:
    """Keep matching orders (their queue position), cancel the rest, place what is missing,
    within the SELL rules. A working order within `keep_within` of a wanted price, of the wanted
    size, is kept, unless keeping such near matches would cross our own quotes. With `amends`, on
    a venue whose policy amends orders in place, an order that no longer matches is moved to a
    wanted one it can become (`_amends`) rather than cancelled and replaced."""
    specs = list(specs)
    keep, wanted, unmatched = _match(specs, working, keep_within, market.tick)
    if keep_within and _crossed(keep, market):
        keep, wanted, unmatched = _match(specs, working, 0, market.tick)
    amend: list[Amend] = []
    if amends and policy_for_market(market.condition_id).amends:
        amend, wanted, unmatched = _amends(wanted, unmatched, working, holdings)
    # Takes finish by themselves; an order whose amend is unanswered waits for the venue's word.
    cancel = [w for w in unmatched if w.tif not in TAKE and not w.amending]
    place, residuals = _placeable(wanted, keep, cancel, working, holdings, market, amend)
    return Plan(tuple(keep), tuple(cancel), tuple(place), tuple(residuals), tuple(amend))


def _amends(wanted: list[OrderSpec], unmatched: list[WorkingOrder], working: Sequence[WorkingOrder],
            holdings: Holdings) -> tuple[list[Amend], list[OrderSpec], list[WorkingOrder]]:
    """(amends, still wanted, still unmatched): each wanted resting order (good till cancelled, not an
    arbitrage's leg) paired with an unmatched working order it can be made of, of its token, side and
    post-only: first one at its price with more resting (a decrease, which keeps the queue place), then
    the nearest in price. A SELL grows only by what settled inventory, less every working SELL of the
    token, still covers."""
    free = [w for w in unmatched if w.tif is Tif.GTC and w.amendable and not w.amending and not w.cancelling]
    amend: list[Amend] = []
    left: list[OrderSpec] = []
    pending: list[OrderSpec] = []
    for spec in wanted:
        same = None if spec.tif is not Tif.GTC or spec.group else next(
            (w for w in free if _movable(w, spec) and w.price == spec.price and spec.size < w.remaining), None)
        if same is None:
            pending.append(spec)
        else:
            free.remove(same)
            amend.append(Amend(same, spec))
    grown: dict[str, int] = {}
    for spec in pending:
        found = [w for w in free if spec.tif is Tif.GTC and not spec.group and _movable(w, spec)]
        nearest = min(found, key=lambda w: abs(w.price - spec.price)) if found else None
        extra = 0 if nearest is None else spec.size - nearest.remaining
        if nearest is not None and spec.side is Side.SELL and extra > 0:
            reserved = sum(w.remaining for w in working if w.side is Side.SELL and w.token_id == spec.token_id)
            if extra > holdings.of(spec.outcome) - reserved - grown.get(spec.token_id, 0):
                nearest = None  # not covered: cancelled and replaced, within the SELL rules
            else:
                grown[spec.token_id] = grown.get(spec.token_id, 0) + extra
        if nearest is None:
            left.append(spec)
        else:
            free.remove(nearest)
            amend.append(Amend(nearest, spec))
    moved = {a.order.client_id for a in amend}
    return amend, left, [w for w in unmatched if w.client_id not in moved]


def _movable(order: WorkingOrder, spec: OrderSpec) -> bool:
    return order.token_id == spec.token_id and order.side is spec.side and order.post_only == spec.post_only


def _match(specs: list[OrderSpec], working: Sequence[WorkingOrder], keep_within: int,
           tick: int) -> tuple[list[WorkingOrder], list[OrderSpec], list[WorkingOrder]]:
    """(kept, still wanted, unmatched working) pairing each spec with the nearest match."""
    unmatched = [w for w in working if not w.cancelling]
    keep: list[WorkingOrder] = []
    wanted: list[OrderSpec] = []
    for spec in specs:
        found = None if spec.tif in TAKE else _closest(unmatched, spec, keep_within, tick)
        if found is None:
            wanted.append(spec)
        else:
            unmatched.remove(found)
            keep.append(found)
    return keep, wanted, unmatched


def _placeable(wanted: list[OrderSpec], keep: list[WorkingOrder], cancel: list[WorkingOrder],
               working: Sequence[WorkingOrder], holdings: Holdings,
               market: MarketInfo, amend: Sequence[Amend] = ()) -> tuple[list[OrderSpec], list[Residual]]:
    place: list[OrderSpec] = []
    residuals: list[Residual] = []
    # (an order whose amend is unanswered may rest at either terms: a new SELL waits for the venue's word)
    leaving = {w.client_id for w in cancel} | {w.client_id for w in working if w.cancelling or w.amending}
    # an amended SELL holds the more of what it rests and what it will rest
    moving = {a.order.client_id: max(0, a.spec.size - a.order.remaining) for a in amend}
    in_flight_takes = {(w.token_id, w.side) for w in working if w.tif in TAKE}
    for spec in wanted:
        outcome = spec.outcome
        if spec.tif in TAKE and (spec.token_id, spec.side) in in_flight_takes:
            residuals.append(Residual(outcome, spec.side, spec.price, spec.size, "previous take still in flight"))
            continue
        if spec.side is Side.SELL:
            if any(w.side is Side.SELL and w.token_id == spec.token_id and w.client_id in leaving for w in working):
                residuals.append(Residual(outcome, spec.side, spec.price, spec.size, "waiting for the old sell's "
                                                                                     "cancel ack"))
                continue
            reserved = sum(w.remaining + moving.get(w.client_id, 0) for w in working
                           if w.side is Side.SELL and w.token_id == spec.token_id)
            reserved += sum(p.size for p in place if p.side is Side.SELL and p.token_id == spec.token_id)
            available = holdings.of(outcome) - reserved
            size = min(spec.size, available)
            size = (take_size(spec.price, size, Side.SELL, market.condition_id) if spec.tif in TAKE
                    else round_size(size))
            if size < market.min_size:
                residuals.append(Residual(outcome, spec.side, spec.price, spec.size, "not enough settled inventory"))
                continue
            if size < spec.size:
                residuals.append(Residual(outcome, spec.side, spec.price, spec.size - size, "capped at settled "
                                                                                            "inventory"))
                spec = replace(spec, size=size)
        place.append(spec)
        if spec.tif in TAKE:
            in_flight_takes.add((spec.token_id, spec.side))
    return place, residuals


def plan(quotes: Sequence[Quote], market: MarketInfo, holdings: Holdings,
         working: Sequence[WorkingOrder], *, keep_within: int = 0, amends: bool = False) -> Plan:
    """The whole step for one (strategy, market): route, then reconcile with what is working
    (`amends`: move orders in place where the market's venue amends them)."""
    specs, route_residuals = route(quotes, market, holdings)
    result = reconcile(specs, working, holdings, market, keep_within, amends=amends)
    return Plan(result.keep, result.cancel, result.place, (*route_residuals, *result.residuals), result.amend)
