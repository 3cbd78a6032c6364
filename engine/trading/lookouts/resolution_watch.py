"""Held positions in markets whose resolution is under way, told to the operator.

The risk gate keeps the desk out of a market whose UMA resolution is proposed or disputed
(RESOLUTION_PENDING: exits only). What it already holds there stays, to be sold or settled: the
operator is alerted once per market and status (RESOLUTION_PENDING, warning), with the
strategies that hold it, when a market refresh reads a new status from Gamma.
"""

from __future__ import annotations

from collections import defaultdict

from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from storage.desk.audit import raise_alert
from storage.sqlite.db import Database


def held_markets(state: ExecutionState) -> dict[str, list[str]]:
    """Market -> the strategies holding shares of it now."""
    holders: dict[str, set[str]] = defaultdict(set)
    for (strategy, token), totals in state.positions.items():
        if totals.size > 0 and (strategy, token) in state.position_market:
            holders[state.position_market[(strategy, token)][0]].add(strategy)
    return {cid: sorted(names) for cid, names in holders.items()}


class ResolutionWatch:
    def __init__(self) -> None:
        self.told: dict[str, str] = {}  # market -> the status last alerted

    def check(self, db: Database, state: ExecutionState, catalog: MarketCatalog) -> list[str]:
        """Alert each held market whose pending status is new since the last check; returns them."""
        alerted = []
        for cid, strategies in sorted(held_markets(state).items()):
            market = catalog.get(cid)
            if market is None or not market.resolution_pending or market.closed:
                continue
            if self.told.get(cid) == market.resolution_said:
                continue
            self.told[cid] = market.resolution_said
            with db.write() as conn:
                raise_alert(conn, level="warning", source="engine", code="RESOLUTION_PENDING", subject=cid,
                            message=f"{market.question[:80] or cid[:12]}: the venue reports its resolution "
                                    f"{market.resolution_said}, and {', '.join(strategies)} hold shares of it. "
                                    "The desk adds nothing there from now; exits still go through, and what "
                                    "is held settles at the outcome UMA finally reports")
            alerted.append(cid)
        return alerted
