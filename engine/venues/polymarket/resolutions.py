"""What Gamma says of markets among its closed ones: the payouts of those resolved, read for the
trading layer's two askers (engine/trading/settlement/resolution.py: the held markets whose resolution
the market channel missed, one request a market; posted_resolutions.py: the markets outside sources
priced, `batch` a request) as `VenueResolution`s (engine/venues/market_data.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from contracts.payouts import PayoutError
from engine.venues.market_data import VenueResolution
from engine.venues.polymarket.parse_markets import venue_payouts
from engine.venues.polymarket.rest import RestClient


def resolution_of(condition_id: str, raw: dict[str, Any]) -> VenueResolution:
    """A closed Gamma market as the trading layer reads it: its payouts, or what it reported that the desk
    cannot settle at (the error and its `outcomePrices`)."""
    try:
        return VenueResolution(condition_id, venue_payouts(raw))
    except PayoutError as exc:
        return VenueResolution(condition_id, None, str(exc), f"outcomePrices {raw.get('outcomePrices')!r:.80}")


async def closed_markets(gamma_host: str, condition_ids: Sequence[str], *,
                         batch: int = 0) -> AsyncGenerator[VenueResolution, None]:
    """Each of these markets Gamma lists among its closed ones: asked one a request (`batch` 0), or `batch`
    a request (`condition_ids` repeated, on Gamma's own pace)."""
    rest = RestClient(gamma_host)
    try:
        if not batch:
            for cid in condition_ids:
                raws = await rest.get_json("/markets", {"condition_ids": cid, "closed": "true"})
                for raw in raws if isinstance(raws, list) else []:
                    if isinstance(raw, dict) and raw.get("conditionId") == cid:
                        yield resolution_of(cid, raw)
            return
        for start in range(0, len(condition_ids), batch):
            chunk = list(condition_ids[start:start + batch])
            raws = await rest.get_json("/markets", {"condition_ids": chunk, "closed": "true", "limit": batch},
                                       family="gamma")
            asked = set(chunk)
            for raw in raws if isinstance(raws, list) else []:
                if isinstance(raw, dict) and raw.get("conditionId") in asked:
                    yield resolution_of(str(raw["conditionId"]), raw)
    finally:
        await rest.close()
