"""`python -m engine kalshi-preflight`: prove, before trading Kalshi, that its account can trade.

The checks, in order, each with the setting to change when it fails: where the desk would trade
(prod, the demo rehearsal, or the simulator) and how the key is kept; a signed read (the key id and
its RSA key belong together, the clock is right); the balance; and one harmless order, a post-only
bid for one YES contract at 1 cent in an open market with nobody asking 1 cent, placed and
cancelled (the account can place, not only read).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import Side
from contracts.order_status import VenueOrderStatus
from contracts.settings import Settings
from engine.venues import kalshi_wire as wire
from engine.venues.base import OrderRequest, VenueError
from engine.venues.kalshi import KalshiVenue

SIGNATURE_FIX = ("Kalshi refused the signature: KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY must be the id and the "
                 "private key of one key from Kalshi's API keys page (demo keys work only with "
                 "KALSHI_ENVIRONMENT=demo), and the clock must be right (NTP)")
FUND_FIX = "fund the Kalshi account (its balance is 0): nothing can be bought"


@dataclass
class KalshiReport:
    host: str
    environment: str
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks)

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None) -> None:
        self.checks.append({"check": name, "ok": ok, "detail": detail, **({"fix": fix} if fix else {})})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "host": self.host, "environment": self.environment, "checks": self.checks}


def describe(report: KalshiReport) -> str:
    lines = [f"Kalshi preflight ({report.environment}, {report.host}): {'OK' if report.ok else 'FAILED'}"]
    for check in report.checks:
        lines.append(f"  [{'ok' if check['ok'] else 'FAIL'}] {check['check']}: {check['detail']}")
        if "fix" in check:
            lines.append(f"         fix: {check['fix']}")
    return "\n".join(lines)


async def run_kalshi_preflight(settings: Settings) -> KalshiReport:
    kalshi = settings.kalshi
    assert kalshi is not None
    report = KalshiReport(kalshi.host, kalshi.environment)
    if not kalshi.configured:
        report.add("key", False, "no Kalshi key is configured",
                   "put KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY in .env, then seal them: python -m engine "
                   "keystore seal")
        return report
    sealed = "KALSHI_PRIVATE_KEY" in settings.sealed_names
    report.add("key", True, "sealed with the other secrets (unlocked for this check)" if sealed else
               "KALSHI_PRIVATE_KEY is in plain text in .env (works; seal it: python -m engine keystore seal)")
    venue = KalshiVenue(kalshi, poll_s=3600)
    try:
        try:
            await venue.start()
        except VenueError as exc:
            report.add("signature", False, str(exc), SIGNATURE_FIX if "401" in str(exc) else None)
            return report
        report.add("signature", True, "a signed read was answered")
        balance = (await venue.balances([])).collateral
        report.add("balance", balance > 0, f"${balance / 1e6:,.2f}", None if balance > 0 else FUND_FIX)
        if balance > 0:
            await _test_order(report, venue)
    finally:
        await venue.close()
    return report


async def _test_order(report: KalshiReport, venue: KalshiVenue) -> None:
    market = await _quiet_market(venue)
    if market is None:
        report.add("test order", False, "no open market where a 1-cent bid would rest",
                   "run it again later (every open market had someone asking 1 cent)")
        return
    client_id = f"preflight-{uuid.uuid4().hex[:12]}"
    request = OrderRequest(client_id, wire.market_id(market), wire.token_id(market, "yes"), Side.BUY,
                           wire.CENT, wire.CONTRACT, post_only=True, tick=wire.CENT)
    try:
        placed = await venue.submit(await venue.prepare(request))
        done = await venue.cancel([client_id])
    except VenueError as exc:
        report.add("test order", False, f"Kalshi refused: {exc}", _order_fix(str(exc)))
        return
    resting = placed.status is VenueOrderStatus.LIVE and done.canceled == (client_id,)
    report.add("test order", resting, f"a post-only bid for 1 YES at $0.01 in {market} "
               + ("rested and was cancelled" if resting else f"came back {placed.status.value}, {done}"),
               None if resting else "check the order on Kalshi and cancel it by hand")


async def _quiet_market(venue: KalshiVenue) -> str | None:
    for market in await venue.open_markets():
        if market.yes_ask > 1 and market.status == "active":
            return str(market.ticker)
    return None


def _order_fix(message: str) -> str | None:
    if "insufficient_balance" in message:
        return FUND_FIX
    if "401" in message:
        return SIGNATURE_FIX
    return None
