"""`python -m engine preflight`: prove, before arming live, that this account can trade.

Reading a balance proves little: Polymarket refuses some accounts only when they place an
order (an EOA maker, a deposit wallet signed for with the wrong key). So the preflight reads
the wallet from the chain and checks that key, funder and API key belong together (the wallet
doctor, engine/cli/preflight_wallet.py), derives the API credentials, reads the collateral and
every trading approval (engine/cli/preflight_approvals.py; ``--approve`` sets the missing ones),
then places and cancels one harmless post-only order in a standard and in a neg-risk market and
checks that shares could be sold (engine/cli/preflight_orders.py). Before any of that it asks the venue
whether it takes orders from this server's region at all (engine/cli/preflight_region.py). It ends with whether resolved
positions can end in cash (engine/cli/preflight_redeem.py). Every refusal is translated into the
setting to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from py_clob_client_v2 import AssetType, BalanceAllowanceParams

from contracts.domain import fmt
from contracts.geoblock import REGION_FIX
from contracts.settings import Settings
from engine.cli.preflight_approvals import Confirm, check_approvals
from engine.cli.preflight_orders import read_balance_allowance, test_orders
from engine.cli.preflight_redeem import check_auto_redeem
from engine.cli.preflight_region import check_region, settle_region
from engine.cli.preflight_wallet import API_KEY_FIX, UNDEPLOYED_FIX, check_api_key, check_wallet
from engine.venues.base import VenueError
from engine.venues.polymarket import PolymarketVenue
from engine.venues.polymarket_wire import balance_micros
from storage.sqlite.db import Database

# (fragment of the venue's message, what to do about it), most specific first.
FIXES: tuple[tuple[str, str], ...] = (
    ("region blocked", REGION_FIX),  # a geoblock's 403: never the keys (contracts/geoblock.py)
    ("maker address not allowed",
     "Polymarket no longer takes this account type as a maker. Create a deposit wallet on polymarket.com, "
     "then set POLY_SIGNATURE_TYPE=3 and POLY_FUNDER=<the deposit wallet's address> in .env"),
    ("signer address has to be the address of the api key",
     "the API key must belong to the address that signs the orders. If the 'api key' line above failed: "
     f"{API_KEY_FIX}. Otherwise (a deposit wallet made by e-mail sign-up, where re-deriving does not help), "
     f"the 'wallet' line above says whether the wallet is deployed: {UNDEPLOYED_FIX}; and POLY_PRIVATE_KEY "
     "must be the key that owns that deposit wallet"),
    ("order owner has to be the owner of the api key",
     "the API credentials belong to another key: clear POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE"),
    ("invalid signature",
     "the order was signed for another wallet: check POLY_SIGNATURE_TYPE (0 plain wallet, 1 email/Magic, "
     "2 browser Safe, 3 deposit wallet) and POLY_FUNDER (the address polymarket.com shows)"),
    ("the allowance is not enough",
     "approve pUSD and the conditional tokens for the exchanges: python -m engine preflight --approve"),
    ("not enough balance",
     "fund POLY_FUNDER (or the wallet itself for type 0) with pUSD, cancel stale orders, and make the "
     "approvals: python -m engine preflight --approve"),
    ("allowance",
     "approve pUSD and the conditional tokens for the exchanges: python -m engine preflight --approve"),
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
    return "see docs/going-live.md: Known failure messages"


@dataclass
class PreflightReport:
    clob_host: str
    signature_type: int
    funder: str | None
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks)

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None:
        self.checks.append({"check": name, "ok": ok, "detail": detail, **({"fix": fix} if fix else {}),
                            **extra})

    def warn(self, name: str, detail: str, fix: str) -> None:
        """A check that passes but should be fixed before long (it does not stop going live)."""
        self.checks.append({"check": name, "ok": True, "warning": True, "detail": detail, "fix": fix})

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "clob_host": self.clob_host, "signature_type": self.signature_type,
                "funder": self.funder, "checks": self.checks}


def _refuse(_: list[str]) -> bool:
    return False


async def run_preflight(settings: Settings, db: Database | None, *, plain_key: bool = False,
                        approve_auto_redeem: bool = False, approve: bool = False,
                        confirm: Confirm = _refuse) -> PreflightReport:
    report = PreflightReport(settings.clob_host, settings.signature_type, settings.funder)
    if plain_key:
        report.warn("key storage", "POLY_PRIVATE_KEY is kept in plain text in .env",
                    "encrypt it: python -m engine keystore import (docs/going-live.md)")
    else:
        report.add("key storage", True, f"encrypted keystore {settings.keystore} (unlocked for this check)")
    problem = settings.wallet_problem()
    if problem is not None:
        report.add("settings", False, problem, problem)
        return report
    await check_region(report, settings)
    if settings.signature_type == 0:
        report.add("account type", True, "signature type 0 (a plain wallet): new accounts are refused as makers; "
                                         "the test order below tells")
    await check_wallet(report, settings)
    venue = PolymarketVenue(settings)
    try:
        if not await _step(report, "credentials", venue.connect()):
            return report
        await check_api_key(report, settings, venue)
        collateral = await _collateral(report, venue)
        await check_approvals(report, settings, db, approve=approve, confirm=confirm)
        if collateral is not None:
            await test_orders(report, venue, db, collateral, fix_for)
            settle_region(report.checks)  # what the API did with the test orders says which restriction holds
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
    report.add(name, True, "API credentials ready (configured, or derived from the key; held in memory only)")
    return True


async def _collateral(report: PreflightReport, venue: PolymarketVenue) -> int | None:
    try:
        raw = await read_balance_allowance(venue, BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    except Exception as exc:  # CallFailure or a malformed answer: say it in words
        report.add("balance", False, f"could not read the collateral balance: {exc}", fix_for(str(exc)))
        return None
    balance = balance_micros(raw.get("balance")) if isinstance(raw, dict) else 0
    if balance <= 0:
        report.add("balance", False, "the collateral balance is 0 pUSD",
                   "fund the wallet; if polymarket.com shows funds, POLY_SIGNATURE_TYPE or POLY_FUNDER is wrong "
                   "(the balance was read for another address)")
        return None
    report.add("balance", True, f"{fmt(balance)} pUSD collateral")
    return balance


def describe(report: PreflightReport) -> str:
    """The report in plain words, one line a check."""
    lines = []
    for check in report.checks:
        mark = "WARN" if check.get("warning") else "ok " if check["ok"] else "FAIL"
        lines.append(f"[{mark}] {check['check']}: {check['detail']}")
        for row in check.get("approvals", ()):  # every approval trading needs, set or not
            state = "set    " if row["set"] else "MISSING"
            lines.append(f"       {state} {row['approval']} ({row['spender']})")
        if (not check["ok"] or check.get("warning")) and check.get("fix"):
            lines.append(f"       fix: {check['fix']}")
    lines.append("ready to go live" if report.ok else "not ready to go live: fix the FAIL lines above")
    return "\n".join(lines)

