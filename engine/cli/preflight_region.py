"""Preflight's region check: whether Polymarket takes orders from this server's address at all.

Polymarket refuses orders from some countries and regions whatever the keys (contracts/geoblock.py);
its `GET /api/geoblock` (on polymarket.com, `GEOBLOCK_HOST`) says so for the caller. Asked first, so a
blocked server is told "region", never sent to clear its API credentials by the test orders' 403.
"""

from __future__ import annotations

from typing import Protocol

import httpx

from contracts.geoblock import REGION_FIX, region_answer
from contracts.settings import Settings

TIMEOUT_S = 10.0


class Report(Protocol):
    def add(self, name: str, ok: bool, detail: str, fix: str | None = None) -> None: ...


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
    read = region_answer(payload)
    if read is None:
        report.add("region", False, f"{url} answered HTTP {answer.status_code} with no region verdict: "
                                    f"{str(payload)[:200]}", "run preflight again later")
        return
    blocked, where = read
    if blocked:
        report.add("region", False, f"Polymarket refuses orders from {where}: a region block, not a key problem",
                   REGION_FIX)
    else:
        report.add("region", True, f"Polymarket takes orders from {where}")
