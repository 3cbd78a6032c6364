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
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from contracts.domain import ONE, fmt
from engine.execution import claims, store
from engine.execution.credits import window
from engine.venues.settlement import RefundSource, SettlementTx, VenueRefund
from storage.desk.audit import raise_alert

if TYPE_CHECKING:
    from engine.execution.executor import Executor
    from engine.feeds.catalog import MarketCatalog

log = logging.getLogger("engine.trading.kalshi_voids")


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
    now = ex.clock()
    state = ex.state
    cid = refund.condition_id
    held = [(strategy, token, outcome, state.totals(strategy, token).settled)
            for (strategy, token), (market, outcome) in state.position_market.items() if market == cid]
    with ex.tx() as conn:
        if claims.recorded(conn, refund.ref):
            return False  # booked before (a restart reads the list again)
        tx_id = claims.tx_opened(conn, mode=ex.mode, kind="redeem", condition_id=cid, amount=refund.amount,
                                 actor="kalshi", now=now)
        claims.tx_moved(conn, tx_id, SettlementTx(refund.ref, "confirmed", tx_hash=refund.ref, via="kalshi"), now)
        legs = [claims.RefundLeg(strategy, token, outcome, shares, price) for strategy, token, outcome, shares in held
                if shares > 0 and (price := _cost_per_share(refund, outcome.value)) is not None]
        owed = claims.record_refund(conn, mode=ex.mode, tx_id=tx_id, condition_id=cid, legs=legs, now=now)
        for leg in legs:
            store.recompute_position(conn, mode=ex.mode, strategy=leg.strategy, token_id=leg.token_id,
                                     condition_id=cid, outcome=leg.outcome, payout=None, now=now)
        raise_alert(conn, level="warning", source="venue", code="KALSHI_VOID", subject=cid,
                    message=f"Kalshi voided {cid}: its contracts were returned at cost, {fmt(refund.amount)} USD; "
                            f"the ledger closed its positions at Kalshi's cost ({fmt(owed)} USD owed to them)")
        state.load_positions(conn)
    market = catalog.get(cid)
    if market is not None:
        catalog.add(replace(market, closed=True, accepting_orders=False))
    log.info("Kalshi voided a market: positions closed at cost", extra={"condition_id": cid, "amount": refund.amount})
    return True


def _cost_per_share(refund: VenueRefund, outcome: str) -> int | None:
    """What Kalshi returned a contract of `outcome` at (micro-pUSD a share); None: it held none."""
    shares, cost = (refund.yes_shares, refund.yes_cost) if outcome == "YES" else (refund.no_shares, refund.no_cost)
    return cost * ONE // shares if shares > 0 else None
