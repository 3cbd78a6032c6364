"""Gamma discovery into a real SQLite file (migrated schema): pagination, upsert, the
tradable rule, money in micro-units, fee enrichment, and MarketInfo out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text

from engine.feeds.catalog import MarketCatalog
from engine.process.scheduler import build_scheduler
from engine.trading.passes.jobs import Job
from engine.venues.polymarket.discovery import enrich_fees, make_refresh_job, refresh_markets
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "http"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "t.db"
    migrate(path)
    database = Database(path)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=21, agents=False) as handle:
        yield handle


def catalog_of(db: Database) -> MarketCatalog:
    """MarketInfo out of the table, as the engine loads it."""
    catalog = MarketCatalog()
    catalog.load(db)
    return catalog


def rows(db: Database) -> list[dict[str, Any]]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM markets ORDER BY condition_id")).mappings()]


def test_refresh_from_the_simulator_pages_and_upserts(db: Database, sim: SimHandle) -> None:
    report = asyncio.run(refresh_markets(db, sim.gamma_host, page_size=3))
    markets = sim.markets()
    assert (report.pages, report.seen, report.upserted, report.tradable, report.skipped) == (5, 14, 14, 14, 0)
    stored = rows(db)
    assert len(stored) == len(markets) == 14
    by_id = {m["condition_id"]: m for m in markets}
    for row in stored:
        source = by_id[row["condition_id"]]
        assert (row["yes_token"], row["no_token"]) == (source["yes_token_id"], source["no_token_id"])
        version = "v2" if source["protocol_v2"] else "v1"  # the default serves one Protocol V2 market
        assert row["tick"] == round(float(source["tick_size"]) * 1e6) and row["gamma_version"] == version
        assert row["neg_risk"] == int(source["neg_risk"]) and row["tradable"] == 1
    first_seen = {r["condition_id"]: r["first_seen_at"] for r in stored}
    again = asyncio.run(refresh_markets(db, sim.gamma_host, page_size=100))
    assert again.pages == 1 and len(rows(db)) == 14
    assert {r["condition_id"]: r["first_seen_at"] for r in rows(db)} == first_seen
    catalog = catalog_of(db)
    some = markets[0]
    info = catalog.get(some["condition_id"])
    assert info is not None and len(catalog.all()) == 14
    assert (info.yes_token, info.no_token, info.neg_risk) == (some["yes_token_id"], some["no_token_id"],
                                                               some["neg_risk"])
    assert info.end_ms is not None and info.tradable and not info.closed
    assert catalog.by_token(some["yes_token_id"]) is info and catalog.by_token(some["no_token_id"]) is info
    assert [m["protocol_v2"] for m in markets].count(True) == 1
    assert {m.condition_id for m in catalog.all() if m.protocol_v2} == {
        m["condition_id"] for m in markets if m["protocol_v2"]}


class StubGamma:
    """Serves fixed Gamma items through the keyset listing (an opaque `after_cursor`) and
    `/clob-markets/{cid}`."""

    def __init__(self, items: list[dict[str, Any]], fees: dict[str, Any] | None = None) -> None:
        self.items = items
        self.fees = fees or {}
        self.queries: list[dict[str, str]] = []

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_get("/markets/keyset", self._markets)
        app.router.add_get("/clob-markets/{cid}", self._fees)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()

    async def _markets(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        offset, limit = int(request.query.get("after_cursor", "c0")[1:]), int(request.query["limit"])
        body: dict[str, Any] = {"markets": self.items[offset:offset + limit]}
        if offset + limit < len(self.items):
            body["next_cursor"] = f"c{offset + limit}"
        return web.json_response(body)

    async def _fees(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        if cid not in self.fees:
            return web.json_response({"error": "market not found"}, status=404)
        return web.json_response(self.fees[cid])


def gamma_items() -> list[dict[str, Any]]:
    base = json.loads((FIXTURES / "markets_list.json").read_text())  # real arrays, no version
    encoded = dict(json.loads((FIXTURES / "market_slug.json").read_text()))  # volume/liquidity strings
    encoded["clobTokenIds"] = json.dumps(encoded["clobTokenIds"])  # as the live API sends them
    encoded.update(outcomes='["Yes", "No"]', version="v1", orderPriceMinTickSize=0.001, orderMinSize=15,
                   negRisk=True, negRiskMarketID="0xgroup", endDate="2025-12-31T00:00:00Z", volume24hr=12.5)
    v2 = dict(base[0], conditionId="0xv2", version="v2", clobTokenIds=None, positionIds=["1", "2"])
    v2["clobTokenIds"] = ["11", "22"]
    three = dict(base[1], conditionId="0xthree", clobTokenIds=["1", "2", "3"], outcomes=["A", "B", "C"])
    bare = {"conditionId": "0xbare", "question": "no tokens yet"}
    return [*base, encoded, v2, three, bare]


def test_refresh_from_gamma_shapes_tradable_rule_and_money(db: Database) -> None:
    stub = StubGamma(gamma_items())

    async def scenario() -> Any:
        async with stub as host:
            return await refresh_markets(db, host, page_size=2)

    report = asyncio.run(scenario())
    assert (report.pages, report.seen, report.upserted, report.skipped) == (4, 7, 6, 1)
    assert [q.get("after_cursor") for q in stub.queries] == [None, "c2", "c4", "c6"]
    assert {(q["active"], q["closed"], q["limit"], q["include_tag"]) for q in stub.queries} == {
        ("true", "false", "2", "true")}
    by_id = {r["condition_id"]: r for r in rows(db)}
    slug = by_id["0x270d5aa3b23be0d4e713361d603b187dd1919c71c74226ad867699f33972c5f2"]
    assert (slug["volume"], slug["liquidity"], slug["volume_24h"]) == (101_887_832_649, 9_384_934_400, 12_500_000)
    assert (slug["tick"], slug["min_size"], slug["neg_risk"], slug["neg_risk_market_id"]) == (1_000, 15_000_000, 1,
                                                                                             "0xgroup")
    assert slug["end_at"] == 1767139200000 and slug["tradable"] == 1
    # A Protocol V2 market is listed and tradable, its position ids as its tokens (not clobTokenIds).
    assert by_id["0xv2"]["tradable"] == 1 and by_id["0xv2"]["gamma_version"] == "v2"
    assert (by_id["0xv2"]["yes_token"], by_id["0xv2"]["no_token"]) == ("1", "2")
    assert by_id["0xthree"]["tradable"] == 0 and by_id["0xthree"]["untradable_reason"] == "not a binary market"
    assert by_id["0xdef456"]["closed"] == 1 and by_id["0xdef456"]["tradable"] == 1
    infos = {m.condition_id: m for m in catalog_of(db).all()}
    assert infos["0xv2"].tradable and infos["0xv2"].protocol_v2 and infos["0xdef456"].closed
    assert not infos["0xabc123"].protocol_v2
    assert infos["0xabc123"].tradable and not infos["0xabc123"].closed
    assert set(infos) == set(by_id)


def test_fee_enrichment_from_clob_markets(db: Database) -> None:
    stub = StubGamma(gamma_items(), fees={"0xabc123": {"t": [{"t": "1", "o": "Yes"}], "mts": 0.001, "mos": 5,
                                                        "nr": True, "fd": {"r": 0.02, "e": 2, "to": True}}})

    async def scenario() -> int:
        async with stub as host:
            await refresh_markets(db, host)
            return await enrich_fees(db, host, ["0xabc123", "0xmissing"])

    assert asyncio.run(scenario()) == 1
    row = {r["condition_id"]: r for r in rows(db)}["0xabc123"]
    assert (row["fee_rate_ppm"], row["fee_exponent"], row["tick"], row["neg_risk"]) == (20_000, 2, 1_000, 1)
    info = catalog_of(db).get("0xabc123")
    assert info is not None
    assert (info.fee_rate_ppm, info.fee_exponent) == (20_000, 2)


def test_the_refresh_job_runs_under_the_engine_scheduler(db: Database, sim: SimHandle) -> None:
    job = make_refresh_job(db, sim.gamma_host, sim.clob_host, traded=lambda: [sim.markets()[0]["condition_id"]])

    async def scenario() -> None:
        scheduler = build_scheduler([Job("market_refresh", job, IntervalTrigger(seconds=3600))])
        scheduler.start(paused=True)
        try:
            assert scheduler.get_job("market_refresh") is not None
            report = await job()
            assert report.upserted == 14
        finally:
            scheduler.shutdown(wait=False)

    asyncio.run(scenario())
    assert len(rows(db)) == 14


def test_the_refresh_asks_polymarkets_fee_endpoint_only_about_polymarkets_markets(
        db: Database, sim: SimHandle, caplog: pytest.LogCaptureFixture) -> None:
    """A strategy trading a Kalshi market put its id among those whose fees every refresh read from the CLOB,
    which answered 404 each time (issue 87): a Kalshi market's fees are its series' schedule, never asked."""
    poly = sim.markets()[0]["condition_id"]
    job = make_refresh_job(db, sim.gamma_host, sim.clob_host, traded=lambda: [poly, "kalshi:KXSIMFED-26FEB-T25"])
    async def refreshes() -> None:
        await job()
        await job()  # every refresh

    with caplog.at_level("WARNING", logger="engine.feeds.discovery"):
        asyncio.run(refreshes())
    assert [r.getMessage() for r in caplog.records if "fee lookup failed" in r.getMessage()] == []
    with db.read() as conn:
        asked = conn.execute(text("SELECT fees_at FROM markets WHERE condition_id = :c"), {"c": poly}).scalar()
    assert asked is not None  # Polymarket's market is still read
    assert asyncio.run(enrich_fees(db, sim.clob_host, ["kalshi:KXSIMFED-26FEB-T25"])) == 0


def test_the_listing_s_prices_are_kept_with_the_time_they_were_read(db: Database, sim: SimHandle) -> None:
    """Every market listed gets the listing's YES best bid, best ask and last trade (a market the
    desk does not follow has no other price), stamped with when the refresh read them; the
    simulator's Gamma lists them as the venue does (captured/gamma_market.json)."""
    captured = json.loads((FIXTURES.parent / "captured" / "gamma_market.json").read_text())
    item = captured[0] if isinstance(captured, list) else captured
    empty_ask = dict(item, conditionId="0xnoask", bestAsk=1, bestBid="0", lastTradePrice=None)
    stub = StubGamma([item, empty_ask])

    async def scenario() -> None:
        async with stub as host:
            await refresh_markets(db, host)

    before = int(time.time() * 1000)
    asyncio.run(scenario())
    by_id = {r["condition_id"]: r for r in rows(db)}
    listed = by_id[item["conditionId"]]
    assert (listed["listed_bid"], listed["listed_ask"], listed["listed_last"]) == (500_000, 510_000, 510_000)
    assert listed["listed_at"] >= before
    assert (by_id["0xnoask"]["listed_bid"], by_id["0xnoask"]["listed_ask"], by_id["0xnoask"]["listed_last"]) == (
        None, None, None)  # an empty side is listed as 0 or 1: no price, not a price of 0 or 1
    asyncio.run(refresh_markets(db, sim.gamma_host))
    priced = [r for r in rows(db) if r["condition_id"] not in {item["conditionId"], "0xnoask"}]
    assert priced and all(0 < r["listed_bid"] < r["listed_ask"] < 1_000_000 for r in priced)


def test_rebate_shares_and_resolution_trails_are_read_from_the_listing(db: Database) -> None:
    """Each market's rebate share is the listing's (`feeSchedule.rebateRate`, by category: 15 % on a
    sports market here, 25 % another, none where no fee is charged), never assumed; and a disputed
    proposal voted down leaves the market trading with an empty status, its trail kept, which the
    catalog carries to the gate."""
    with running_simulator(seed=22, agents=False, resolution_delay_s=3600) as sim:
        listed = sim.markets()
        game = next(m for m in listed if m["sports"] and not m["neg_risk"] and m["fee_rate"] != "0")
        other = next(m for m in listed if not m["sports"] and m["fee_rate"] != "0")
        free = next(m for m in listed if m["fee_rate"] == "0")
        sim.resolve(game["condition_id"], "YES", keep_trading=True)
        sim.dispute(game["condition_id"])
        sim.reject_proposal(game["condition_id"])
        asyncio.run(refresh_markets(db, sim.gamma_host))
    catalog = catalog_of(db)
    assert catalog.get(game["condition_id"]).rebate_share_ppm == 150_000
    assert catalog.get(other["condition_id"]).rebate_share_ppm in (200_000, 250_000)
    assert catalog.get(free["condition_id"]).rebate_share_ppm is None
    reopened = catalog.get(game["condition_id"])
    assert (reopened.resolution_status, reopened.resolution_history) == ("", ("proposed", "disputed"))
    assert reopened.accepting_orders and reopened.resolution_pending
