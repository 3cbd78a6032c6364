"""Filled pairs back to cash: complete YES+NO sets a strategy holds are merged into pUSD.

A market maker filled on both sides, or an arbitrage that bought both outcomes, holds sets that
pay 1 pUSD each at resolution whatever happens, so the cash is locked until then. From
`auto_merge_min_sets` a strategy's complete sets in one market (settled, not promised to an open
sell) are merged through the operator's merge path (engine/trading/settlement/collections.py: recorded
before sending, booked when the venue pays, put back if it fails), paper and live alike; not in
a resolved market (redeemed instead), or one whose last merge is still on its way (a Protocol
V2 market's sets go through its Router). Each merge is audited (`merge.auto`) and alerted (AUTO_MERGE).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contracts.command_refusal import CommandRejected
from contracts.domain import fmt
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import claims_store

if TYPE_CHECKING:
    from engine.trading.settlement.collections import Collections

log = logging.getLogger("engine.trading.settlement.collections")


def held_pairs(collections: Collections) -> list[tuple[str, str]]:
    """(strategy, market) where the strategy holds both outcomes now."""
    state = collections.ex.state
    held: dict[tuple[str, str], set[str]] = {}
    for (strategy, token), totals in state.positions.items():
        if totals.size > 0 and (strategy, token) in state.position_market:
            cid = state.position_market[(strategy, token)][0]
            held.setdefault((strategy, cid), set()).add(token)
    return sorted(key for key, tokens in held.items() if len(tokens) == 2)


async def merge_held_sets(collections: Collections, min_sets: int) -> list[dict[str, Any]]:
    """Merge every strategy's complete sets of a market that reach `min_sets` (micro-shares)."""
    ex = collections.ex
    with ex.db.read() as conn:
        flying = {tx.condition_id for tx in claims_store.open_txs(conn, ex.mode, ex.venue_name) if tx.kind == "merge"}
    merged = []
    for strategy, cid in held_pairs(collections):
        market = collections.catalog.get(cid)
        if market is None or cid in flying or collections.catalog.resolution(cid) is not None:
            continue
        try:
            sets = sum(leg.sets for leg in collections.merge_legs(market, strategy, None))
        except CommandRejected:
            continue  # nothing complete and free to merge (a sell holds some)
        if sets < min_sets:
            continue
        try:
            result = await collections.merge({"condition_id": cid, "strategy": strategy}, actor="engine")
        except CommandRejected as exc:
            log.warning("an automatic merge was refused", extra={"strategy": strategy, "condition_id": cid,
                                                                  "error": str(exc)})
            continue
        flying.add(cid)
        _told(collections, strategy, cid, sets, result)
        merged.append(result)
    return merged


def _told(collections: Collections, strategy: str, cid: str, sets: int, result: dict[str, Any]) -> None:
    with collections.ex.tx() as conn:
        write_audit(conn, actor="engine", action="merge.auto", entity=f"strategy:{strategy}",
                    before={"market": cid, "sets": fmt(sets)}, after=result)
        raise_alert(conn, level="info", source="engine", code="AUTO_MERGE", subject=cid,
                    message=f"strategy '{strategy}' held {fmt(sets)} complete YES+NO sets of market {cid[:12]}…: "
                            f"merged back into pUSD ({result.get('outcome', 'sent')}; redeemable until the venue "
                            "pays, then cash)")
