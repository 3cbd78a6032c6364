"""Market discovery: Gamma `/markets/keyset` into the `markets` table and the neg-risk markets'
events from `/events/{id}` (engine.feeds.catalog.MarketCatalog loads them).

Gamma's offset-paged `/markets` is deprecated and answers 422 past offset ~2000, so the listing
pages `/markets/keyset` by `after_cursor` (at most 100 a page, `next_cursor` absent on the last
one), with `include_tag=true` (items carry no tags otherwise). Each page is upserted in one
short write transaction (storage/engine_stores/catalog_store.py; run in a thread, never across an await).
Only a complete listing closes the stored markets it no longer has; a page that fails or is
malformed raises DiscoveryError and the stored catalog stays as it was. Every market
is stored, tradable or not; an untradable one carries its reason (e.g. a Gamma `version` other
than "v1" or "v2", which this adapter cannot sign for). A market without a `version` predates
Protocol V2 and is treated as "v1"; a "v2" one is stored with its position ids as its tokens.
Fee parameters come from the CLOB's `/clob-markets/{cid}` for the markets being traded
(`enrich_fees`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from contracts.venue_policies import policy_for_market
from engine.venues.polymarket.parse_markets import (
    EventRefused,
    GammaMarket,
    clob_market_fees,
    gamma_event,
    gamma_market,
)
from engine.venues.polymarket.rest import RestClient
from storage.engine_stores import catalog_store
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.feeds.discovery")
PAGE_SIZE = 100  # the venue's most per keyset page
MAX_PAGES = 500  # 50k markets: a guard against a server that never ends the list


class DiscoveryError(Exception):
    """The venue's listing could not be read whole; the message says which page and why."""


@dataclass(frozen=True)
class RefreshReport:
    pages: int
    seen: int  # Gamma items read
    upserted: int  # rows written
    tradable: int
    untradable: int
    skipped: int  # items without a condition id or token ids
    duration_ms: int
    closed: int = 0  # stored markets the complete listing no longer has, now closed
    events: int = 0  # neg-risk events read from /events


def market_row(market: GammaMarket, now: int) -> dict[str, Any]:
    reason = market.untradable_reason
    return {
        "condition_id": market.condition_id, "gamma_id": market.gamma_id, "question": market.question,
        "slug": market.slug, "yes_token": market.token_ids[0], "no_token": market.token_ids[1],
        "outcomes": json.dumps(list(market.outcomes)), "tick": market.tick, "min_size": market.min_size,
        "neg_risk": int(market.neg_risk), "neg_risk_market_id": market.neg_risk_market_id,
        "end_at": market.end_ms, "active": int(market.active), "closed": int(market.closed),
        "accepting_orders": int(market.accepting_orders), "volume": market.volume,
        "volume_24h": market.volume_24h, "liquidity": market.liquidity, "tags": json.dumps(list(market.tags)),
        "gamma_version": market.version, "tradable": int(reason is None), "untradable_reason": reason,
        "event_id": market.event_id, "game_start_at": market.game_start_ms,
        "clear_book_on_start": int(market.clear_book_on_start), "resolution_status": market.resolution_status,
        "resolution_history": json.dumps(list(market.resolution_history)), "rebate_ppm": market.rebate_ppm,
        "listed_bid": market.listed_bid, "listed_ask": market.listed_ask, "listed_last": market.listed_last,
        "now": now,
    }


async def refresh_markets(db: Database, gamma_host: str, *, page_size: int = PAGE_SIZE,
                          max_pages: int = MAX_PAGES, filters: dict[str, Any] | None = None,
                          rest: RestClient | None = None) -> RefreshReport:
    """Read every active, open market from Gamma's keyset listing and upsert it, one transaction
    per page; then the neg-risk markets' events; then, the listing being complete, close what it
    no longer has. Raises DiscoveryError on a page that fails or is not a keyset page."""
    started = time.monotonic()
    client = rest or RestClient(gamma_host)
    query = {"active": "true", "closed": "false", "include_tag": "true", **(filters or {})}
    pages = seen = upserted = tradable = skipped = closed = 0
    listed: set[str] = set()
    event_ids: set[str] = set()
    cursor: str | None = None
    try:
        for page in range(max_pages):
            params = {**query, "limit": min(page_size, PAGE_SIZE), **({"after_cursor": cursor} if cursor else {})}
            items, cursor = _keyset_page(await _get(client, "/markets/keyset", params, page + 1), page + 1)
            pages += 1
            seen += len(items)
            parsed = [parsed_market(item) for item in items]
            markets = [m for m in parsed if m is not None and len(m.token_ids) >= 2]
            skipped += len(items) - len(markets)
            now = now_ms()
            await asyncio.to_thread(catalog_store.upsert_markets, db, [market_row(m, now) for m in markets])
            upserted += len(markets)
            tradable += sum(1 for m in markets if m.untradable_reason is None)
            listed.update(m.condition_id for m in markets)
            event_ids.update(m.event_id for m in markets if m.neg_risk and m.event_id)
            if not cursor:
                break
        else:
            raise DiscoveryError(f"the listing did not end within {max_pages} pages: nothing was closed")
        events = await _read_events(client, db, sorted(event_ids))
        if not filters:  # only the whole listing says what is no longer open
            closed = len(await asyncio.to_thread(catalog_store.close_unlisted, db, listed, now_ms()))
    finally:
        if rest is None:
            await client.close()
    report = RefreshReport(pages, seen, upserted, tradable, upserted - tradable, skipped,
                           int((time.monotonic() - started) * 1000), closed, events)
    log.info("markets refreshed", extra={"report": report.__dict__})
    return report


async def _get(client: RestClient, path: str, params: dict[str, Any] | None, page: int) -> Any:
    try:
        return await client.get_json(path, params, family="gamma")
    except Exception as exc:  # the page's own words: a 422, a 5xx after retries, a timeout
        raise DiscoveryError(f"page {page} of Gamma {path} failed: {str(exc)[:300]}") from None


def _keyset_page(body: Any, page: int) -> tuple[list[dict[str, Any]], str | None]:
    """The items and the next cursor of one keyset page (None on the last)."""
    if not isinstance(body, dict) or not isinstance(body.get("markets"), list):
        raise DiscoveryError(f"page {page} of Gamma /markets/keyset is not a keyset page "
                             "(an object with a 'markets' list): nothing more was read")
    cursor = body.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise DiscoveryError(f"page {page} of Gamma /markets/keyset has a next_cursor that is not text")
    return [item for item in body["markets"] if isinstance(item, dict)], (cursor or None)


def parsed_market(item: dict[str, Any]) -> GammaMarket | None:
    try:
        return gamma_market(item)
    except (ValueError, TypeError, KeyError):  # one unreadable item is skipped (counted), not the page
        return None


async def _read_events(client: RestClient, db: Database, event_ids: list[str]) -> int:
    """Each neg-risk market's event from `/events/{id}`: its whole outcome set and whether it is
    augmented. An event that cannot be read is logged and left as stored (its sets stay untraded
    until it reads)."""
    read = 0
    for event_id in event_ids:
        try:
            event = gamma_event(await _get(client, f"/events/{event_id}", None, 1))
        except (DiscoveryError, EventRefused) as exc:
            log.warning("event not read", extra={"event_id": event_id, "error": str(exc)})
            continue
        await asyncio.to_thread(catalog_store.store_event, db, event.event_id, event.title, event.neg_risk_market_id,
                                event.augmented, event.members, now_ms())
        read += 1
    return read


async def enrich_fees(db: Database, clob_host: str, condition_ids: Iterable[str], *,
                      rest: RestClient | None = None) -> int:
    """Fee rate/exponent (and the CLOB's current tick, min size, neg-risk) for the given
    markets from `/clob-markets/{cid}`; returns how many rows were updated. Only a venue whose fee rates are
    asked per market is asked (`fee_rates_asked`: Polymarket's): a Kalshi market a strategy trades is known
    from its series' schedule, and the CLOB would answer 404 for it at every refresh."""
    asked = [cid for cid in dict.fromkeys(condition_ids) if policy_for_market(cid).fee_rates_asked]
    if not asked:
        return 0
    client = rest or RestClient(clob_host)
    updates = []
    try:
        for cid in asked:
            try:
                fees = clob_market_fees(await client.get_json(f"/clob-markets/{cid}"))
            except Exception as exc:  # one market's failure must not block the others
                log.warning("fee lookup failed", extra={"condition_id": cid, "error": str(exc)})
                continue
            updates.append({"condition_id": cid, "fee_rate_ppm": fees.fee_rate_ppm,
                            "fee_exponent": fees.fee_exponent, "tick": fees.tick, "min_size": fees.min_size,
                            "neg_risk": int(fees.neg_risk), "now": now_ms()})
    finally:
        if rest is None:
            await client.close()
    if updates:
        await asyncio.to_thread(catalog_store.set_market_fees, db, updates)
    return len(updates)


def make_refresh_job(db: Database, gamma_host: str, clob_host: str, *,
                     traded: Callable[[], Iterable[str]] | None = None,
                     page_size: int = PAGE_SIZE) -> Callable[[], Awaitable[RefreshReport]]:
    """An `async def` for the engine's AsyncIOScheduler: refresh discovery, then the fee
    parameters of the markets `traded()` names (e.g. the enabled strategies' markets)."""

    async def refresh_market_job() -> RefreshReport:
        report = await refresh_markets(db, gamma_host, page_size=page_size)
        if traded is not None:
            await enrich_fees(db, clob_host, list(traded()))
        return report

    return refresh_market_job
