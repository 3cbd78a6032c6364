"""Icebergs of the manual ticket: a limit order of `total` shares at one price that shows `slice` at a time.

Each slice is an ordinary order of the manual book: checked by the risk gate as the ticket's orders are
(the slice as an order, with the iceberg's whole remaining total measured against the exposure limits:
`Quote.reserve`), routed by the planner and placed by the executor, whose intent (its `orders` row,
its `reason` naming the iceberg) is committed before it is sent. Once the shown slice has filled in full,
the next is placed at the same price (at the next pass), until the whole is done. A slice that ends any
other way (cancelled by the operator or a kill, refused, expired, lost) ends the iceberg, said so; so does
a refusal of the risk gate. The operator cancels one whole (`cancel_iceberg`): nothing more is placed and
its shown slice is cancelled.

What it has done is read from its slices' rows (storage/engine_stores/standing_orders.py), never kept
anywhere else: after a crash it goes on from them, and a slice whose intent was written but whose
answer is not known yet is waited for (start-up reconciles it, never sends it again), so no two
slices are ever shown at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from contracts import order_end
from contracts.domain import Intent, MarketInfo, Outcome, Quote, Side, Tif, fmt, yes_space
from contracts.ticket import MANUAL
from engine.execution.planner import route
from engine.trading.hosting.views import market_views
from storage.desk.audit import raise_alert
from storage.engine_stores import standing_orders as store

if TYPE_CHECKING:
    from engine.risk.monitor import RiskMonitor
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.operator.icebergs")


@dataclass
class Iceberg:
    id: int
    strategy: str  # the book its slices are booked to (the manual ticket's)
    condition_id: str
    token: str
    outcome: Outcome
    side: Side
    price: int  # the token's, every slice's limit
    total: int
    slice: int
    post_only: bool = False
    shown: set[int] = field(default_factory=set)  # its slices' order ids still at the venue, as last seen

    def quote(self, size: int, remaining: int) -> Quote:
        """A slice as the risk gate and the planner read it: YES space, the rest of the whole held back."""
        side, price = yes_space(self.outcome, self.side, self.price)
        return Quote(side, price, size, Tif.GTC, self.post_only, reserve=remaining - size)


@dataclass(frozen=True)
class Progress:
    filled: int  # shares its slices filled
    open: tuple[int, ...]  # slices (order ids) still working or awaiting the venue's word
    unfilled: str | None  # why one ended short of full, if one did (then the iceberg ends)


class IcebergBook:
    """One ledger's icebergs, as kept in the database."""

    def __init__(self) -> None:
        self.active: dict[int, Iceberg] = {}
        self._for: tuple[str, str] | None = None

    def load(self, site: TradingSite) -> None:
        here = (site.executor.venue_name, site.executor.mode)
        if here == self._for:
            return
        with site.db.read() as conn:
            rows = store.active_icebergs(conn, *here)
        self.active = {int(r["id"]): Iceberg(int(r["id"]), r["strategy"], r["condition_id"], r["token_id"],
                                             Outcome(r["outcome"]), Side(r["side"]), int(r["price"]), int(r["total"]),
                                             int(r["slice"]), bool(r["post_only"])) for r in rows}
        self._for = here

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) With an iceberg active it cannot tell (a slice waits on a fresh book and the
        order rate, both read against the clock); with none, nothing of it is due."""
        return now if self.active else None

    def progress(self, site: TradingSite, ice: Iceberg) -> Progress:
        with site.db.read() as conn:
            found = store.iceberg_slices(conn, ice.id, site.executor.venue_name, site.executor.mode, ice.strategy)
        short = next((s for s in found if not s.open and s.filled < s.size), None)
        why = None if short is None else (f"its slice (order {short.order_id}) ended {short.status.value} with "
                                          f"{fmt(short.filled)} of {fmt(short.size)} filled")
        return Progress(sum(s.filled for s in found), tuple(s.order_id for s in found if s.open), why)

    async def refill(self, site: TradingSite, risk: RiskMonitor, now: int) -> None:
        """One pass: each iceberg whose shown slice is gone goes on (the next slice), ends, or waits."""
        self.load(site)
        state = site.executor.state
        for ice in list(self.active.values()):
            if ice.shown & state.orders.keys():
                continue  # its slice is still shown
            await self.next_slice(site, risk, ice, now)

    async def next_slice(self, site: TradingSite, risk: RiskMonitor, ice: Iceberg, now: int) -> str | None:
        """Place its next slice when it may; returns why not (None: placed, or it ended)."""
        done = self.progress(site, ice)
        if done.open:  # a slice the venue has not answered for (a restart reconciles it): wait, never a second
            ice.shown = set(done.open)
            return "its slice awaits the venue's word"
        market = site.catalog.get(ice.condition_id)
        remaining = ice.total - done.filled
        if done.unfilled is not None:
            self.end(site, ice, "ENDED", f"{done.unfilled}: nothing more is placed ({fmt(done.filled)} of "
                                         f"{fmt(ice.total)} done)", alert=True)
            return done.unfilled
        if market is None or remaining < max(1, market.min_size):
            self.end(site, ice, "DONE", f"{fmt(done.filled)} of {fmt(ice.total)} filled at {fmt(ice.price)}")
            return None
        wait = self._held(site, risk, market, now)
        if wait is not None:
            return wait
        return await self._place(site, risk, ice, market, min(ice.slice, remaining), remaining, done.filled, now)

    def _held(self, site: TradingSite, risk: RiskMonitor, market: MarketInfo, now: int) -> str | None:
        """What makes it wait rather than try (never a refusal): the order gate closed (stopped, killed), the
        market not taking orders, no fresh book to check a slice against, the order rate at its limit."""
        if site.executor.blocked:
            return "the engine is not trading"
        if not (market.tradable and market.accepting_orders and not market.closed):
            return "the market is not taking orders"
        view = market_views([market.condition_id], site.catalog, site.books, {}, None)[market.condition_id]
        age = view.data_age_ms(now)
        if age is None or age > risk.limits.ms("max_data_age"):
            return "no fresh book"
        if risk.gate.rate_frees_at(now, risk.limits.count("max_order_rate")) is not None:
            return "the order rate is at its limit"
        return None

    async def _place(self, site: TradingSite, risk: RiskMonitor, ice: Iceberg, market: MarketInfo, size: int,
                     remaining: int, filled: int, now: int) -> str | None:
        """The slice through the gate (the whole remaining measured with it), the planner and the executor."""
        view = market_views([market.condition_id], site.catalog, site.books, {}, None)[market.condition_id]
        approved = risk.check_manual(Intent(ice.strategy, market.condition_id, (ice.quote(size, remaining),)),
                                     view, now)
        if approved.reason:
            why = f"the risk gate refuses its next slice: {approved.reason}"
            self.end(site, ice, "ENDED", f"{why} ({fmt(filled)} of {fmt(ice.total)} done)", alert=True)
            return why
        executor = site.executor
        specs, residuals = route(approved.quotes, market, executor.state.holdings(ice.strategy, market))
        problems = [r.reason for r in residuals if r.code is not None]
        if problems or not specs:
            why = f"its next slice cannot be placed legally: {'; '.join(problems) or 'nothing to place'}"
            self.end(site, ice, "ENDED", why, alert=True)
            return why
        number = filled // ice.slice + 1
        placed = await executor.place_now([(ice.strategy, market, spec, f"{store.iceberg_tag(ice.id)}: slice {number} "
                                            f"of {fmt(ice.total)} at {fmt(ice.price)}") for spec in specs])
        executor.drain()
        ice.shown = set(placed.order_ids)
        if placed.refused and not placed.order_ids:
            why = f"its next slice was held back: {'; '.join(reason for _, reason in placed.refused)}"
            self.end(site, ice, "ENDED", why, alert=True)
            return why
        return None

    def end(self, site: TradingSite, ice: Iceberg, status: str, detail: str, *, alert: bool = False) -> None:
        """It ends (written; alerted with `alert`: it ended by itself, not as asked)."""
        self.active.pop(ice.id, None)
        with site.db.write() as conn:
            if store.end_iceberg(conn, ice.id, status, detail, site.clock()) and alert:
                raise_alert(conn, level="warning", source="engine", code="ICEBERG_ENDED",
                            subject=f"iceberg:{ice.id}",
                            message=f"iceberg #{ice.id} ({ice.side.value} {ice.outcome.value} at {fmt(ice.price)}, "
                                    f"{fmt(ice.total)} shares shown {fmt(ice.slice)} at a time) ended: {detail}")
        log.info("iceberg ended", extra={"iceberg": ice.id, "status": status, "detail": detail})

    async def cancel(self, site: TradingSite, iceberg_id: int, why: str) -> dict[str, object] | None:
        """The operator's cancel: it ends (so nothing more is placed), then its shown slice is cancelled.
        None when it is not one of this ledger's active icebergs."""
        self.load(site)
        ice = self.active.get(iceberg_id)
        if ice is None:
            return None
        done = self.progress(site, ice)
        self.end(site, ice, "CANCELLED", f"cancelled by the operator{f': {why}' if why else ''} ({fmt(done.filled)} "
                                         f"of {fmt(ice.total)} done)")
        executor = site.executor
        shown = [executor.state.orders[i] for i in done.open if i in executor.state.orders]
        cancelled = await executor.cancel_orders(shown, why=order_end.OPERATOR) if shown else 0
        executor.drain()
        return {"iceberg_id": iceberg_id, "filled": fmt(done.filled), "total": fmt(ice.total),
                "slice_cancelled": bool(cancelled), "orders": [o.id for o in shown]}


def new_iceberg(site: TradingSite, book: IcebergBook, *, market: MarketInfo, outcome: Outcome, side: Side,
                price: int, total: int, shown: int, post_only: bool, by: str) -> Iceberg:
    """A new active iceberg of the manual book, written (its first slice is placed by the caller)."""
    book.load(site)
    with site.db.write() as conn:
        iceberg_id = store.insert_iceberg(conn, venue=site.executor.venue_name, mode=site.executor.mode,
                                          strategy=MANUAL, condition_id=market.condition_id,
                                          token_id=market.token(outcome), outcome=outcome.value, side=side.value,
                                          price=price, total=total, slice_size=shown, post_only=post_only,
                                          now=site.clock(), by=by)
    ice = Iceberg(iceberg_id, MANUAL, market.condition_id, market.token(outcome), outcome, side, price, total, shown,
                  post_only)
    book.active[iceberg_id] = ice
    return ice
