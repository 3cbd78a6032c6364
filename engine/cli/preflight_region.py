"""Preflight's region check: whether Polymarket takes orders from this server's address, and which of
its three kinds of restriction applies (contracts/geoblock.py): blocked outright, close-only on its
website and API, or close-only on its website only (the API open).

Polymarket refuses orders from some countries and regions whatever the keys; its `GET /api/geoblock`
(on polymarket.com, `GEOBLOCK_HOST`) says so for the caller. Asked first, so a blocked server is told
"region", never sent to clear its API credentials by the test orders' 403; once the test orders have
met the API (`settle_region`), what they met settles the tier (a test BUY taken from a place read as
restricted: the API is open there).
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from contracts.geoblock import CLOSE_ONLY_FIX, REGION_FIX, TIER_WORDS, Tier, confirmed_by_order, region_tier
from contracts.settings import Settings

TIMEOUT_S = 10.0


class Report(Protocol):
    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None: ...


async def check_region(report: Report, settings: Settings) -> None:
    url = f"{settings.geoblock_host}/api/geoblock"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
            answer = await client.get(url)
        payload = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        report.add("region", False, f"could not ask {url} whether this server may place orders: {exc}",
                   "check the network (and HTTPS_PROXY, if the desk goes out through one), then run preflight again")
        return
    read = region_tier(payload)
    if read is None:
        report.add("region", False, f"{url} answered HTTP {answer.status_code} with no region verdict: "
                                    f"{str(payload)[:200]}", "run preflight again later")
        return
    tier, where = read
    add_region(report, tier, where)


def add_region(report: Report, tier: Tier, where: str) -> None:
    said = "Polymarket " + TIER_WORDS[tier].format(where=where)
    if tier == "blocked":
        report.add("region", False, f"{said} (a region block, not a key problem)", REGION_FIX, tier=tier, where=where)
    elif tier == "close_only":
        report.add("region", False, f"{said} (a region block, not a key problem)", CLOSE_ONLY_FIX, tier=tier,
                   where=where)
    else:
        report.add("region", True, said, tier=tier, where=where)


def settle_region(checks: list[dict[str, Any]]) -> None:
    """What the test orders met settles the region's tier: a test BUY the API took from a place read as
    restricted shows the restriction is the website's only; one it refused as a region from a place read
    as open shows it is not open. The region check is rewritten in place."""
    region = next((c for c in checks if c.get("check") == "region" and "tier" in c), None)
    orders = [c for c in checks if str(c.get("check", "")).startswith("test order")]
    if region is None or not orders:
        return
    taken = any(c.get("ok") for c in orders)
    refused = any(not c.get("ok") and "region blocked" in str(c.get("detail", "")).lower() for c in orders)
    tier = confirmed_by_order(region["tier"], taken, refused)
    if tier == region["tier"]:
        return
    settled: list[dict[str, Any]] = []
    add_region(Collected(settled), tier, region.get("where", "this server's place"))
    settled[0]["detail"] += (" (the API took the test order)" if taken else " (the API refused the test order as a "
                             "region block)")
    region.clear()
    region.update(settled[0])


class Collected:
    """A report that keeps what is added (to rewrite a check in place)."""

    def __init__(self, into: list[dict[str, Any]]):
        self.into = into

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None:
        self.into.append({"check": name, "ok": ok, "detail": detail, **({"fix": fix} if fix else {}), **extra})
