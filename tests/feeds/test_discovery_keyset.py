"""Discovery the venue's way (issue 33): the keyset listing past the offset listing's 2,000 cap,
tags asked for, events read and stored, markets that leave a complete listing closed, a page
error that changes nothing, and neg-risk sets judged complete only from their event. Against
the simulator (a real server on 127.0.0.1) and, for sizes the simulator's seed data does not
reach, a local keyset server of generated items."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from sqlalchemy import text

from engine.feeds.catalog import MarketCatalog
from engine.venues.polymarket.discovery import DiscoveryError, refresh_markets
from simulator.markets import servable_markets
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    migrate(tmp_path / "t.db")
    database = Database(tmp_path / "t.db")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=33, agents=False, markets=14) as handle:  # both neg-risk groups
        yield handle


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_the_simulator_refuses_deep_offsets_and_pages_by_keyset_as_the_venue_does(sim: SimHandle) -> None:
    deep = httpx.get(sim.gamma_host + "/markets", params={"offset": 2100, "limit": 100})
    assert deep.status_code == 422 and deep.json() == {
        "type": "validation error", "error": "offset too large, use /markets/keyset for deeper pagination"}
    assert httpx.get(sim.gamma_host + "/markets/keyset", params={"limit": 101}).status_code == 422
    assert httpx.get(sim.gamma_host + "/markets/keyset", params={"offset": 0}).status_code == 422
    assert httpx.get(sim.gamma_host + "/markets/keyset", params={"after_cursor": "bogus"}).status_code == 422
    seen, cursor, pages = [], None, 0
    while True:
        page = httpx.get(sim.gamma_host + "/markets/keyset",
                         params={"limit": 5, **({"after_cursor": cursor} if cursor else {})}).json()
        pages += 1
        seen += [m["conditionId"] for m in page["markets"]]
        assert all("tags" not in m for m in page["markets"])  # not asked for: not sent
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 14
    tagged = httpx.get(sim.gamma_host + "/markets/keyset", params={"limit": 1, "include_tag": "true"}).json()
    assert "tags" in tagged["markets"][0]


def test_discovery_stores_every_market_its_tags_and_its_events_and_judges_the_neg_risk_sets(
        db: Database, sim: SimHandle) -> None:
    report = asyncio.run(refresh_markets(db, sim.gamma_host, page_size=4))
    assert (report.pages, report.upserted, report.events) == (4, 14, 2)
    assert _rows(db, "SELECT COUNT(*) FROM markets WHERE tags != '[]'")[0][0] > 0
    events = dict(_rows(db, "SELECT title, augmented FROM market_events"))
    assert events == {"2022 World Cup Winner": 0, "Fed decision in February 2023": 1}
    roles = _rows(db, "SELECT e.title, m.role, COUNT(*) FROM event_members m JOIN market_events e ON e.id = m.event_id "
                      "GROUP BY e.title, m.role ORDER BY e.title, m.role")
    assert roles == [("2022 World Cup Winner", "named", 4), ("Fed decision in February 2023", "named", 3),
                     ("Fed decision in February 2023", "other", 1), ("Fed decision in February 2023", "placeholder", 1)]
    catalog = MarketCatalog()
    catalog.load(db)
    verdicts = {m.neg_risk_set_refusal for m in catalog.all() if m.neg_risk}
    assert "" in verdicts  # the World Cup's four outcomes: the event's whole set
    augmented = [v for v in verdicts if v]
    assert len(augmented) == 1 and "augmented (1 Other market, 1 placeholder named later)" in augmented[0]


class KeysetGamma:
    """A local Gamma serving generated markets through the keyset listing; a page can be made to
    fail or to be malformed."""

    def __init__(self, count: int) -> None:
        self.items = [_item(i) for i in range(count)]
        self.broken_page: int | None = None
        self.requests = 0

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_get("/markets/keyset", self._page)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    async def _page(self, request: web.Request) -> web.Response:
        self.requests += 1
        if "offset" in request.query or int(request.query["limit"]) > 100:
            return web.json_response({"type": "validation error", "error": "bad paging"}, status=422)
        start = int(request.query.get("after_cursor", "k0")[1:])
        if self.broken_page is not None and start // 100 == self.broken_page:
            return web.json_response([{"not": "a keyset page"}])
        body: dict[str, Any] = {"markets": self.items[start:start + 100]}
        if start + 100 < len(self.items):
            body["next_cursor"] = f"k{start + 100}"
        return web.json_response(body)


def _item(i: int) -> dict[str, Any]:
    return {"id": str(i), "conditionId": f"0x{i:064x}", "question": f"Generated market {i}?",
            "clobTokenIds": json.dumps([str(10**9 + 2 * i), str(10**9 + 2 * i + 1)]), "outcomes": '["Yes", "No"]',
            "active": True, "closed": False, "acceptingOrders": True, "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5, "tags": [{"label": "Generated"}]}


def test_past_the_offset_cap_every_market_is_found_and_a_market_that_left_the_listing_is_closed(
        db: Database) -> None:
    gamma = KeysetGamma(2_450)

    async def scenario() -> Any:
        async with gamma as host:
            first = await refresh_markets(db, host)
            gamma.items = gamma.items[:-50]  # fifty markets closed at the venue: no longer listed
            second = await refresh_markets(db, host)
            return first, second

    first, second = asyncio.run(scenario())
    assert (first.pages, first.upserted, first.closed) == (25, 2_450, 0)
    assert (second.upserted, second.closed) == (2_400, 50)
    assert _rows(db, "SELECT COUNT(*) FROM markets WHERE closed = 1 AND accepting_orders = 0") == [(50,)]
    assert _rows(db, "SELECT COUNT(*) FROM markets WHERE tags = '[\"Generated\"]'") == [(2_450,)]


def test_a_malformed_page_raises_and_closes_nothing(db: Database) -> None:
    gamma = KeysetGamma(450)

    async def scenario() -> None:
        async with gamma as host:
            await refresh_markets(db, host)
            gamma.items = gamma.items[:-100]
            gamma.broken_page = 2
            with pytest.raises(DiscoveryError, match="page 3 of Gamma /markets/keyset is not a keyset page"):
                await refresh_markets(db, host)

    asyncio.run(scenario())
    assert _rows(db, "SELECT COUNT(*) FROM markets WHERE closed = 1") == [(0,)]  # a partial listing closes nothing
    assert _rows(db, "SELECT COUNT(*) FROM markets") == [(450,)]


@pytest.mark.slow
def test_the_simulator_serves_thousands_of_markets_and_discovery_finds_them_all(db: Database) -> None:
    """Past the offset listing's cap (2,100): 2,500 markets, 25 keyset pages (enough to show the
    listing does not stop at the cap; the venue's scale adds only time); the generated ones beyond
    the seed data are quiet but listed like any other."""
    with running_simulator(seed=35, agents=False, markets=2_500) as big:
        deep = httpx.get(big.gamma_host + "/markets", params={"offset": 2100, "limit": 100})
        assert deep.status_code == 422
        report = asyncio.run(refresh_markets(db, big.gamma_host))
    assert (report.pages, report.upserted) == (25, 2_500)
    assert _rows(db, "SELECT COUNT(DISTINCT condition_id) FROM markets") == [(2_500,)]
    assert _rows(db, "SELECT COUNT(*) FROM markets WHERE tags = '[\"simulated\"]' AND tradable = 1") == [
        (2_500 - servable_markets(),)]
