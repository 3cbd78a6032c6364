"""`python -m engine preflight`: prove, before arming live, that this account can trade.

Reading a balance proves little: Polymarket refuses some accounts only when they place an
order (an EOA maker, a deposit wallet signed for with the wrong key). So the preflight
derives the API credentials, reads collateral and allowances, then places one minimum-size
post-only BUY at the lowest legal price (far from the touch: it cannot trade) and cancels
it. It then checks that resolved positions can end in cash (engine/cli/preflight_redeem.py):
the auto-redeem approval, or a way for the desk to redeem itself. Every refusal is translated
into the setting to change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from py_clob_client_v2 import AssetType, BalanceAllowanceParams

from engine.cli.preflight_redeem import check_auto_redeem
from engine.feeds.catalog import MarketCatalog
from engine.domain import MarketInfo, Side, Tif, fmt, notional
from engine.venues.base import OrderRequest, VenueError
from engine.venues.polymarket import PolymarketVenue
from storage.db import Database
from engine.contracts.settings import Settings

# (fragment of the venue's message, what to do about it), most specific first.
FIXES: tuple[tuple[str, str], ...] = (
    ("maker address not allowed",
     "Polymarket no longer takes this account type as a maker. Create a deposit wallet on polymarket.com, "
     "then set POLY_SIGNATURE_TYPE=3 and POLY_FUNDER=<the deposit wallet's address> in .env"),
    ("signer address has to be the address of the api key",
     "the API credentials belong to another key: clear POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE "
     "(they are derived from the wallet key); with a deposit wallet, make sure it is deployed "
     "(deposit once through polymarket.com)"),
    ("order owner has to be the owner of the api key",
     "the API credentials belong to another key: clear POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE"),
    ("invalid signature",
     "the order was signed for another wallet: check POLY_SIGNATURE_TYPE (0 plain wallet, 1 email/Magic, "
     "2 browser Safe, 3 deposit wallet) and POLY_FUNDER (the address polymarket.com shows)"),
    ("not enough balance",
     "fund POLY_FUNDER (or the wallet itself for type 0) with pUSD, cancel stale orders, and make the "
     "approvals listed in the README (Going live)"),
    ("allowance", "approve pUSD and the conditional tokens for the exchanges (README: Going live)"),
    ("invalid l1 request headers", "deriving credentials failed: fix the system clock (NTP) and check the wallet key "
                                   "(POLY_KEYSTORE or POLY_PRIVATE_KEY)"),
    ("unauthorized", "the venue refused the credentials: clear POLY_API_* to re-derive them, and check the clock"),
    ("authentication failed", "the venue refused the credentials: clear POLY_API_* to re-derive them, and check "
                              "the clock"),
    ("restarting", "the venue's matching engine is restarting (weekly, ~90 s): run preflight again in a few "
                   "minutes"),
)


def fix_for(message: str) -> str:
    text = message.lower()
    for fragment, fix in FIXES:
        if fragment in text:
            return fix
    return "see README: Known failure messages"


@dataclass
class PreflightReport:
    clob_host: str
    signature_type: int
    funder: str | None
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks)

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None) -> None:
        self.checks.append({"check": name, "ok": ok, "detail": detail, **({"fix": fix} if fix else {})})

    def warn(self, name: str, detail: str, fix: str) -> None:
        """A check that passes but should be fixed before long (it does not stop going live)."""
        self.checks.append({"check": name, "ok": True, "warning": True, "detail": detail, "fix": fix})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "clob_host": self.clob_host, "signature_type": self.signature_type,
                "funder": self.funder, "checks": self.checks}


async def run_preflight(settings: Settings, db: Database | None, *, plain_key: bool = False,
                        approve_auto_redeem: bool = False) -> PreflightReport:
    report = PreflightReport(settings.clob_host, settings.signature_type, settings.funder)
    if plain_key:
        report.warn("key storage", "POLY_PRIVATE_KEY is kept in plain text in .env",
                    "encrypt it: python -m engine keystore import (README: Going live)")
    else:
        report.add("key storage", True, f"encrypted keystore {settings.keystore} (unlocked for this check)")
    problem = settings.wallet_problem()
    if problem is not None:
        report.add("settings", False, problem, problem)
        return report
    if settings.signature_type == 0:
        report.add("account type", True, "signature type 0 (a plain wallet): new accounts are refused as makers; "
                                         "the test order below tells")
    venue = PolymarketVenue(settings)
    try:
        if not await _step(report, "credentials", venue.connect()):
            return report
        collateral = await _collateral(report, venue)
        if collateral is not None:
            await _test_order(report, venue, _pick_market(db), collateral)
    finally:
        await venue.close()
    await check_auto_redeem(report, settings, db, approve=approve_auto_redeem)
    return report


async def _step(report: PreflightReport, name: str, call: Any) -> bool:
    try:
        await call
    except VenueError as exc:
        report.add(name, False, f"the venue refused: {exc}", fix_for(str(exc)))
        return False
    report.add(name, True, "API credentials derived (held in memory only)")
    return True


async def _collateral(report: PreflightReport, venue: PolymarketVenue) -> int | None:
    client = await venue._client()
    try:
        raw = await venue.calls.call("balance", client.get_balance_allowance,
                                     BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    except Exception as exc:  # CallFailure or a malformed answer: say it in words
        report.add("balance", False, f"could not read the collateral balance: {exc}", fix_for(str(exc)))
        return None
    balance = int(raw.get("balance") or 0) if isinstance(raw, dict) else 0
    allowances = raw.get("allowances") if isinstance(raw, dict) else None
    if balance <= 0:
        report.add("balance", False, "the collateral balance is 0 pUSD",
                   "fund the wallet; if polymarket.com shows funds, POLY_SIGNATURE_TYPE or POLY_FUNDER is wrong "
                   "(the balance was read for another address)")
        return None
    report.add("balance", True, f"{fmt(balance)} pUSD collateral")
    if isinstance(allowances, dict) and allowances and not any(int(v or 0) > 0 for v in allowances.values()):
        report.add("allowances", False, "no pUSD allowance for the exchanges",
                   "approve pUSD for the V2 exchanges (README: Going live)")
    elif isinstance(allowances, dict) and allowances:
        report.add("allowances", True, f"pUSD approved for {sum(int(v or 0) > 0 for v in allowances.values())} "
                                       "exchange contract(s)")
    return balance


def _pick_market(db: Database | None) -> MarketInfo | None:
    """A tradable binary market from the desk's market list (the engine fills it at start)."""
    if db is None:
        return None
    catalog = MarketCatalog()
    catalog.load(db)
    usable = [m for m in catalog.all() if m.tradable and m.accepting_orders and not m.closed]
    return sorted(usable, key=lambda m: (m.neg_risk, m.min_size * m.tick, m.condition_id))[0] if usable else None


async def _test_order(report: PreflightReport, venue: PolymarketVenue, market: MarketInfo | None,
                      collateral: int) -> None:
    if market is None:
        report.add("test order", False, "no market to test with: the desk's market list is empty",
                   "start the engine once (make run) so it lists the markets, then run preflight again")
        return
    price, size = market.tick, market.min_size
    if notional(price, size) > collateral:
        report.add("test order", False, f"the test order needs {fmt(notional(price, size))} pUSD", "fund the wallet")
        return
    request = OrderRequest(client_id=f"preflight-{secrets.token_hex(4)}", condition_id=market.condition_id,
                           token_id=market.yes_token, side=Side.BUY, price=price, size=size, tif=Tif.GTC,
                           post_only=True, neg_risk=market.neg_risk, tick=market.tick,
                           protocol_v2=market.protocol_v2)
    what = f"post-only BUY {fmt(size)} at {fmt(price)} in {market.question[:60]!r}"
    try:
        result = await venue.submit(await venue.prepare(request))
    except VenueError as exc:
        report.add("test order", False, f"the venue refused {what}: {exc}", fix_for(str(exc)))
        return
    if result.error is not None:
        report.add("test order", False, f"the venue refused {what}: {result.error}", fix_for(result.error))
        return
    try:
        cancelled = await venue.cancel([result.venue_order_id])
    except VenueError as exc:
        report.add("test order", False, f"placed {what} but could not cancel it: {exc}",
                   "cancel it now: python -m engine cancel-all")
        return
    ok = result.venue_order_id in cancelled.canceled
    report.add("test order", ok, f"placed and cancelled {what}" if ok else
               f"placed {what}; the cancel was not confirmed: {dict(cancelled.not_canceled)}",
               None if ok else "cancel it now: python -m engine cancel-all")


def describe(report: PreflightReport) -> str:
    """The report in plain words, one line a check."""
    lines = []
    for check in report.checks:
        mark = "WARN" if check.get("warning") else "ok " if check["ok"] else "FAIL"
        lines.append(f"[{mark}] {check['check']}: {check['detail']}")
        if (not check["ok"] or check.get("warning")) and check.get("fix"):
            lines.append(f"       fix: {check['fix']}")
    lines.append("ready to go live" if report.ok else "not ready to go live: fix the FAIL lines above")
    return "\n".join(lines)

