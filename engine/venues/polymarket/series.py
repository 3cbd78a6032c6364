"""Discovery of the short crypto up/down series as their markets open, every few seconds.

A series' markets have slugs computed from their window's start (contracts/updown.py), so each
pass asks Gamma's `/markets?slug=` for the current and the next window of every followed series
that the desk has not found yet (at most two requests a series a pass, far inside Gamma's pace),
stores what it finds as the full refresh would (with the CLOB's fees: these markets charge
takers), and returns the new condition ids so the caller reloads the catalog and reselects the
strategies' markets at once instead of at the next five-minute refresh. A slug Gamma does not list
yet is asked again next pass; a failing request is logged and asked again, never fatal. Once a
window has opened, its price to beat (the Chainlink price at its start) is read from its Gamma event
(`prices_to_beat`), so a window the desk joins late is priced on the venue's own number.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from contracts.updown import Series
from engine.feeds.price_series import positive_price
from engine.venues.polymarket.discovery import enrich_fees, market_row, parsed_market
from engine.venues.polymarket.rest import RestClient
from storage.engine_stores import catalog_store
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.feeds.series")
AHEAD = 2  # windows asked for: the current one and the next


def wanted_slugs(series: Iterable[Series], now_s: float) -> list[str]:
    return [s.slug(s.window_start(now_s) + k * s.seconds) for s in series for k in range(AHEAD)]


class SeriesDiscovery:
    def __init__(self, db: Database, gamma_host: str, clob_host: str) -> None:
        self.db = db
        self.gamma_host = gamma_host
        self.clob_host = clob_host
        self.found: set[str] = set()  # slugs already stored (only the wanted ones are kept)
        self.failures = 0  # requests failed in a row (the first of a run is logged)

    async def discover(self, series: Iterable[Series], now_s: float) -> list[str]:
        """Find the wanted windows not found yet; returns the condition ids stored this pass."""
        wanted = wanted_slugs(series, now_s)
        self.found &= set(wanted)
        missing = [slug for slug in wanted if slug not in self.found]
        if not missing:
            return []
        client = RestClient(self.gamma_host)
        try:
            items = [item for slug in missing for item in await self._ask(client, slug)]
        finally:
            await client.close()
        parsed = [m for m in (parsed_market(item) for item in items) if m is not None and len(m.token_ids) >= 2]
        fresh = [m for m in parsed if m.slug in missing]
        if not fresh:
            return []
        now = now_ms()
        await asyncio.to_thread(catalog_store.upsert_markets, self.db, [market_row(m, now) for m in fresh])
        ids = [m.condition_id for m in fresh]
        await enrich_fees(self.db, self.clob_host, ids)
        self.found |= {m.slug for m in fresh if m.slug}
        log.info("series markets found", extra={"slugs": sorted(m.slug or "" for m in fresh)})
        return ids

    async def _ask(self, client: RestClient, slug: str) -> list[dict[str, Any]]:
        try:
            body = await client.get_json("/markets", {"slug": slug, "include_tag": "true"}, family="gamma")
        except Exception as exc:  # the next pass asks again; a run of failures is logged once
            if not self.failures:
                log.warning("series market not read", extra={"slug": slug, "error": str(exc)[:300]})
            self.failures += 1
            return []
        if self.failures:
            log.info("series markets read again", extra={"after_failures": self.failures})
            self.failures = 0
        return [item for item in body if isinstance(item, dict)] if isinstance(body, list) else []


async def prices_to_beat(gamma_host: str, slugs: Iterable[str]) -> dict[str, float]:
    """Each window's price to beat as Gamma publishes it (its event's `eventMetadata.priceToBeat`,
    the Chainlink price at the window's start, in USD), for the windows it has published one of; a
    window Gamma does not list, or whose figure is not a positive number, is left out (asked again
    next pass), never guessed."""
    found: dict[str, float] = {}
    client = RestClient(gamma_host)
    try:
        for slug in slugs:
            try:
                body = await client.get_json("/events", {"slug": slug}, family="gamma")
            except Exception as exc:  # the next pass asks again
                log.info("price to beat not read", extra={"slug": slug, "error": str(exc)[:200]})
                continue
            price = _price_to_beat(body, slug)
            if price is not None:
                found[slug] = price
    finally:
        await client.close()
    return found


def _price_to_beat(body: Any, slug: str) -> float | None:
    events = [e for e in body if isinstance(e, dict) and e.get("slug") == slug] if isinstance(body, list) else []
    meta = events[0].get("eventMetadata") if len(events) == 1 else None
    return positive_price(meta.get("priceToBeat")) if isinstance(meta, dict) else None
