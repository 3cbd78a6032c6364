"""`python -m engine kalshi-preflight`: prove, before trading Kalshi, that its account can trade.

`run_kalshi_preflight(settings)` (or `checks(settings)` outside an event loop) runs the checks in
order and returns them as data (each a `Check`: its name,
whether it passed, what was found, and the fix when it failed), never raising: whatever goes wrong,
Kalshi down, a refused key, an answer the desk cannot read, becomes a failed check with its fix. The
command prints them (or their JSON); the dashboard's arming checklist calls the same function.

The checks: where the desk would trade (prod, the demo rehearsal, or the simulator) and how the key is
kept; the region (a 403 naming this server's region is a geoblock, told with its own fix, never as
the key: contracts/geoblock.py); a signed read (the key id and its RSA key belong together, the clock is
right); the key as Kalshi describes it (`GET /api_keys`: a scope that trades, a subaccount restriction,
which the desk then trades, and the account's location attestation: within two weeks of lapsing it
passes with a warning the command also raises as an alert; lapsed or never made, Kalshi refuses the key's
orders in Sports, Elections and Entertainment markets (changelog 2026-08-16), so it fails only when one of
the desk's paired markets is of those categories, and passes saying so otherwise); Kalshi's exchange
(trading paused now, and the next scheduled pause); the balance, every shard's (money is kept per
exchange shard, each market's orders funded by its own); the account's rate-limit tier
against the order rate the desk's limits allow (`max_order_rate`: each order and its cancel billed as
Kalshi bills them); and one harmless order, a post-only bid for one YES contract at $0.01 in an open
market where nobody asks $0.01, on a shard that holds the money for it, routed to that shard, placed and
cancelled (the key has the write scope, the account can place, not only read).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.geoblock import REGION_FIX
from contracts.settings import Settings
from contracts.venues.kalshi.keys import RENEW, RESTRICTED, KeyVerdict, restricted

SIGNATURE_FIX = ("Kalshi refused the signature: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY must be the id and the "
                 "private key of one key from Kalshi's API keys page (demo keys work only with "
                 "KALSHI_ENVIRONMENT=demo), and the clock must be right (NTP)")
REACH_FIX = ("check the network and KALSHI_HOST (default Kalshi's dedicated host for KALSHI_ENVIRONMENT); "
             "Kalshi's status page says whether it is down")
FUND_FIX = "fund the Kalshi account (its balance is 0): nothing can be bought"
SCOPE_FIX = ("the key cannot place orders: on Kalshi's API keys page create a key with the write scope (or "
             "write::trade), then set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY to it")
TIER_FIX = ("lower the desk's max_order_rate on the Settings page, or raise the account's tier (Advanced: "
            "POST /account/api_usage_level/upgrade, or Kalshi's higher tiers by volume)")
ORDER_TOKENS = 10 + 2  # an order (10 tokens) and its cancel (a V2 cancel, 2): Kalshi's Rate Limits page


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass
class KalshiReport:
    host: str
    environment: str
    checks: list[Check] = field(default_factory=list)
    key: KeyVerdict | None = None  # the key as Kalshi described it (None: not read)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None) -> None:
        self.checks.append(Check(name, ok, detail, None if ok else fix))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "host": self.host, "environment": self.environment,
                "checks": [asdict(c) for c in self.checks]}


def checks(settings: Settings) -> list[Check]:
    """The checks, run now (for a caller outside an event loop: the dashboard's checklist)."""
    import asyncio

    return asyncio.run(run_kalshi_preflight(settings)).checks


def describe(report: KalshiReport) -> str:
    lines = [f"Kalshi preflight ({report.environment}, {report.host}): {'OK' if report.ok else 'FAILED'}"]
    for check in report.checks:
        lines.append(f"  [{'ok' if check.ok else 'FAIL'}] {check.name}: {check.detail}")
        if check.fix:
            lines.append(f"         fix: {check.fix}")
    return "\n".join(lines)


async def run_kalshi_preflight(settings: Settings) -> KalshiReport:
    """Every check, as data; never raises (a failure is a check with its fix)."""
    kalshi = settings.kalshi
    report = KalshiReport(kalshi.host if kalshi else "?", kalshi.environment if kalshi else "?")
    if kalshi is None or not kalshi.configured:
        report.add("key", False, "no Kalshi key is configured",
                   "put KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY in .env, then seal them: python -m engine "
                   "keystore seal")
        return report
    sealed = "KALSHI_PRIVATE_KEY" in settings.sealed_names
    report.add("key", True, "sealed with the other secrets (unlocked for this check)" if sealed else
               "KALSHI_PRIVATE_KEY is in plain text in .env (works; seal it: python -m engine keystore seal)")
    from engine.venues.kalshi.client import KalshiClient

    assert kalshi.private_key is not None
    client = KalshiClient.at(kalshi.host, kalshi.api_key_id, kalshi.private_key.reveal())
    try:
        await _account_checks(report, client, settings)
    except Exception as exc:  # whatever it is, it is a check that failed, said in words
        report.add("unexpected", False, f"{type(exc).__name__}: {exc}"[:300],
                   "run it again; if it repeats, the detail says what Kalshi answered")
    finally:
        await client.close()
    return report


async def _account_checks(report: KalshiReport, client: Any, settings: Settings) -> None:
    from engine.venues.kalshi.fixed import KalshiShapeError
    from engine.venues.kalshi.http import KalshiAuthFailed, KalshiError, KalshiRegionBlocked

    try:
        balance = await client.balance()
    except KalshiRegionBlocked as exc:  # a geoblock's 403 is not the key (contracts/geoblock.py)
        report.add("region", False, f"Kalshi refuses this server's region: {exc}", REGION_FIX)
        return
    except KalshiAuthFailed as exc:
        report.add("signature", False, str(exc), SIGNATURE_FIX)
        return
    except (KalshiError, KalshiShapeError) as exc:
        report.add("signature", False, f"no signed read was answered: {exc}", REACH_FIX)
        return
    report.add("region", True, "Kalshi answered a signed read from this server (Kalshi publishes no region "
                               "check; a region it refuses answers 403 naming it)")
    report.add("signature", True, "a signed read was answered")
    await _key(report, client, settings)
    paused = await _exchange(report, client)
    shards = "; ".join(f"shard {s} ${b / 1e6:,.4f}" for s, b in sorted(balance.breakdown.items()))
    report.add("balance", balance.balance > 0, f"${balance.balance / 1e6:,.4f}" + (f" ({shards})" if shards else ""),
               FUND_FIX)
    await _tier(report, client, settings)
    if balance.balance > 0 and not paused:
        await _test_order(report, client, balance.breakdown or {0: balance.balance})


async def _key(report: KalshiReport, client: Any, settings: Settings) -> None:
    """The key's scopes and subaccount, and the account's location attestation, as Kalshi says them."""
    from engine.venues.kalshi.fixed import KalshiShapeError
    from engine.venues.kalshi.http import KalshiError
    from engine.venues.kalshi.key_watch import verdict_of

    now = int(time.time() * 1000)
    try:
        verdict = verdict_of(client.http.signer.key_id, await client.api_keys(), now)
    except (KalshiError, KalshiShapeError) as exc:
        report.add("key scope", False, f"Kalshi's API keys could not be read: {exc}", REACH_FIX)
        return
    report.key = verdict
    if not verdict.listed:
        report.add("key scope", False, "the key is not among the account's API keys Kalshi lists", SIGNATURE_FIX)
        return
    scope = "may trade" if verdict.trades else "cannot trade (no write or write::trade scope)"
    where = "the primary account" if verdict.subaccount is None else \
        f"subaccount {verdict.subaccount} only (a subaccount-restricted key: the desk's balance, orders and " \
        "positions are that subaccount's)"
    if not verdict.trades:
        report.add("key scope", False, f"the key {scope}", SCOPE_FIX)
        return
    report.add("key scope", True, f"the key {scope}, on {where}")
    said = verdict.words(now) + ("; renew it now" if verdict.attestation == "expiring" else "")
    if not verdict.barred:
        report.add("location attestation", True, said, RENEW)
        return
    barred = await _barred_pairs(client, settings)
    said += (f": Kalshi refuses the key's orders in {', '.join(RESTRICTED)} markets (its changelog of 2026-08-16), "
             "and other markets trade on")
    report.add("location attestation", not barred,
               said + (f"; the desk's paired {', '.join(barred)} would be refused" if barred else
                       "; none of the desk's paired markets is of those categories"), RENEW)


async def _barred_pairs(client: Any, settings: Settings) -> list[str]:
    """The desk's paired Kalshi markets whose series is of a category a lapsed attestation bars, each with it."""
    out = []
    for ticker in _paired_tickers(settings):
        market = await client.market(ticker)
        series = await client.series((await client.event(market.event_ticker)).series_ticker)
        if found := restricted(series.categories):
            out.append(f"{ticker} ({', '.join(found)})")
    return out


def _paired_tickers(settings: Settings) -> list[str]:
    from storage.desk.venue_pairs import list_pairs
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    if not is_migrated(settings.db_path):
        return []
    db = Database(settings.db_path)
    try:
        return sorted({p.kalshi_ticker for p in list_pairs(db)})
    finally:
        db.dispose()


async def _exchange(report: KalshiReport, client: Any) -> bool:
    """Whether trading is paused now (a failed check), and the next scheduled pause; True: paused."""
    status = await client.exchange_status()
    windows = await client.maintenance_windows()
    now = time.time() * 1000
    upcoming = [w for w in windows if w[1] > now]
    said = f"; next scheduled pause {_when(upcoming[0][0])} to {_when(upcoming[0][1])}" if upcoming else ""
    if status.trading_active:
        report.add("exchange", True, f"trading is open{said}")
        return False
    resume = f" until about {_when(status.resume_ms)}" if status.resume_ms else ""
    kind = "the exchange is paused (cancels refused too)" if not status.exchange_active else "trading is paused"
    report.add("exchange", False, f"{kind}{resume}{said}",
               "wait for Kalshi to resume (Thursdays 03:00-05:00 US Eastern is its weekly maintenance), then run "
               "the preflight again: no order can be placed until then")
    return True


async def _tier(report: KalshiReport, client: Any, settings: Settings) -> None:
    """The account's write budget against the orders a minute the desk's limits allow."""
    limits = await client.pace_by_account()
    rate = _max_order_rate(settings)
    refill = limits.write[0]
    needed = rate * ORDER_TOKENS / 60
    detail = (f"{limits.tier} tier: {refill} write tokens a second, {refill / ORDER_TOKENS:.1f} orders and their "
              f"cancels a second; the desk's max_order_rate allows {rate} a minute ({needed:.1f} tokens a second)")
    report.add("rate limits", needed <= refill, detail, TIER_FIX)


def _max_order_rate(settings: Settings) -> int:
    from contracts.limits import defaults
    from storage.engine_stores.config_reads import load_limits
    from storage.sqlite.db import Database
    from storage.sqlite.migrations import is_migrated

    try:
        if not is_migrated(settings.db_path):
            raise FileNotFoundError(settings.db_path)
        db = Database(settings.db_path)
        with db.read() as conn:
            limits, _, _ = load_limits(conn, {})
        return limits.count("max_order_rate")
    except Exception:  # no database yet: the default the desk starts with
        return defaults().count("max_order_rate")


async def _test_order(report: KalshiReport, client: Any, free: dict[int, int]) -> None:
    from engine.venues.kalshi.http import KalshiAuthFailed, KalshiError, KalshiRegionBlocked

    ticker, shard = None, 0
    async for page in client.markets(status="open", max_pages=5):
        found = next((m for m in page if m.yes_ask > 10_000 and m.status == "active"
                      and free.get(m.exchange_index, 0) >= 20_000), None)  # its shard can hold the bid
        if found is not None:
            ticker, shard = found.ticker, found.exchange_index
            break
    if ticker is None:
        report.add("test order", False, "no open market where a $0.01 bid would rest",
                   "run it again later (every open market had someone asking $0.01)")
        return
    client_id = f"preflight-{uuid.uuid4().hex[:12]}"
    try:
        placed = await client.create_order(ticker=ticker, client_order_id=client_id, book_side="bid", price=10_000,
                                           count=1_000_000, time_in_force="good_till_canceled", post_only=True,
                                           shard=shard)
        reduced = await client.cancel_order(placed.order_id, ticker=ticker, shard=shard)
    except KalshiRegionBlocked as exc:
        report.add("test order", False, f"Kalshi refused: region blocked: {exc}", REGION_FIX)
        return
    except KalshiAuthFailed as exc:
        report.add("test order", False, f"Kalshi refused: {exc}", SCOPE_FIX if exc.status == 403 else SIGNATURE_FIX)
        return
    except KalshiError as exc:
        fix = FUND_FIX if exc.code in ("available_balance_too_low", "insufficient_balance") else \
            "check the order on Kalshi (kalshi.com, Orders) and cancel it by hand if it rests"
        report.add("test order", False, f"Kalshi refused: {exc}", fix)
        return
    rested = placed.remaining_count == 1_000_000 and reduced == 1_000_000
    report.add("test order", rested, f"a post-only bid for 1 YES at $0.01 in {ticker} "
               + ("rested and was cancelled" if rested else f"came back with {placed}, {reduced} cancelled"),
               "check the order on Kalshi and cancel it by hand")


def _when(ms: int | None) -> str:
    return "?" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
