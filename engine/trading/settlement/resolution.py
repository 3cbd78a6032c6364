"""Settling held positions in markets that resolved while nobody was listening.

The market channel announces resolutions as they happen; this catches the ones missed
(the engine was down, the event was dropped, or it named no single winner as a 50/50 does):
for each held market not yet settled, ask Gamma for it including closed markets, and settle
at the payout vector its final prices report (contracts/payouts.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from contracts.domain import ONE, to_micros
from contracts.payouts import PayoutError, Payouts
from contracts.venue_policies import policy_for_market
from engine.trading.operator.operator_actions import settle_resolution
from engine.venues.polymarket.parse_markets import json_list
from engine.venues.polymarket.rest import RestClient
from storage.desk.audit import raise_alert

if TYPE_CHECKING:
    from engine.trading.parts import TradingSite

log = logging.getLogger("engine.trading.settlement.resolution")


def venue_payouts(raw: dict[str, Any]) -> Payouts | None:
    """The payouts a closed Gamma market reports, or None while undecided. A proposed (or
    disputed) outcome is not final: UMA's liveness has not passed and nothing is redeemable yet,
    whatever the prices show. One price of exactly 1 is a winner (older markets carry no
    resolution status); a split (0.5/0.5) counts only with the status `resolved`, for a closed
    market that never resolved shows its last trading prices there. Raises PayoutError for a
    resolved market whose vector is not one (the caller alerts, and settles nothing)."""
    if not raw.get("closed"):
        return None
    status = str(raw.get("umaResolutionStatus") or "").strip().lower()
    if status and status != "resolved":
        return None
    prices = json_list(raw.get("outcomePrices"))
    try:
        micros = [to_micros(str(p)) for p in prices]
    except ValueError:
        micros = []
    if len(micros) == 2 and sorted(micros) == [0, ONE]:
        return Payouts(micros[0], micros[1])
    if status != "resolved":
        return None
    return Payouts.of_values(prices)


async def settle_missed_resolutions(link: TradingSite, *, also: set[str] | None = None) -> int:
    """`also`: markets held elsewhere (the paper ledger's), asked about the same way; their
    positions settle from the catalog's record of the resolution. Only a market of a venue whose
    resolutions are asked (`resolutions_asked`: Gamma knows only those) is asked for here."""
    state = link.executor.state
    held = {cid for (strategy, token), totals in state.positions.items() if totals.size > 0
            for cid in [state.position_market[(strategy, token)][0]]} | (also or set())
    pending = sorted(cid for cid in held if link.catalog.resolution(cid) is None
                     and policy_for_market(cid).resolutions_asked)
    if not pending:
        return 0
    rest = RestClient(link.settings.gamma_host)
    settled = 0
    try:
        for cid in pending:
            raws = await rest.get_json("/markets", {"condition_ids": cid, "closed": "true"})
            for raw in raws if isinstance(raws, list) else []:
                if isinstance(raw, dict) and raw.get("conditionId") == cid and _settle(link, cid, raw):
                    settled += 1
    finally:
        await rest.close()
    return settled


def _settle(link: TradingSite, condition_id: str, raw: dict[str, Any]) -> bool:
    try:
        payouts = venue_payouts(raw)
    except PayoutError as exc:
        with link.db.write() as conn:
            raise_alert(conn, level="critical", source="engine", code="PAYOUT_REFUSED", subject=condition_id,
                        message=f"market {condition_id[:12]}… resolved with payouts the desk cannot settle at "
                                f"({exc}; outcomePrices {raw.get('outcomePrices')!r:.80}): its positions stay "
                                "open until the venue reports a vector that sums to 1")
        return False
    if payouts is None:
        return False
    settle_resolution(link, condition_id, payouts)
    log.info("settled a resolution the feed missed", extra={"condition_id": condition_id, "payouts": payouts.label})
    return True
