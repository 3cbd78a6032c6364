"""Kalshi nets: a YES contract and a NO contract of one market, held together, are a dollar, and
Kalshi turns them into one at once (its positions are signed, never both sides). Kalshi's paper
ledger does the same for each strategy after every pass: its complete YES+NO sets of a Kalshi
market (settled, not promised to a resting sell) leave its positions at their share of the pair's
cost and a dollar a set is booked as cash, in one transaction, through the ledger's merge records
(a merge Kalshi paid at once: engine/execution/claims.py). Without it paper would hold cash Kalshi
frees, and a live ledger would disagree with Kalshi's positions."""

from __future__ import annotations

import logging

from contracts.command_refusal import CommandRejected
from contracts.venues import KALSHI, venue_of
from engine.execution import claims, store
from engine.trading.auto_merge import held_pairs
from engine.trading.collections import Collections
from engine.venues.settlement import SettlementTx, VenueCredit

log = logging.getLogger("engine.trading.kalshi_netting")


def net_held_pairs(collections: Collections) -> int:
    """Every strategy's complete sets of each Kalshi market it holds both sides of, turned into
    cash; returns the sets netted (micro-contracts)."""
    netted = 0
    for strategy, cid in held_pairs(collections):
        market = collections.catalog.get(cid)
        if market is None or venue_of(cid) != KALSHI or collections.catalog.resolution(cid) is not None:
            continue  # a settled market pays its winning side instead
        try:
            legs = collections._merge_legs(market, strategy, None)
        except CommandRejected:
            continue  # both sides held, but a resting sell holds one of them
        sets = sum(leg.sets for leg in legs)
        ex = collections.ex
        now = collections.clock()
        with ex.tx() as conn:
            tx_id = claims.tx_opened(conn, mode=ex.mode, kind="merge", condition_id=cid, amount=sets, actor="kalshi",
                                     now=now)
            ref = f"kalshi-net-{tx_id}"
            claims.tx_moved(conn, tx_id, SettlementTx(ref, "confirmed", tx_hash=ref, via="kalshi"), now)
            claims.record_merge(conn, mode=ex.mode, tx_id=tx_id, condition_id=cid, yes_token=market.yes_token,
                                no_token=market.no_token, legs=legs, now=now)
            claims.book_credit(conn, ex.mode, VenueCredit("merge", sets, ref, now, cid, sets), now)
            for token, outcome in ((market.yes_token, market.outcome_of(market.yes_token)),
                                   (market.no_token, market.outcome_of(market.no_token))):
                store.recompute_position(conn, mode=ex.mode, strategy=strategy, token_id=token, condition_id=cid,
                                         outcome=outcome, payout=None, now=now)
            ex.state.load_positions(conn)
        log.info("Kalshi netted a strategy's YES and NO", extra={"strategy": strategy, "condition_id": cid,
                                                                 "sets": sets})
        netted += sets
    return netted
