"""Getting out of a position: the one path that flatten and a strategy's exits (stop loss, take
profit) both take, in paper as in live.

1. **Withdraw first.** The owning strategy's orders in that market are cancelled, and the sale
   waits until the venue has acknowledged them: a resting ask reserves its shares at the venue
   (`not enough balance / allowance ... sum of active orders`), so selling over it is refused.
   The paper venue keeps the same rule, so paper shows what live does. So are other strategies'
   orders the sale would trade with (`in_the_way`): the desk never trades with itself, and an
   exit must not wait behind a quote (the operator's own orders stay; they hold it back).
2. **Then sell** what is held settled with a fill-and-kill at the mid less the max-slippage
   limit: it takes the bids down to that floor and no further. An operator's exit or flatten carries
   the floor the operator confirmed (contracts/exit_floors.py): the sale's limit is the higher of the
   two, and when the market has moved below the confirmed floor nothing is sent (said so).
3. **Say what happened, per token**: shares sold, at what average price, for what proceeds after
   the fee and with what realized PnL after fees (as the ledger booked the sale's fills; a live sale whose
   fills the venue has not reported yet says so), and why anything was not sold (no fresh book,
   below the market's minimum, shares still settling, held back by the venue's maintenance, the
   venue's refusal, no bids down to the floor).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from contracts import order_end
from contracts.domain import ONE, Book, Intent, MarketInfo, Side, Tif, fmt, yes_space
from contracts.exit_floors import exit_floor, price_words
from contracts.order_status import OrderStatus
from engine.execution.executor import OPERATOR_BOOKS
from engine.execution.planner import OrderSpec, round_price, take_size
from engine.risk import self_trade
from storage.engine_stores import trading_reads

if TYPE_CHECKING:
    from contracts.limits import Limits
    from engine.execution.executor import Executor
    from engine.execution.ledger import PositionTotals
    from engine.execution.store import OrderRow
    from engine.trading.parts import TradingSite

CANCEL_WAIT_S = 5.0


@dataclass(frozen=True)
class Holding:
    """One strategy's position in one token: what it holds in all, and what it may sell now."""

    strategy: str
    token: str
    market: MarketInfo
    held: int  # shares, settled and settling
    sellable: int  # settled, less what pending sells promised
    floor: int | None = None  # the lowest price the operator confirmed (None: the mid less the max slippage)


@dataclass(frozen=True)
class Sold:
    """What one sale did: shares sold, the order it used, and why anything held was not sold."""

    strategy: str
    token: str
    held: int
    sold: int = 0
    order_id: int | None = None
    limit: int | None = None
    why_not: str | None = None
    booked: Booked | None = None  # what the ledger booked of it (None: nothing sold, or not reported yet)
    below_floor: bool = False  # the market is below the floor the operator confirmed: nothing more sells now

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"strategy": self.strategy, "token": self.token, "held": fmt(self.held),
                               "sold": fmt(self.sold)}
        if self.order_id is not None:
            out["order_id"] = self.order_id
        if self.limit is not None:
            out["limit"] = fmt(self.limit)
        if self.why_not:
            out["why_not"] = self.why_not
        return out | self.results()

    def results(self) -> dict[str, Any]:
        """Price, proceeds, fee and realized PnL as the answer carries them (or why not yet)."""
        if self.booked is not None:
            return self.booked.as_dict()
        return {"booked": BOOKED_LATER} if self.sold > 0 else {}


BOOKED_LATER = "its price and PnL are booked as the venue reports its fills"


@dataclass(frozen=True)
class Booked:
    """A sale as the ledger booked it: the average price, what it brought in after the fee, the
    fee, and the PnL it realized after fees: less its own fee and the buying fees of the shares it sold
    (against their average cost), the one definition of a trade's PnL (contracts/average_cost.py)."""

    price: int  # micro-probability, the average of its fills
    proceeds: int  # micro-pUSD received, after the fee
    fee: int
    realized: int  # micro-pUSD, after fees

    def as_dict(self) -> dict[str, Any]:
        return {"price": fmt(self.price), "proceeds": fmt(self.proceeds), "fee": fmt(self.fee),
                "realized_pnl": fmt(self.realized)}


def booked(sold: int, before: PositionTotals, after: PositionTotals) -> Booked | None:
    """What the ledger booked between `before` and `after` of a sale of `sold` shares; None unless
    every share sold is in it (a live sale's fills follow its answer)."""
    if sold <= 0 or before.size - after.size != sold:
        return None
    fee = after.fees - before.fees
    gross = (after.realized - before.realized) + (before.cost - after.cost)  # realized + the cost it closed
    return Booked(round(gross * ONE / sold), gross - fee, fee, after.realized - before.realized - fee)


def sell_floor(market: MarketInfo, mid: int, max_slippage: int) -> int:
    """The lowest price a sale accepts: the mid less the max-slippage limit, on the grid."""
    return exit_floor(mid, max_slippage, market.tick)


def moved_past(confirmed: int, book: Book | None) -> str:
    """Why nothing sells: the bids are all below the floor the operator confirmed."""
    best = book.best_bid if book is not None else None
    now = "there are no bids now" if best is None else f"the best bid is now {price_words(best.price)}"
    return (f"the market has moved below the floor you confirmed ({price_words(confirmed)}): {now}, so nothing "
            "was sold below it; exit again to sell at the market's price now")


def below(confirmed: int | None, book: Book | None) -> bool:
    """Whether no bid reaches the floor the operator confirmed (False when none was confirmed, or there is no
    book to judge by: that is "no price", said apart)."""
    if confirmed is None or book is None:
        return False
    return book.best_bid is None or book.best_bid.price < confirmed



def in_the_way(link: TradingSite, limits: Limits, holdings: list[Holding]) -> dict[tuple[str, str], list[OrderRow]]:
    """Other strategies' working orders that these holdings' sales would trade with, by (strategy,
    market): they are withdrawn before the sale, which would otherwise be refused as a self-trade
    and wait behind them."""
    found: dict[tuple[str, str], list[OrderRow]] = {}
    sellers = {(h.strategy, h.market.condition_id) for h in holdings}
    for holding in holdings:
        spec, _ = _sale(link, limits, holding)
        if spec is None:
            continue
        side, price = yes_space(spec.outcome, spec.side, spec.price)
        for order in link.executor.state.orders.values():
            key = (order.strategy, order.condition_id)
            if (order.condition_id != holding.market.condition_id or key in sellers
                    or order.strategy in OPERATOR_BOOKS):
                continue
            if self_trade.crosses(side, price, self_trade.resting([order])[0]):
                found.setdefault(key, []).append(order)
    return found


def working(executor: Executor, keys: set[tuple[str, str]]) -> list[OrderRow]:
    """The orders of these (strategy, market) keys still open at the venue (cancels not yet
    acknowledged included)."""
    return [o for o in executor.state.orders.values() if (o.strategy, o.condition_id) in keys]


async def withdraw(executor: Executor, keys: set[tuple[str, str]]) -> list[OrderRow]:
    """One round: empty these keys' intents, send cancels for their working orders, apply the
    venue's answers; returns what still works (a cancel the venue has not acknowledged)."""
    for strategy, condition_id in keys:
        executor.latest[(strategy, condition_id)] = Intent(strategy, condition_id, (), order_end.EXITED)
    open_now = working(executor, keys)
    if open_now:
        await executor.cancel_orders([o for o in open_now if o.status is not OrderStatus.CANCEL_PENDING],
                                     why=order_end.EXITED)
        executor.drain()
    return working(executor, keys)


async def withdraw_and_wait(executor: Executor, keys: set[tuple[str, str]], timeout_s: float = CANCEL_WAIT_S) -> bool:
    """Withdraw until nothing of these keys works at the venue (bounded); True when done."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while await withdraw(executor, keys):
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def sell(link: TradingSite, limits: Limits, holdings: list[Holding], reason: str, *,
               override_block: bool = False) -> list[Sold]:
    """Sell each holding with a fill-and-kill at the slippage floor (its strategy's orders must
    already be withdrawn); one answer per holding, saying why anything was not sold."""
    answers: dict[tuple[str, str], Sold] = {}
    places = []
    for holding in holdings:
        spec, why = _sale(link, limits, holding)
        if spec is None:
            answers[(holding.strategy, holding.token)] = Sold(
                holding.strategy, holding.token, holding.held, limit=holding.floor, why_not=why,
                below_floor=below(holding.floor, link.marks(holding.token)))
        else:
            places.append((holding.strategy, holding.market, spec, reason))
    if places:
        state = link.executor.state
        before = {(h.strategy, h.token): state.totals(h.strategy, h.token) for h in holdings}
        placed = await link.executor.place_now(places, override_block=override_block)
        link.executor.drain()
        held_back = {id(spec): why for spec, why in placed.refused}
        with link.db.read() as conn:
            sent = trading_reads.sale_orders(conn, placed.order_ids)
        rows = {(r["strategy"], r["token_id"]): r for r in sent}
        for strategy, _, spec, _ in places:
            key = (strategy, spec.token_id)
            holding = next(h for h in holdings if (h.strategy, h.token) == key)
            answer = _answer(holding, spec, rows.get(key), held_back.get(id(spec)))
            answers[key] = replace(answer, booked=_after_fees(link, answer, booked(answer.sold, before[key],
                                                                                   state.totals(*key))),
                                   below_floor=answer.sold < holding.held and below(holding.floor,
                                                                                    link.marks(holding.token)))
    return [answers[(h.strategy, h.token)] for h in holdings]


def _after_fees(link: TradingSite, sold: Sold, found: Booked | None) -> Booked | None:
    """The sale as booked, its PnL as a trade reads it: after its fee and the buying fees of the shares it sold
    (storage/engine_stores/trading_reads.py: what Round trips and a strategy's figures say of it too)."""
    if found is None or sold.order_id is None:
        return found
    with link.db.read() as conn:
        net = trading_reads.sales_after_fees(conn, link.executor.mode, sold.strategy, sold.token, [sold.order_id])
    return replace(found, realized=net)


def _sale(link: TradingSite, limits: Limits, holding: Holding) -> tuple[OrderSpec | None, str]:
    """The fill-and-kill that sells this holding, or why there is none to send."""
    if holding.sellable <= 0:
        return None, f"{fmt(holding.held)} shares are still settling (matched, not yet mined): sell them once settled"
    book = link.marks(holding.token)
    if book is None or book.mid is None or book.age_ms(link.clock()) > limits.ms("max_data_age"):
        return None, "no fresh two-sided book, so no acceptable price"
    floor = sell_floor(holding.market, book.mid, limits.probability("max_slippage"))
    if holding.floor is not None:  # the operator's: never sold below it, whatever the book says now
        if below(holding.floor, book):
            return None, moved_past(holding.floor, book)
        floor = max(floor, round_price(holding.floor, Side.SELL, holding.market.tick))
    size = take_size(floor, sale_size(holding, book, floor), Side.SELL, holding.market.condition_id)
    if size < holding.market.min_size:
        return None, dust_words(holding.sellable, holding.market)
    return OrderSpec(holding.token, holding.market.outcome_of(holding.token), Side.SELL, floor, size, Tif.FAK), ""


def dust_words(shares: int, market: MarketInfo) -> str:
    """What a position below the market's minimum order is, and what becomes of it."""
    return (f"{fmt(shares)} shares are dust: below the market's minimum order of {fmt(market.min_size)}, they "
            "cannot be sold on their own; held to resolution (paid if they win), merged with their complement "
            "where it is held, or sold with the next lot")


def is_dust(shares: int, market: MarketInfo) -> bool:
    return 0 < shares < market.min_size


def sale_size(holding: Holding, book: Book, floor: int) -> int:
    """How much to sell now: all that is sellable, unless the bids down to the floor take less and
    selling all they take would leave a remainder below the market's minimum (unsellable dust): then
    a little less, so what is left can still be sold later (where the minimum allows that)."""
    depth = sum(level.size for level in book.bids if level.price >= floor)
    if depth >= holding.sellable:
        return holding.sellable
    leaving_sellable = holding.sellable - holding.market.min_size
    if is_dust(holding.sellable - depth, holding.market) and leaving_sellable >= holding.market.min_size:
        return min(depth, leaving_sellable)
    return holding.sellable  # a fill-and-kill takes what it finds; the rest is tried again


def _answer(holding: Holding, spec: OrderSpec, row: dict[str, Any] | None, held_back: str | None) -> Sold:
    if row is None:
        why = f"held back ({held_back})" if held_back else "not sent"
        return Sold(holding.strategy, holding.token, holding.held, limit=spec.price, why_not=why)
    sold = int(row["filled"])
    if row["status"] == OrderStatus.REJECTED.value:
        reasons = [f"the venue refused the sale: {row['error']}"]
    elif row["status"] == OrderStatus.PENDING_SUBMIT.value:
        reasons = ["the venue's answer is not known yet: the order is looked up and settles on its word"]
    else:
        reasons = []
        if sold < spec.size:
            bound = ("the floor you confirmed" if holding.floor is not None and spec.price <= round_price(
                holding.floor, Side.SELL, holding.market.tick) else "the mid less the max slippage")
            reasons.append(f"{fmt(spec.size - sold)} shares found no bids at or above {fmt(spec.price)} ({bound})")
        if holding.sellable > spec.size:
            reasons.append(f"{fmt(holding.sellable - spec.size)} shares are below the amounts the venue can express")
        if holding.held > holding.sellable:
            reasons.append(f"{fmt(holding.held - holding.sellable)} shares are still settling")
    return Sold(holding.strategy, holding.token, holding.held, sold, int(row["id"]), spec.price,
                "; ".join(reasons) or None)

