"""A geoblock is told as a geoblock, and its three kinds apart: the simulator answers as Polymarket
documents it (GET /api/geoblock; 403 "Trading restricted in your region" on every order from a place
blocked outright, before authentication; BUYs only from a close-only one; nothing from one close-only
on the website only), `engine preflight` checks the region first and says which kind in words, its test
orders settle what it could not tell (a BUY the API takes: the website-only kind), and their 403 comes
out as a region block, never "authentication failed" nor the advice to clear the API credentials.
Kalshi's 403 naming a region is a region block too, and `kalshi-preflight` reports it as its failed
region check, not as the key's signature."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from eth_account import Account

from contracts.geoblock import (
    CLOSE_ONLY_FIX,
    REGION_FIX,
    TIER_WORDS,
    Tier,
    confirmed_by_order,
    region_answer,
    region_blocked,
    region_tier,
)
from contracts.settings import load_settings
from engine.venues.base import RegionBlocked
from engine.venues.kalshi import wire
from engine.venues.kalshi.http import KalshiAuthFailed, KalshiRegionBlocked, error_of
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.preflight import run_preflight
from engine.venues.polymarket.preflight_region import Collected, add_region
from simulator.testing import SimHandle, running_simulator
from storage.desk.arming import EngineReads, venue_gate
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.arming import ACCOUNT, HOST
from tests.helpers import isolated_env, run_cli
from tests.kalshi import keypair

pytestmark = pytest.mark.slow
# A CDN's country ban (Cloudflare's error 1009 page), as it may stand in front of a venue's API.
CDN_BAN = ("<html><title>Access denied | Error 1009</title><body>The owner of this website has banned the "
           "country or region your IP address is in (US) from accessing this website.</body></html>")


@pytest.fixture(scope="module")
def blocked_sim() -> Iterator[SimHandle]:
    with running_simulator(seed=31, agents=False, location="US/NY", pre_approved_wallets=True) as handle:
        yield handle


def test_the_simulator_answers_as_polymarket_documents(blocked_sim: SimHandle) -> None:
    base = f"http://127.0.0.1:{blocked_sim.port}"
    verdict = httpx.get(f"{base}/api/geoblock", timeout=10).json()
    assert verdict["blocked"] is True and (verdict["country"], verdict["region"]) == ("US", "NY")
    assert verdict["ip"] == "127.0.0.1" and region_answer(verdict) == (True, "US/NY (this server's address 127.0.0.1)")
    assert region_tier(verdict) == ("close_only", "US/NY (this server's address 127.0.0.1)")
    refused = httpx.post(f"{base}/order", json={"order": {"side": "BUY"}}, timeout=10)  # no credentials at all
    assert refused.status_code == 403 and "Trading restricted in your region" in refused.json()["error"]
    assert region_blocked(refused.status_code, refused.json()["error"])


@pytest.mark.parametrize(("where", "website_only", "side", "status"), [
    ("IR", "", "SELL", 403),  # blocked outright: closing refused too
    ("UA/43", "", "SELL", 403),  # Crimea
    ("PL", "", "BUY", 403), ("PL", "", "SELL", 401),  # close-only: only what opens a position is refused
    ("US/CA", "US", "BUY", 401),  # close-only on the website only: the API takes it
    ("IE/L", "", "BUY", 401),
])
def test_each_kind_of_restriction_refuses_what_it_says(where: str, website_only: str, side: str, status: int) -> None:
    with running_simulator(seed=32, agents=False, location=where, geoblock_website_only=website_only) as sim:
        answer = httpx.post(f"http://127.0.0.1:{sim.port}/order", json={"order": {"side": side}}, timeout=10)
        blocked = httpx.get(f"http://127.0.0.1:{sim.port}/api/geoblock", timeout=10).json()["blocked"]
    assert answer.status_code == status  # 401: past the region check, refused for its missing credentials
    assert blocked is (where != "IE/L")  # the website restricts all three kinds


def test_the_three_kinds_are_told_apart_from_the_answer_and_the_test_orders() -> None:
    def said(country: str, region: str = "", blocked: bool = True) -> object:
        return region_tier({"blocked": blocked, "ip": "203.0.113.4", "country": country, "region": region})

    assert said("IR")[0] == said("UA", "14")[0] == "blocked"  # type: ignore[index]  # an answer: a tuple
    assert said("US", "NY")[0] == said("CA", "ON")[0] == "close_only"  # type: ignore[index]  # (the same)
    assert said("IE", "L", blocked=False)[0] == "open"  # type: ignore[index]  # (the same)
    assert said("BR")[0] == "blocked"  # type: ignore[index]  # restricted, unknown here: the strictest
    assert confirmed_by_order("close_only", order_taken=True, order_refused_for_region=False) == "close_only_website"
    assert confirmed_by_order("blocked", order_taken=True, order_refused_for_region=False) == "close_only_website"
    assert confirmed_by_order("open", order_taken=False, order_refused_for_region=True) == "close_only"
    assert confirmed_by_order("close_only", order_taken=False, order_refused_for_region=True) == "close_only"


def test_preflight_says_region_not_credentials(tmp_path: Path, blocked_sim: SimHandle) -> None:
    key = "0x" + secrets.token_hex(32)
    funder = Account.create().address
    blocked_sim.link_funder(Account.from_key(key).address, funder, 3)
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(blocked_sim.port), POLY_PRIVATE_KEY=key,
                       POLY_SIGNATURE_TYPE="3", POLY_FUNDER=funder)
    migrate(Path(env["TRADER_DB"]))
    db = Database(Path(env["TRADER_DB"]))
    asyncio.run(refresh_markets(db, f"http://127.0.0.1:{blocked_sim.port}/gamma"))
    db.dispose()
    result = run_cli(["preflight", "--json"], env)
    assert result.returncode == 1, result.stdout + result.stderr
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["region"]["ok"] is False and checks["region"]["fix"] == CLOSE_ONLY_FIX
    assert checks["region"]["tier"] == "close_only"  # the test BUY was refused as a region: confirmed
    assert "takes only orders that close positions from US/NY" in checks["region"]["detail"]
    order = checks["test order (standard)"]
    assert not order["ok"] and "region blocked" in order["detail"] and order["fix"] == REGION_FIX
    said = result.stdout.lower()
    assert "authentication failed" not in said and "clear poly_api" not in said


def test_preflight_finds_the_api_open_where_the_website_alone_is_close_only(tmp_path: Path) -> None:
    """The desk reads a restricted place as close-only on the API too (the docs' groups were not
    readable); here the venue restricts it on its website only: the preflight's test BUY is taken, and
    the region check says the API is open (passing), not close-only."""
    key, funder = "0x" + secrets.token_hex(32), Account.create().address
    with running_simulator(seed=34, agents=False, location="US/NY", geoblock_website_only="US",
                           pre_approved_wallets=True) as sim:
        sim.link_funder(Account.from_key(key).address, funder, 3)
        env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="3",
                           POLY_FUNDER=funder)
        settings = load_settings(env=env, root=tmp_path)
        migrate(Path(env["TRADER_DB"]))
        db = Database(Path(env["TRADER_DB"]))
        asyncio.run(refresh_markets(db, settings.gamma_host))
        report = asyncio.run(run_preflight(settings, db))
        db.dispose()
    checks = {c["check"]: c for c in report.checks}
    assert checks["test order (standard)"]["ok"], checks["test order (standard)"]
    region = checks["region"]
    assert (region["ok"], region["tier"]) == (True, "close_only_website")
    where = "US/NY (this server's address 127.0.0.1)"
    assert f"close-only on its website for {where}, but its API takes orders" in region["detail"]
    assert region["detail"].endswith("(the API took the test order)")


def test_kalshi_403_naming_a_region_is_a_region_block() -> None:
    blocked = error_of(403, b'{"error": {"code": "forbidden", "message": "trading is not available in your region"}}')
    assert isinstance(blocked, KalshiRegionBlocked) and not isinstance(blocked, KalshiAuthFailed)
    assert isinstance(wire.venue_error(blocked), RegionBlocked)
    cdn = error_of(403, CDN_BAN.encode())  # an HTML page, no envelope: read all the same
    assert isinstance(cdn, KalshiRegionBlocked)
    scope = error_of(403, b'{"error": {"code": "forbidden", "message": "this key may only read"}}')
    assert isinstance(scope, KalshiAuthFailed) and not isinstance(wire.venue_error(scope), RegionBlocked)


@pytest.fixture
def banned_host() -> Iterator[str]:
    """A host standing where Kalshi's would, answering every request as a CDN's country ban does."""

    class Banned(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = CDN_BAN.encode()
            self.send_response(403)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Banned)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/trade-api/v2"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_kalshi_preflight_says_region_not_credentials(tmp_path: Path, banned_host: str) -> None:
    private_pem, _ = keypair()
    env = isolated_env(tmp_path, KALSHI_HOST=banned_host)
    Path(env["TRADER_ENV_FILE"]).write_text("KALSHI_API_KEY_ID=some-key\nKALSHI_PRIVATE_KEY="
                                            + private_pem.strip().replace("\n", "\\n") + "\n")
    os.chmod(env["TRADER_ENV_FILE"], 0o600)
    result = run_cli(["kalshi-preflight", "--json"], env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["region"]["ok"] is False and checks["region"]["fix"] == REGION_FIX
    assert "signature" not in checks  # the key was never the problem
    assert "check kalshi_api_key_id" not in result.stdout.lower()


@pytest.mark.parametrize(("tier", "ok", "fix"), [("blocked", False, REGION_FIX), ("close_only", False, CLOSE_ONLY_FIX),
                                                 ("close_only_website", True, "")])
def test_the_arming_checklist_tells_the_three_kinds_apart(tmp_path: Path, tier: Tier, ok: bool, fix: str) -> None:
    """The dashboard's arming checklist reads the preflight's region check as it wrote it: its words for
    each kind of restriction, and the fix of that kind (a close-only place's is not a blocked one's)."""
    path = tmp_path / "desk.db"
    migrate(path)
    region: list[dict[str, object]] = []
    add_region(Collected(region), tier, "XX (this server's address 203.0.113.4)")
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO preflight_runs (venue, host, account, ok, checks, at, actor) VALUES "
                     "('polymarket', ?, ?, ?, ?, ?, 'test')", (HOST, ACCOUNT, int(ok), json.dumps(region), now_ms()))
        conn.row_factory = sqlite3.Row
        reads = EngineReads(up=True, state="STOPPED", account=ACCOUNT, host=HOST)
        gate = venue_gate(conn, "polymarket", reads, now_ms())
    [line] = [c for c in gate.checks if c.name == "region"]
    assert line.ok is ok and line.detail.startswith("Polymarket " + TIER_WORDS[tier].format(where="XX")[:20])
    if not ok:
        assert line.fix == fix
