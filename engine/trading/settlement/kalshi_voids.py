"""A market Kalshi voids: every position in it is paid back at what it cost, and nobody wins.

Kalshi reports it in its settlements list (`market_result` `void`, with each side's contracts and
their total cost, and what it paid back), not as a result of the market, so there is no payout
vector to resolve at. The live Kalshi ledger books it as Kalshi did it, in one transaction:

- each strategy's contracts of the voided side leave its position at Kalshi's cost per contract
  (the position's conversions: a sell at that price, so its PnL is what it paid above or below
  the account's average cost, and its fees);
- each strategy is owed what its contracts were returned at (a redeem claim, kind as any
  settlement Kalshi pays), which Kalshi's payment then pays (engine/execution/credits.py);
- the market is closed: no strategy quotes it again (the catalog reads a booked refund as closed
  at every load: storage/engine_stores/catalog_store.py).

Once booked, the settlement venue lists the payment (before, it would be cash nobody was owed
beside positions still open), so the ledger's cash ends equal to Kalshi's balance, as after a
settlement with a winner. A refund is recorded once: its transaction carries the payment's
reference, and a restart finds it there. Contracts the ledger holds of a side Kalshi paid back
nothing for are left, and the balance check says so.

Kalshi's paper ledger has no settlement list: it learns of a void from the market itself (settled
with no result: a binary market's only other ending, engine/feeds/kalshi_reference.py), and pays
each position back at its own cost at once (`book_paper_void`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from contracts import kalshi_ids
from contracts.domain import ONE, Outcome, fmt
from contracts.venues import KALSHI
from engine.execution import claims
from engine.execution.cash_book import Alert
from engine.execution.credits import window
from engine.venues.settlement import RefundSource, VenueRefund

if TYPE_CHECKING:
    from engine.execution.executor import Executor
    from engine.feeds.catalog import MarketCatalog

log = logging.getLogger("engine.trading.settlement.kalshi_voids")


async def book_refunds(ex: Executor, catalog: MarketCatalog, source: RefundSource) -> int:
    """Every voided market the venue reports and the ledger has not booked, booked; returns how
    many were booked now."""
    span = window(ex)
    if span is None:
        return 0
    began, read_from = span
    booked = 0
    for refund in await source.refunds(read_from):
        if refund.at_ms // 1000 < began // 1000:  # paid back before the desk began: in its starting cash
            continue
        if _book(ex, catalog, refund):
            booked += 1
        source.refund_booked(refund.condition_id)
    return booked


def _book(ex: Executor, catalog: MarketCatalog, refund: VenueRefund) -> bool:
    """Kalshi's refund on the live ledger: each position at Kalshi's cost per contract of its side;
    Kalshi's payment, listed once this is booked, pays the claims."""
    legs = [claims.RefundLeg(strategy, token, outcome, shares, price)
            for strategy, token, outcome, shares in _held(ex, refund.condition_id)
            if (price := _cost_per_share(refund, outcome.value)) is not None]
    if refund.voided:
        said = (f"its contracts were returned at cost, {fmt(refund.amount)} USD; the live ledger closed its "
                "positions at Kalshi's cost per contract")
    else:
        said = (f"it settled at a value: a YES contract paid {fmt(refund.yes_price or 0)}, a NO "
                f"{fmt(refund.no_price or 0)}, {fmt(refund.amount)} USD in all; the live ledger closed its positions "
                "at those prices")
    return _record(ex, catalog, refund.condition_id, refund.ref, refund.amount, legs, said, paid_now=False)


def book_paper_void(ex: Executor, catalog: MarketCatalog, condition_id: str, yes_value: int | None = None) -> bool:
    """Kalshi's paper ledger, told the market was voided or settled at a value (it has no settlement
    list of its own): each position paid back at its own cost (a void), or at what a contract of its
    side pays (a YES `yes_value`, a NO the rest of the dollar), at once, as Kalshi pays an account's."""
    def price(outcome: Outcome, cost: int, size: int) -> int:
        if yes_value is None:
            return cost * ONE // size  # its average cost a share
        return yes_value if outcome is Outcome.YES else ONE - yes_value

    legs = [claims.RefundLeg(strategy, token, outcome, shares, price(outcome, totals.cost, totals.size))
            for strategy, token, outcome, shares in _held(ex, condition_id)
            if (totals := ex.state.totals(strategy, token)).size > 0 and (yes_value is not None or totals.cost > 0)]
    paid = sum(leg.shares * leg.price // ONE for leg in legs)
    what = "paid back its positions' cost" if yes_value is None else \
        f"paid at the market's value (a YES {fmt(yes_value)})"
    said = (f"Kalshi's paper ledger was {what}, {fmt(paid)} USD" if legs
            else "Kalshi's paper ledger held nothing there; the market is closed")
    return _record(ex, catalog, condition_id, kalshi_ids.settlement_ref(kalshi_ids.ticker_of(condition_id)), paid,
                   legs, said, paid_now=True)


def _held(ex: Executor, condition_id: str) -> list[tuple[str, str, Outcome, int]]:
    """(strategy, token, outcome, settled shares) of every position holding shares in the market."""
    state = ex.state
    return [(strategy, token, outcome, shares) for (strategy, token), (market, outcome) in state.position_market.items()
            if market == condition_id and (shares := state.totals(strategy, token).settled) > 0]


def _record(ex: Executor, catalog: MarketCatalog, cid: str, ref: str, amount: int, legs: list[claims.RefundLeg],
            said: str, *, paid_now: bool) -> bool:
    """The refund in one transaction (once: its transaction carries `ref`), and the market closed."""
    alert = Alert("warning", "KALSHI_VOID", f"Kalshi voided {cid}: {said}", subject=cid)
    if not ex.cash_book.refunded(cid, ref, amount, legs, alert, venue=KALSHI, paid_now=paid_now):
        return False  # booked before (a restart reads the list again)
    catalog.close(cid)
    log.info("Kalshi voided a market: positions closed at cost", extra={"condition_id": cid, "mode": ex.mode,
                                                                       "amount": amount})
    return True


def _cost_per_share(refund: VenueRefund, outcome: str) -> int | None:
    """What Kalshi paid a contract of `outcome` (micro a share: its value, or its cost for a void);
    None: the account held none of that side."""
    shares, cost, price = (refund.yes_shares, refund.yes_cost, refund.yes_price) if outcome == "YES" else \
        (refund.no_shares, refund.no_cost, refund.no_price)
    if shares <= 0:
        return None
    return price if price is not None else cost * ONE // shares
