"""The manual ticket's standing orders as commands (contracts/standing_orders.py says what they are): a
`place_order` with `trail` starts a trailing stop on what the manual book holds, one with `slice` an
iceberg; `cancel_trailing_stop` and `cancel_iceberg` end one whole. Each is checked as the ticket is
(the market open, a fresh book from the engine's own feed, the risk gate), refused with its reason
before anything is written, audited, and kept by the ledger that places it from then on
(engine/trading/exits/trailing.py, engine/trading/operator/icebergs.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.command_refusal import CommandRejected
from contracts.domain import Intent, Outcome, Quote, Tif, fmt, yes_space
from contracts.standing_orders import parse_iceberg, parse_trail, slice_problem, slices, trail_preview
from contracts.ticket import MANUAL, TicketError, preview
from engine.trading.exits.trailing import TrailBook
from engine.trading.operator.icebergs import IcebergBook, new_iceberg
from engine.trading.operator.operator_actions import fresh_view, ticket_market
from storage.desk.audit import write_audit
from storage.engine_stores import trading_reads

if TYPE_CHECKING:
    from engine.risk.monitor import RiskMonitor
    from engine.trading.ledgers.venue_link import VenueLink
    from engine.trading.parts import TradingSite


def _refused(what: str, exc: TicketError) -> CommandRejected:
    return CommandRejected(f"{what}: {exc}")


async def place_trailing_stop(ledger: TradingSite, link: VenueLink, risk: RiskMonitor, trails: TrailBook,
                              payload: dict[str, Any]) -> dict[str, Any]:
    """A trailing stop on what the manual book holds of one outcome, starting from the best bid now."""
    if ledger.executor.blocked:
        raise CommandRejected("the engine is not trading (stopped or killed): start it first")
    try:
        trail = parse_trail(payload)
    except TicketError as exc:
        raise CommandRejected(str(exc)) from None
    market = await ticket_market(ledger, link, trail.condition_id)
    what = f"trailing stop on {trail.outcome.value} in “{market.question}”"
    await fresh_view(link, risk.limits, market)
    token = market.token(trail.outcome)
    trails.load(ledger)
    if (found := trails.trails.get((MANUAL, token))) is not None:
        raise CommandRejected(f"{what}: trailing stop #{found.id} already guards it (stop {fmt(found.stop)}): "
                              "cancel it first")
    try:
        start = trail_preview(trail, market, ledger.marks(token), ledger.executor.state.totals(MANUAL, token).sellable)
    except TicketError as exc:
        raise _refused(what, exc) from None
    with ledger.db.write() as conn:
        added = trails.add(conn, ledger, strategy=MANUAL, condition_id=market.condition_id, token=token,
                           outcome=trail.outcome, distance=trail.distance, high=start.high_water, now=ledger.clock(),
                           by="operator", floor=trail.floor, shares=trail.size)
        write_audit(conn, actor="engine", action="order.trailing_stop", entity=f"market:{market.condition_id}",
                    before={"ticket": payload}, after={"trailing_stop": added.id, "high_water": start.high_water,
                                                       "stop": start.stop, "shares": start.shares})
    sells = "all it holds then" if trail.size is None else f"{fmt(trail.size)} shares"
    bound = f"no lower than {fmt(trail.floor)}" if trail.floor is not None else "at the mid less the max slippage"
    return {"trailing_stop": added.id, "market": market.question, "outcome": trail.outcome.value,
            "high_water": fmt(start.high_water), "stop": fmt(start.stop), "distance": fmt(trail.distance),
            "floor": None if trail.floor is None else fmt(trail.floor), "shares": fmt(start.shares),
            "note": f"{what}: it follows the best bid up from {fmt(start.high_water)} and sells {sells} {bound} once "
                    f"the bid is {fmt(trail.distance)} below its high (now at {fmt(start.stop)})"}


async def place_iceberg(ledger: TradingSite, link: VenueLink, risk: RiskMonitor, icebergs: IcebergBook,
                        payload: dict[str, Any]) -> dict[str, Any]:
    """An iceberg of the manual book: every slice legal and the whole within the limits, or refused now; then
    its first slice placed."""
    if ledger.executor.blocked:
        raise CommandRejected("the engine is not trading (stopped or killed): start it first")
    try:
        asked = parse_iceberg(payload, now_s=link.clock() // 1000)
    except TicketError as exc:
        raise CommandRejected(str(exc)) from None
    ticket = asked.order
    market = await ticket_market(ledger, link, ticket.condition_id)
    what = f"iceberg {ticket.side.value} {ticket.outcome.value} in “{market.question}”"
    view = await fresh_view(link, risk.limits, market)
    token = market.token(ticket.outcome)
    try:
        placed = preview(ticket, market, view.yes if ticket.outcome is Outcome.YES else view.no,
                         ledger.executor.state.totals(MANUAL, token).sellable, risk.limits.probability("max_slippage"))
    except TicketError as exc:
        raise _refused(what, exc) from None
    problem = slice_problem(asked.slice, placed.size, ticket.side, placed.price, market,
                            risk.limits.usdc("min_order_value"))
    if problem is not None:
        raise CommandRejected(f"{what}: {problem}")
    first = min(asked.slice, placed.size)
    side, price = yes_space(ticket.outcome, ticket.side, placed.price)
    whole = Quote(side, price, first, Tif.GTC, ticket.post_only, reserve=placed.size - first)
    approved = risk.check_manual(Intent(MANUAL, market.condition_id, (whole,)), view, link.clock())
    if approved.reason:
        raise CommandRejected(f"{what}: the risk gate refuses it (a slice, with the whole measured against the "
                              f"limits): {approved.reason}")
    ice = new_iceberg(ledger, icebergs, market=market, outcome=ticket.outcome, side=ticket.side, price=placed.price,
                      total=placed.size, shown=asked.slice, post_only=ticket.post_only, by="operator")
    waiting = await icebergs.next_slice(ledger, risk, ice, link.clock())
    with ledger.db.read() as conn:
        orders = trading_reads.ticket_orders(conn, sorted(ice.shown))
    with ledger.db.write() as conn:
        write_audit(conn, actor="engine", action="order.iceberg", entity=f"market:{market.condition_id}",
                    before={"ticket": payload}, after={"iceberg": ice.id, "price": placed.price, "total": placed.size,
                                                       "slice": asked.slice, "orders": [o["id"] for o in orders],
                                                       "waiting": waiting})
    if ice.id not in icebergs.active:
        raise CommandRejected(f"{what}: iceberg #{ice.id} ended at once: {waiting or 'see the Orders page'}")
    count = slices(placed.size, asked.slice)
    return {"iceberg_id": ice.id, "orders": orders, "market": market.question, "outcome": ticket.outcome.value,
            "side": ticket.side.value, "price": fmt(placed.price), "total": fmt(placed.size),
            "slice": fmt(asked.slice), "slices": count,
            "note": f"{what}: {fmt(placed.size)} shares at {fmt(placed.price)}, shown {fmt(asked.slice)} at a time "
                    f"({count} slices)" + (f"; its first slice waits: {waiting}" if waiting else "")}


async def cancel_iceberg(ledgers: list[tuple[TradingSite, IcebergBook]], payload: dict[str, Any]) -> dict[str, Any]:
    iceberg_id = int(payload["iceberg_id"])
    for site, book in ledgers:
        done = await book.cancel(site, iceberg_id, str(payload.get("reason") or ""))
        if done is not None:
            return done
    raise CommandRejected(f"no working iceberg #{iceberg_id} (it is done, cancelled, or unknown)")


async def cancel_trailing_stop(ledgers: list[tuple[TradingSite, TrailBook]],
                               payload: dict[str, Any]) -> dict[str, Any]:
    trail_id = int(payload["trail_id"])
    reason = str(payload.get("reason") or "")
    why = "cancelled by the operator" + (f": {reason}" if reason else "")
    for site, book in ledgers:
        book.load(site)
        found = next((t for t in book.trails.values() if t.id == trail_id), None)
        if found is None:
            continue
        if found.strategy != MANUAL:
            raise CommandRejected(f"trailing stop #{trail_id} is strategy '{found.strategy}''s: it follows that "
                                  "strategy's trailing stop limit (set it to 0 on the Strategies page)")
        book.cancel(site, trail_id, why)
        return {"trail_id": trail_id, "cancelled": True, "was": found.status}
    raise CommandRejected(f"no working trailing stop #{trail_id} (it fired and sold, was cancelled, or is unknown)")
