"""Exits a strategy takes on its positions, whatever its own logic wants: a stop loss or a take
profit (on the mark's move from the average entry price, or on the unrealized PnL), and an
order-age limit that cancels resting orders left too long.

Finding an exit is pure (`find_exits`). Taking one (`take_exit`) goes the way flatten does, in
paper as in live (selling.py): the strategy is kept out of that market while the exit lasts, its
orders there are withdrawn and their cancels acknowledged first (a resting ask reserves the
shares at the venue), and so are other strategies' orders the sale would trade with (exits come
first: EXIT_FIRST in the decisions log), then what it holds settled is sold with a fill-and-kill
at the mid less the max-slippage limit. The first attempt writes the decision, an audit row and an alert and
starts the strategy's cooldown there; an exit that cannot sell it all is tried again with a
growing back-off (exit_book.py), alerts once that it could not, and once more when it clears.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts import order_end
from contracts.domain import Book, Intent, Side, Tif, fmt, notional, yes_space
from contracts.limits import Limits
from contracts.order_status import OrderStatus
from contracts.strategy_limits import DEFAULTS
from engine.execution.executor import OPERATOR_BOOKS
from engine.execution.state import ExecutionState
from engine.risk.gate import Decision, Reason
from engine.trading.exits import selling
from engine.trading.exits.exit_book import ExitState, Key
from engine.trading.exits.selling import Holding, Sold
from storage.desk.audit import raise_alert, write_audit

if TYPE_CHECKING:
    from engine.execution.store import OrderRow
    from engine.risk.monitor import RiskMonitor
    from engine.trading.exits.exit_book import ExitBook
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.exits.strategy_exits")
NO_EXITS = OPERATOR_BOOKS  # the operator's books: no strategy's exits apply


@dataclass(frozen=True)
class Exit:
    strategy: str
    condition_id: str
    token_id: str
    reason: Reason  # STOP_LOSS, TAKE_PROFIT or OPERATOR_EXIT
    detail: str
    shares: int  # settled, sellable shares to sell
    mid: int
    held: int = 0  # shares held in all (settled and settling)
    floor: int | None = None  # an operator's exit: the lowest price the operator confirmed

    @property
    def key(self) -> Key:
        return self.strategy, self.token_id


def find_exits(state: ExecutionState, marks: Callable[[str], Book | None],
               limits: Mapping[str, Limits]) -> list[Exit]:
    """Positions past their strategy's stop loss or take profit (pure), whether or not their
    shares have settled yet (an exit under way goes on while some still settle)."""
    exits = []
    armed: dict[str, bool] = {}
    # The positions an exit could apply to, then those in key order (sorting only them: most
    # strategies set no exit, and this runs twice per decision).
    candidates = []
    for key, totals in state.positions.items():
        strategy = key[0]
        if strategy in NO_EXITS or totals.size <= 0:
            continue
        if armed.get(strategy) is None:
            armed[strategy] = _armed(limits.get(strategy, DEFAULTS))
        if armed[strategy]:
            candidates.append((key, totals))
    for (strategy, token), totals in sorted(candidates):
        lim = limits.get(strategy, DEFAULTS)
        book = marks(token)
        mid = book.mid if book is not None else None
        if mid is None:
            continue
        hit = _trigger(lim, totals.cost * 1_000_000 // totals.size, mid, totals.size)
        if hit is not None:
            cid, _ = state.position_market[(strategy, token)]
            exits.append(Exit(strategy, cid, token, hit[0], hit[1], totals.sellable, mid, totals.size))
    return exits


def _armed(lim: Limits) -> bool:
    return any(lim.usdc(key) > 0 for key in ("stop_loss_pnl", "take_profit_pnl")) or any(
        lim.probability(key) > 0 for key in ("stop_loss_move", "take_profit_move"))


def _trigger(lim: Limits, entry: int, mark: int, size: int) -> tuple[Reason, str] | None:
    move = mark - entry
    pnl = notional(mark, size) - notional(entry, size)
    checks = (
        (Reason.STOP_LOSS, lim.probability("stop_loss_move"), -move, f"mark {fmt(mark)} is {fmt(-move)} below "
                                                                      f"the entry {fmt(entry)}"),
        (Reason.STOP_LOSS, lim.usdc("stop_loss_pnl"), -pnl, f"unrealized {pnl / 1e6:+.2f} pUSD"),
        (Reason.TAKE_PROFIT, lim.probability("take_profit_move"), move, f"mark {fmt(mark)} is {fmt(move)} above "
                                                                        f"the entry {fmt(entry)}"),
        (Reason.TAKE_PROFIT, lim.usdc("take_profit_pnl"), pnl, f"unrealized {pnl / 1e6:+.2f} pUSD"),
    )
    for reason, threshold, value, detail in checks:
        if threshold > 0 and value >= threshold:
            return reason, detail
    return None


def hold_out(intents: list[Intent], held: set[tuple[str, str]]) -> list[Intent]:
    """A strategy's intents in a market its exit is selling become empty: it must not re-place
    the orders the exit withdrew (an ask there reserves the very shares being sold)."""
    if not held:
        return intents
    return [Intent(i.strategy, i.condition_id, (), order_end.EXITED) if (i.strategy, i.condition_id) in held
            and i.quotes else i
            for i in intents]


def start_exits(link: TradingSite, risk: RiskMonitor, book: ExitBook, exits: list[Exit]) -> None:
    """Exits found this pass begin (before the strategies decide, so one whose position must
    be sold is kept out of that market at once): each new one starts the strategy's cooldown
    there. One with nothing settled to sell yet waits until something is."""
    now = link.clock()
    for exit_ in exits:
        if exit_.key in book.active or exit_.shares <= 0 or link.catalog.get(exit_.condition_id) is None \
                or dust(link, exit_):
            continue
        book.begin(exit_.key, exit_.condition_id, exit_.reason.value, exit_.detail, now)
        cooldown = risk.strategies.limits.get(exit_.strategy, DEFAULTS).ms("exit_cooldown")
        risk.cooldowns[(exit_.strategy, exit_.condition_id)] = now + cooldown


def dust(link: TradingSite, exit_: Exit) -> bool:
    """A position below its market's minimum order: no sale can act on it, so no exit is taken on it
    and it never keeps its strategy out of the market (it is shown as dust: selling.dust_words)."""
    market = link.catalog.get(exit_.condition_id)
    return market is not None and selling.is_dust(exit_.held or exit_.shares, market)


async def take_exits(link: TradingSite, risk: RiskMonitor, book: ExitBook, exits: list[Exit]) -> None:
    """One pass: take each exit that is due, and end those no longer needed (sold, back within the
    threshold, or down to dust)."""
    exits = [e for e in exits if not dust(link, e)]
    start_exits(link, risk, book, exits)
    for exit_ in exits:
        await take_exit(link, risk, book, exit_)
    # A position still held whose book has no mid cannot be judged: its exit waits, it does not end.
    held = link.executor.state
    unpriced = {key for key in book.active if held.totals(*key).size > 0
                and ((prices := link.marks(key[1])) is None or prices.mid is None)}
    for key, state in book.finish({e.key for e in exits} | unpriced):
        _cleared(link, key, state)


async def take_exit(link: TradingSite, risk: RiskMonitor, book: ExitBook, exit_: Exit) -> Sold | str:
    """Withdraw the strategy's orders in the market, then sell what it holds settled
    (selling.py); record it. Returns the sale, or why nothing was tried this time."""
    market = link.catalog.get(exit_.condition_id)
    state = book.active.get(exit_.key)
    now = link.clock()
    if market is None or state is None:
        return "the market is not in the desk's catalog"
    if not state.due(now):
        return "an attempt is already under way; the next is due shortly"
    if _selling_already(link.executor.state, exit_):
        return "a sale of this position is already at the venue"
    holding = Holding(exit_.strategy, exit_.token_id, market, exit_.held or exit_.shares, exit_.shares, exit_.floor)
    in_the_way = selling.in_the_way(link, risk.limits, [holding])
    _make_way(risk, exit_, state, in_the_way, now)
    if await selling.withdraw(link.executor, {(exit_.strategy, exit_.condition_id)} | state.others):
        book.wait_for_cancels(state, now)  # sold once the venue has let go of the shares (and the bids)
        return "its resting orders there are being withdrawn first; it sells once the venue confirms"
    (sold,) = await selling.sell(link, risk.limits, [holding], exit_.reason.value.lower())
    book.tried(state, now, sold.sold, sold.why_not)
    _record(link, risk, exit_, state, sold)
    return sold


def _make_way(risk: RiskMonitor, exit_: Exit, state: ExitState,
              in_the_way: Mapping[tuple[str, str], list[OrderRow]], now: int) -> None:
    """Other strategies' orders the exit's sale would trade with are withdrawn first and their
    strategies kept out of the market while the exit lasts; each such order is a decision
    (EXIT_FIRST) that names the exit, once."""
    new = {key: orders for key, orders in in_the_way.items() if key not in state.others}
    if not new:
        return
    state.others |= set(new)
    what = exit_.reason.value.replace("_", " ").lower()
    why = (f"withdrawn so that strategy '{exit_.strategy}' {what} can sell: the sale would have traded "
           "with this order; it stays out of this market until the exit is done")
    decisions = []
    for (strategy, condition_id), orders in sorted(new.items()):
        for order in orders:
            side, price = yes_space(order.outcome, order.side, order.price)
            decisions.append(Decision(strategy, condition_id, side, price, order.size, 0, Reason.EXIT_FIRST, why))
    risk.decisions.write(decisions, now)


def _selling_already(state: ExecutionState, exit_: Exit) -> bool:
    return any(o.strategy == exit_.strategy and o.token_id == exit_.token_id and o.side is Side.SELL
               and o.tif in (Tif.FAK, Tif.FOK) for o in state.orders.values())


def _record(link: TradingSite, risk: RiskMonitor, exit_: Exit, state: ExitState, sold: Sold) -> None:
    """Every attempt is a decision; the first is also audited and alerted, and an exit that could
    not sell alerts once (then only when it clears): a retry every few seconds is not news."""
    outcome = (f"FAK SELL at {fmt(sold.limit)} or better sold {fmt(sold.sold)}"
               if sold.order_id is not None and sold.limit is not None else "nothing sent")
    market = link.catalog.get(exit_.condition_id)
    left = (exit_.held or exit_.shares) - sold.sold
    dust_left = market is not None and selling.is_dust(left, market)
    if dust_left and market is not None:  # what is left no sale can act on: the exit ends, said so
        outcome += f"; the rest: {selling.dust_words(left, market)}"
    elif sold.why_not:
        outcome += f"; not sold: {sold.why_not}"
    limit = sold.limit if sold.limit is not None else exit_.mid
    side, price = yes_space(market.outcome_of(exit_.token_id), Side.SELL, limit) if market else (Side.SELL, limit)
    risk.decisions.write([Decision(exit_.strategy, exit_.condition_id, side, price, exit_.held or exit_.shares,
                                   sold.sold, exit_.reason, f"{exit_.detail}; {outcome}")], link.clock())
    first, warn = state.attempts == 1, bool(sold.why_not) and not state.warned and not dust_left
    if not (first or warn):
        return
    what = exit_.reason.value.replace("_", " ").lower()
    message = f"strategy '{exit_.strategy}' {what}: {exit_.detail}; {outcome}"
    if warn and sold.below_floor:  # an operator's exit ends there: it never sells below the floor confirmed
        message += ". The exit ends here; the strategy trades this market again after its exit cooldown"
    elif warn:
        state.warned = True
        message += (f". It is tried again with a growing back-off (next in {(state.next_ms - link.clock()) // 1000} s) "
                    "and the strategy stays out of this market meanwhile; you are told when it clears")
    with link.db.write() as conn:
        if first:
            write_audit(conn, actor="engine", action=f"exit.{exit_.reason.value.lower()}",
                        entity=f"strategy:{exit_.strategy}",
                        before={"market": exit_.condition_id, "token": exit_.token_id, "shares": exit_.shares},
                        after={"why": exit_.detail, "sold": sold.sold, "limit": sold.limit,
                               "order_id": sold.order_id, "not_sold": sold.why_not})
        raise_alert(conn, level="warning", source="risk", code=exit_.reason.value, message=message,
                    subject=exit_subject(exit_.key))
    log.warning("exit taken" if first else "exit could not sell", extra={
        "strategy": exit_.strategy, "reason": exit_.reason.value, "detail": exit_.detail, "sold": sold.sold,
        "not_sold": sold.why_not})


def exit_subject(key: Key) -> str:
    """What an exit's alerts are about: one strategy's position in one token (its message
    carries the mark, which moves between repeats)."""
    return f"exit:{key[0]}:{key[1]}"


def _cleared(link: TradingSite, key: Key, state: ExitState) -> None:
    """An exit that had warned it could not sell is over: say so (once)."""
    if not state.warned:
        return
    strategy, token = key
    held = link.executor.state.totals(strategy, token).size
    market = link.catalog.get(state.condition_id)
    how = ("the position is sold" if held <= 0 else selling.dust_words(held, market)
           if market is not None and selling.is_dust(held, market)
           else f"{fmt(held)} shares are still held: the market went below the floor the operator confirmed, so "
                "the exit ended there" if state.reason == Reason.OPERATOR_EXIT.value
           else f"{fmt(held)} shares are held but no longer past the threshold")
    with link.db.write() as conn:
        raise_alert(conn, level="info", source="risk", code="EXIT_CLEARED", subject=exit_subject(key),
                    message=f"strategy '{strategy}' {state.reason.replace('_', ' ').lower()} in market "
                            f"{state.condition_id} cleared after {state.attempts} attempts: {how}")


def stale_orders(state: ExecutionState, limits: Mapping[str, Limits], now: int) -> list[tuple[str, int]]:
    """(strategy, order id) of resting orders older than their strategy's max order age (pure)."""
    out = []
    for order in state.orders.values():
        age = limits.get(order.strategy, DEFAULTS).ms("max_order_age")
        if age and order.status in (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED) and now - order.created_at > age:
            out.append((order.strategy, order.id))
    return out


async def cancel_stale(link: TradingSite, risk: RiskMonitor) -> int:
    """The stale-order clean-up: cancel what is past its strategy's max order age, as decisions
    (ORDER_AGE) with an audit row; the strategy quotes afresh on its next pass."""
    now = link.clock()
    state = link.executor.state
    stale = stale_orders(state, risk.strategies.limits, now)
    if not stale:
        return 0
    orders = [state.orders[i] for _, i in stale if i in state.orders]
    decisions = []
    for order in orders:
        side, price = yes_space(order.outcome, order.side, order.price)
        decisions.append(Decision(order.strategy, order.condition_id, side, price, order.size, 0,
                                  Reason.ORDER_AGE, f"resting {(now - order.created_at) // 1000} s"))
    risk.decisions.write(decisions, now)
    with link.db.write() as conn:
        write_audit(conn, actor="engine", action="exit.order_age", entity="orders",
                    before={"orders": [o.id for o in orders]}, after={"cancelled": True})
    return await link.executor.cancel_orders(orders, why=order_end.because(order_end.PROTECTION, "order age"))
