"""Order-related operator commands (cancel_order, flatten, the manual ticket) and market
resolution.

Flatten sells held positions through selling.py, the path a strategy's exits take too: it
withdraws the strategies' orders in scope and waits for their cancels (a resting ask reserves
its shares at the venue), then sells with a FAK whose limit is the mid less the max-slippage
limit, never below the floor the operator confirmed (`floors`: operator_exits.py says how a command
without them is sold); its answer says, per token, what sold and why anything did not. The only order ever
sent while the kill latch is set is the flatten the operator configured to follow a
kill-switch kill (`kill_flatten`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from contracts import order_end
from contracts.command_refusal import CommandRejected
from contracts.domain import Intent, MarketInfo, MarketView, Outcome, fmt, yes_space
from contracts.exit_floors import floor_key, read_floors
from contracts.order_status import OrderStatus
from contracts.payouts import Payouts
from contracts.ticket import MANUAL, Preview, TicketError, as_quote, parse_ticket, preview
from engine.execution.planner import OrderSpec, route
from engine.risk.gate import Decision, Reason
from engine.trading.exits import selling
from engine.trading.exits.selling import Holding
from engine.trading.hosting.views import market_views
from storage.desk.audit import write_audit
from storage.engine_stores import trading_reads, trading_writes

if TYPE_CHECKING:
    from contracts.limits import Limits
    from engine.execution.store import OrderRow
    from engine.risk.monitor import RiskMonitor
    from engine.trading.hosting.strategy_host import StrategyHost
    from engine.trading.ledgers.venue_link import VenueLink
    from engine.trading.parts import TradingSite
    from storage.sqlite.db import Database

BOOK_WAIT_S = 5.0


async def place_order(ledger: TradingSite, link: VenueLink, risk: RiskMonitor,
                      payload: dict[str, Any]) -> dict[str, Any]:
    """The manual ticket, on the desk's ledger (`ledger`; `link`: the markets it trades through):
    previewed against the engine's own book, checked by the risk gate as a quote of the `manual` book
    (refused, never silently trimmed), routed by the planner and placed; audited with its outcome. Its
    orders are the operator's: strategies never cancel them (cancel them from the Orders page)."""
    if ledger.executor.blocked:
        raise CommandRejected("the engine is not trading (stopped or killed): start it first")
    try:
        ticket = parse_ticket(payload, now_s=link.clock() // 1000)
    except TicketError as exc:
        raise CommandRejected(str(exc)) from None
    catalog = link.catalog
    market = catalog.get(ticket.condition_id)
    if market is None or not market.tradable or not market.accepting_orders or market.closed:
        raise CommandRejected(f"market {ticket.condition_id!r} is not open for orders (unknown, closed or paused)")
    await ledger.connect()
    if catalog.fees_unknown([market.condition_id]):  # a market no strategy trades: read its fee first
        await link.ensure_fees([market.condition_id])
        market = catalog.get(ticket.condition_id) or market
        if catalog.fees_unknown([market.condition_id]) and link.replay is None:
            raise CommandRejected("the market's fee schedule could not be read from the venue: try again shortly")
    what = f"{ticket.side.value} {ticket.outcome.value} in “{market.question}”"  # every answer names it
    view = await _fresh_view(link, risk.limits, market)
    token = market.token(ticket.outcome)
    executor = ledger.executor
    held = executor.state.totals(MANUAL, token).sellable
    try:
        placed = preview(ticket, market, view.yes if ticket.outcome is Outcome.YES else view.no, held,
                         risk.limits.probability("max_slippage"))
    except TicketError as exc:
        raise CommandRejected(f"{what}: {exc}") from None
    approved = risk.check_manual(Intent(MANUAL, market.condition_id, (as_quote(ticket, placed),)), view,
                                 link.clock())
    if approved.reason:
        raise CommandRejected(f"{what}: the risk gate refuses it: {approved.reason}")
    specs, residuals = route(approved.quotes, market, executor.state.holdings(MANUAL, market))
    problems = [r.reason for r in residuals if r.code is not None]
    if problems or not specs:
        raise CommandRejected(f"{what}: cannot be placed legally: {'; '.join(problems) or 'nothing to place'}")
    result = await executor.place_now([(MANUAL, market, spec, payload.get("reason") or "manual ticket")
                                       for spec in specs])
    executor.drain()
    with link.db.read() as conn:
        orders = trading_reads.ticket_orders(conn, result.order_ids)
    _audit_ticket(link.db, payload, placed, orders, result.refused)
    if result.refused or all(o["status"] == "REJECTED" for o in orders):
        why = [reason for _, reason in result.refused] + [o["error"] for o in orders if o["error"]]
        raise CommandRejected(f"{what}: not placed: {'; '.join(why) or 'refused'}")
    return {"orders": orders, "market": market.question, "outcome": ticket.outcome.value, "side": ticket.side.value,
            "price": fmt(placed.price), "size": fmt(placed.size), "fee": fmt(placed.fee),
            "note": f"{what}: {fmt(placed.size)} shares at {fmt(placed.price)}"}


async def _fresh_view(link: VenueLink, limits: Limits, market: MarketInfo) -> MarketView:
    """The market as the gate must see it: both books, fresh. A market no strategy trades is
    subscribed first (bounded wait): a ticket is never checked against no data."""
    tokens = {market.yes_token, market.no_token}
    if tokens - link.feed.subscribed():
        link.feed.subscribe(tokens - link.feed.subscribed())
    deadline = asyncio.get_running_loop().time() + BOOK_WAIT_S
    max_age = limits.ms("max_data_age")
    while True:
        view = market_views([market.condition_id], link.catalog, link.books, {}, None)[market.condition_id]
        age = view.data_age_ms(link.clock())
        if age is not None and age <= max_age:
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise CommandRejected("no fresh two-sided book for this market yet: the feed is not delivering it")
        await asyncio.sleep(0.05)


def _audit_ticket(db: Database, payload: dict[str, Any], placed: Preview, orders: list[dict[str, Any]],
                  refused: list[tuple[OrderSpec, str]]) -> None:
    with db.write() as conn:
        write_audit(conn, actor="engine", action="order.manual", entity=f"market:{payload.get('condition_id')}",
                    before={"ticket": payload},
                    after={"price": placed.price, "size": placed.size, "fee": placed.fee,
                           "orders": [{"id": o["id"], "status": o["status"], "error": o["error"]} for o in orders],
                           "refused": [reason for _, reason in refused]})


async def cancel_order(link: TradingSite, host: StrategyHost, payload: dict[str, Any]) -> dict[str, Any]:
    order_id, client_id = payload.get("order_id"), payload.get("client_id")
    if not isinstance(order_id, int) and not isinstance(client_id, str):
        raise CommandRejected('cancel_order needs {"order_id": <number>} or {"client_id": "<id>"}')
    await link.connect()
    executor = link.executor
    state = executor.state
    match = [o for o in state.orders.values() if o.id == order_id or o.client_id == client_id]
    if not match:
        raise CommandRejected(f"no open order {order_id if order_id is not None else client_id!r} "
                              "(it may already be filled or cancelled)")
    order = match[0]
    if order.status is OrderStatus.PENDING_SUBMIT:
        raise CommandRejected("the order is still being submitted; try again in a moment")
    if order.strategy in host.hosted:
        executor.latest.pop((order.strategy, order.condition_id), None)
    cancelled = await executor.cancel_orders([order], why=order_end.OPERATOR)
    executor.drain()
    return {"order_id": order.id, "cancelled": bool(cancelled)}


def holdings_in_scope(link: TradingSite, payload: dict[str, Any]) -> list[Holding]:
    """Every position in scope that holds shares, settled or still settling."""
    want_market, want_strategy = payload.get("condition_id"), payload.get("strategy")
    out = []
    state = link.executor.state
    for (strategy, token), totals in sorted(state.positions.items()):
        cid, _ = state.position_market[(strategy, token)]
        market = link.catalog.get(cid)
        if market is None or totals.size <= 0:
            continue
        if want_market not in (None, cid) or want_strategy not in (None, strategy):
            continue
        out.append(Holding(strategy, token, market, totals.size, totals.sellable))
    return out


async def flatten(link: TradingSite, risk: RiskMonitor, payload: dict[str, Any], *, deciding: bool,
                  after_kill: bool = False) -> dict[str, Any]:
    """Sell everything held in scope (selling.py: withdraw the strategies' orders there, then a
    fill-and-kill at the slippage floor) and say, per token, what sold and why anything did not.
    `after_kill` only from the engine's own kill-switch path (TradingCore.kill), never from a
    payload: an operator's flatten under the latch is refused."""
    if deciding and not after_kill:
        raise CommandRejected("pause or stop the engine first, so strategies do not buy back what flatten sells")
    if kill_latched(link.db) and not after_kill:
        raise CommandRejected("the kill latch is set: re-arm first (a kill-switch kill flattens by itself "
                              "when kill_flatten is 1)")
    await link.connect()
    holdings, unconfirmed = _with_floors(holdings_in_scope(link, payload), payload)
    if not holdings and not unconfirmed:
        return {"orders": 0, "sold": [], "skipped": [], "note": "nothing held in scope"}
    keys = {(h.strategy, h.market.condition_id) for h in holdings}
    in_the_way = selling.in_the_way(link, risk.limits, holdings)
    _log_made_way(link, risk, in_the_way)
    withdrawn = await selling.withdraw_and_wait(link.executor, keys | set(in_the_way))
    sold = await selling.sell(link, risk.limits, holdings, "flatten", override_block=after_kill) if holdings else []
    sold += [selling.Sold(h.strategy, h.token, h.held, why_not=NOT_CONFIRMED) for h in unconfirmed]
    skipped = [{"strategy": s.strategy, "token": s.token, "why": s.why_not} for s in sold if s.why_not]
    if not withdrawn:
        skipped.append({"why": "some of the strategies' orders there were not yet cancelled at the venue, so their "
                               "shares stayed reserved: flatten again in a moment"})
    return {"orders": sum(1 for s in sold if s.order_id is not None), "sold": [s.as_dict() for s in sold],
            "skipped": skipped, "floor": floor_words(read_floors(payload.get("floors")))}


def _with_floors(holdings: list[Holding], payload: dict[str, Any]) -> tuple[list[Holding], list[Holding]]:
    """(the holdings to sell, each with the floor the operator confirmed for it; those the command names no
    floor for though it names some: not in what the operator confirmed). No floors at all: every holding,
    at the engine's floor when it sends."""
    floors = read_floors(payload.get("floors"))
    if floors is None:
        return holdings, []
    floored = [replace(h, floor=confirmed_floor(h, floors)) for h in holdings]
    return [h for h in floored if h.floor is not None], [h for h in floored if h.floor is None]


def _log_made_way(link: TradingSite, risk: RiskMonitor, in_the_way: dict[tuple[str, str], list[OrderRow]]) -> None:
    """Other strategies' orders flatten's sales would trade with are withdrawn first: a decision
    each (EXIT_FIRST), so the decisions log says why they went."""
    decisions = []
    for (strategy, condition_id), orders in sorted(in_the_way.items()):
        for order in orders:
            side, price = yes_space(order.outcome, order.side, order.price)
            decisions.append(Decision(strategy, condition_id, side, price, order.size, 0, Reason.EXIT_FIRST,
                                      "withdrawn so that flatten can sell: the sale would have traded with this "
                                      "order"))
    if decisions:
        risk.decisions.write(decisions, link.clock())


NOT_CONFIRMED = ("no floor was confirmed for it (it had no price when you confirmed, or was bought since): nothing "
                 "was sent; exit again to sell it at a floor you confirm")


def confirmed_floor(holding: Holding, floors: Mapping[str, int] | None) -> int | None:
    """The floor the command carries for this position (None: it carries none for it)."""
    if floors is None:
        return None
    return floors.get(floor_key(holding.market.condition_id, holding.market.outcome_of(holding.token).value))


def floor_words(floors: Mapping[str, int] | None) -> str:
    """How the command's sales were bounded, as its answer says."""
    if floors is None:
        return ("no floor came with this command: each sale was bounded by the mid less the max slippage when it "
                "was sent")
    return "each sale was bounded by the floor you confirmed (never below it)"


def kill_latched(db: Database) -> bool:
    with db.read() as conn:
        return trading_reads.kill_latched(conn)


def settle_resolution(link: TradingSite, condition_id: str, payouts: Payouts) -> None:
    """A market resolved: record its payouts and settle every position in it at them."""
    if link.catalog.get(condition_id) is None:
        return
    winner = payouts.winner
    with link.db.write() as conn:
        trading_writes.resolve_market(conn, condition_id, payouts.yes, payouts.no,
                                      winner.value if winner is not None else None)
    link.executor.applier.settle_market(condition_id, payouts)


def settle_won(link: TradingSite, condition_id: str, winning_token: str) -> None:
    """The market channel named a winning token: settle at 1/0 for it."""
    market = link.catalog.get(condition_id)
    if market is not None:
        settle_resolution(link, condition_id, Payouts.won_by(market.outcome_of(winning_token)))
