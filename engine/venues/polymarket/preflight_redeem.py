"""The preflight's redemption check: can this wallet's resolved positions end in cash?

Polymarket pays a winning position only when it is redeemed: by the venue's auto-redeem
operator, if the wallet approved it (an ERC-1155 `setApprovalForAll` on the conditional
tokens, and on the PositionManager for Protocol V2 positions), or by the desk itself (through
the relayer, which needs RELAYER_API_KEY, for proxy, Safe and deposit wallets; its own
transaction, paid in POL, for a plain wallet). The check reads both approvals;
`--approve-auto-redeem` sets the missing ones (audited) and waits for each to be mined.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from contracts.settings import Settings
from engine.venues.base import VenueError
from engine.venues.polymarket import onchain
from engine.venues.polymarket.settlement import PolymarketSettlement
from storage.desk.audit import write_audit
from storage.sqlite.db import Database


class PreflightReport(Protocol):
    """What this check writes to (engine/venues/polymarket/preflight.py's report)."""

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None) -> None: ...


APPROVAL_WAIT_S = 120.0
CHECK = "auto-redeem"


def can_redeem_itself(settings: Settings) -> str | None:
    """How the desk would redeem without the operator, or None when it cannot."""
    if settings.signature_type in onchain.RELAYER_TYPES:
        return "through the relayer (RELAYER_API_KEY is set)" if settings.relayer_api_key is not None else None
    return "with its own transactions (the wallet pays the gas in POL)"


async def check_auto_redeem(report: PreflightReport, settings: Settings, db: Database | None, *,
                            approve: bool) -> None:
    venue = PolymarketSettlement(settings)
    try:
        approved = True
        for protocol_v2 in (False, True):
            this = await venue.auto_redeem_approved(protocol_v2)
            if not this and approve:
                answer = await _approve(report, venue, db, protocol_v2)
                if answer is None:
                    return
                this = answer
            approved = approved and this
        _report(report, settings, approved)
    except VenueError as exc:
        report.add(CHECK, False, f"could not read or set the auto-redeem approval: {exc}",
                   "check POLYGON_RPC_URL and RELAYER_API_KEY (docs/going-live.md, redemption)")
    finally:
        await venue.close()


def _report(report: PreflightReport, settings: Settings, approved: bool) -> None:
    itself = can_redeem_itself(settings)
    if approved:
        report.add(CHECK, True, "the venue's auto-redeem operator may redeem resolved positions into pUSD (CTF and "
                                "Protocol V2 positions)")
    elif itself is not None:
        report.add(CHECK, True, f"auto-redeem not approved: the desk redeems resolved positions {itself}")
    else:
        report.add(CHECK, False, "resolved positions cannot be collected: the auto-redeem operator is not approved "
                                 "and RELAYER_API_KEY is not set",
                   "set RELAYER_API_KEY (and RELAYER_API_KEY_ADDRESS) in .env, then run python -m engine preflight "
                   "--approve-auto-redeem")


async def _approve(report: PreflightReport, venue: PolymarketSettlement, db: Database | None,
                   protocol_v2: bool) -> bool | None:
    """Send the approval (on the PositionManager with `protocol_v2`), audit it, wait until mined;
    None when it failed (reported)."""
    sent = await venue.approve_auto_redeem(protocol_v2)
    if db is not None:
        with db.write() as conn:
            write_audit(conn, actor="cli", action="approve_auto_redeem", entity=venue.wallet,
                        before={"approved": False},
                        after={"operator": onchain.AUTO_REDEEM_OPERATOR, "tx": sent.ref, "via": sent.via,
                               "positions": "Protocol V2" if protocol_v2 else "conditional tokens"})
    deadline = time.monotonic() + APPROVAL_WAIT_S
    state = sent
    while state.state == "pending" and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        state = await venue.transaction(sent.ref)
    if state.state != "confirmed":
        report.add(CHECK, False, f"the approval was sent ({sent.ref}) but is {state.state}: {state.error or ''}",
                   "run python -m engine preflight again in a minute (it only reads the approval)")
        return None
    return await venue.auto_redeem_approved(protocol_v2)
