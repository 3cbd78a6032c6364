"""A market a venue voids, on a venue whose policy refunds voids (`VenuePolicy.refunds_voids`,
contracts/venue_policies.py): every position in it is paid back at what it cost, and nobody wins.

Such a venue reports it in its settlements list (a void, with each side's contracts and their total
cost, and what it paid back: engine/venues/settlement.py `VenueRefund`), not as a result of the
market, so there is no payout vector to resolve at. Its live ledger books it as the venue did it,
in one transaction:

- each strategy's contracts of the voided side leave its position at the venue's cost per contract
  (the position's conversions: a sell at that price, so its PnL is what it paid above or below
  the account's average cost, and its fees);
- each strategy is owed what its contracts were returned at (a redeem claim, kind as any
  settlement the venue pays), which the venue's payment then pays (engine/execution/credits.py);
- the market is closed: no strategy quotes it again (the catalog reads a booked refund as closed
  at every load: storage/engine_stores/catalog_store.py).

Once booked, the settlement venue lists the payment (before, it would be cash nobody was owed
beside positions still open), so the ledger's cash ends equal to the venue's balance, as after a
settlement with a winner. A refund is recorded once: its transaction carries the payment's
reference (`VenuePolicy.payment_ref`), and a restart finds it there. Contracts the ledger holds of a
side the venue paid back nothing for are left, and the balance check says so.

Such a venue's paper ledger has no settlement list: it learns of a void from the market itself
(settled with no result: a binary market's only other ending, told by the pair feeds), and pays
each position back at its own cost at once (`book_paper_void`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from contracts.domain import ONE, Outcome, fmt
from contracts.venue_policies import policy_for_market
from engine.execution import claims
from engine.execution.cash_book import Alert
from engine.execution.credits import window
from engine.venues.settlement import RefundSource, VenueRefund

if TYPE_CHECKING:
    from engine.execution.executor import Executor
    from engine.feeds.catalog import MarketCatalog

log = logging.getLogger("engine.trading.settlement.void_refunds")


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
    """The venue's refund on the live ledger: each position at the venue's cost per contract of its
    side; the venue's payment, listed once this is booked, pays the claims."""
    policy = policy_for_market(refund.condition_id)
    legs = [claims.RefundLeg(strategy, token, outcome, shares, price)
            for strategy, token, outcome, shares in _held(ex, refund.condition_id)
            if (price := _cost_per_share(refund, outcome.value)) is not None]
    if refund.voided:
        said = (f"its contracts were returned at cost, {fmt(refund.amount)} {policy.cash_unit}; the live ledger "
                f"closed its positions at {policy.label}'s cost per contract")
    else:
        said = (f"it settled at a value: a YES contract paid {fmt(refund.yes_price or 0)}, a NO "
                f"{fmt(refund.no_price or 0)}, {fmt(refund.amount)} {policy.cash_unit} in all; the live ledger closed "
                "its positions at those prices")
    return _record(ex, catalog, refund.condition_id, refund.ref, refund.amount, legs, said, paid_now=False)


def book_paper_void(ex: Executor, catalog: MarketCatalog, condition_id: str, yes_value: int | None = None) -> bool:
    """The paper ledger of a venue that refunds voids, told the market was voided or settled at a
    value (it has no settlement list of its own): each position paid back at its own cost (a void),
    or at what a contract of its side pays (a YES `yes_value`, a NO the rest of the dollar), at once,
    as the venue pays an account's."""
    policy = policy_for_market(condition_id)
    assert policy.payment_ref is not None, f"{policy.label} pays nothing back by itself"
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
    said = (f"{policy.label}'s paper ledger was {what}, {fmt(paid)} {policy.cash_unit}" if legs
            else f"{policy.label}'s paper ledger held nothing there; the market is closed")
    return _record(ex, catalog, condition_id, policy.payment_ref(condition_id), paid, legs, said, paid_now=True)


def _held(ex: Executor, condition_id: str) -> list[tuple[str, str, Outcome, int]]:
    """(strategy, token, outcome, settled shares) of every position holding shares in the market."""
    state = ex.state
    return [(strategy, token, outcome, shares) for (strategy, token), (market, outcome) in state.position_market.items()
            if market == condition_id and (shares := state.totals(strategy, token).settled) > 0]


def _record(ex: Executor, catalog: MarketCatalog, cid: str, ref: str, amount: int, legs: list[claims.RefundLeg],
            said: str, *, paid_now: bool) -> bool:
    """The refund in one transaction (once: its transaction carries `ref`), and the market closed."""
    policy = policy_for_market(cid)
    alert = Alert("warning", policy.code("VOID"), f"{policy.label} voided {cid}: {said}", subject=cid)
    if not ex.cash_book.refunded(cid, ref, amount, legs, alert, venue=policy.venue, paid_now=paid_now):
        return False  # booked before (a restart reads the list again)
    catalog.close(cid)
    log.info("a venue voided a market: positions closed at cost",
             extra={"venue": policy.venue, "condition_id": cid, "mode": ex.mode, "amount": amount})
    return True


def _cost_per_share(refund: VenueRefund, outcome: str) -> int | None:
    """What the venue paid a contract of `outcome` (micro a share: its value, or its cost for a void);
    None: the account held none of that side."""
    shares, cost, price = (refund.yes_shares, refund.yes_cost, refund.yes_price) if outcome == "YES" else \
        (refund.no_shares, refund.no_cost, refund.no_price)
    if shares <= 0:
        return None
    return price if price is not None else cost * ONE // shares
