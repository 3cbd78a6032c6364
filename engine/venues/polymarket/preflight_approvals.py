"""The preflight's approvals check: has this wallet made every approval trading needs?

Reads each approval of engine/venues/polymarket/approvals.py on chain (pUSD ``allowance`` and the conditional
tokens' ``isApprovedForAll``, for the wallet that trades: the funder of a proxy, Safe or deposit
wallet, else the signer) and names each missing one. ``--approve`` sends the missing ones, after a
confirmation, the way the wallet type allows (the relayer for proxy, Safe and deposit wallets; the
wallet's own transaction, paid in POL, for a plain wallet), audits each, and waits until they are
mined. Protocol V2 markets' approvals (pUSD and the PositionManager's positions for Exchange V3 and
the Router, through which their merges and redemptions go) are read and set the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from contracts.settings import Settings
from engine.venues.base import VenueError
from engine.venues.polymarket import approvals as table
from engine.venues.polymarket.settlement import PolymarketSettlement
from engine.venues.settlement import SettlementTx
from storage.desk.audit import write_audit
from storage.sqlite.db import Database


class PreflightReport(Protocol):
    """What this check writes to (engine/venues/polymarket/preflight.py's report)."""

    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None: ...

    def warn(self, name: str, detail: str, fix: str) -> None: ...


Confirm = Callable[[list[str]], bool]
CHECK = "approvals"
APPROVAL_WAIT_S = 120.0
APPROVE_FIX = "python -m engine preflight --approve (asks before sending; --yes to skip the question)"


async def check_approvals(report: PreflightReport, settings: Settings, db: Database | None, *,
                          approve: bool, confirm: Confirm) -> None:
    venue = PolymarketSettlement(settings)
    try:
        states = await read_all(venue)
        missing = [a for a, ok in states.items() if not ok]
        if missing and approve and db is None:
            report.add(CHECK, False, f"not sent: there is no desk database to audit them in; missing "
                                     f"{_names(missing)}",
                       "start the desk once (make run), then run this again", approvals=_rows(states))
            return
        if missing and approve and db is not None:  # (without a database it returned above)
            if not confirm([f"{a.label} ({a.spender.address})" for a in missing]):
                report.add(CHECK, False, f"not confirmed: nothing sent; missing {_names(missing)}",
                           APPROVE_FIX, approvals=_rows(states))
                return
            if not await _send_all(report, venue, missing, db):
                return
            states = await read_all(venue)
        _report(report, venue.wallet, states)
    except VenueError as exc:
        report.add(CHECK, False, f"could not read or set the trading approvals: {exc}",
                   "check POLYGON_RPC_URL (and RELAYER_API_KEY for a proxy, Safe or deposit wallet, or POL "
                   "for gas in a plain wallet)")
    finally:
        await venue.close()


async def read_all(venue: PolymarketSettlement) -> dict[table.Approval, bool]:
    """Each approval of the trading wallet (v1 markets', then Protocol V2's) and whether it is set."""
    found = {}
    for approval in table.required("v1") + table.required("v2"):
        found[approval] = table.is_set(approval, await venue.read(table.read_call(approval, venue.wallet)))
    return found


def _report(report: PreflightReport, wallet: str, states: dict[table.Approval, bool]) -> None:
    rows = _rows(states)
    missing = [a for a, ok in states.items() if not ok]
    if missing:
        report.add(CHECK, False, f"{len(missing)} of {len(states)} missing for {wallet}: {_names(missing)}",
                   APPROVE_FIX, approvals=rows)
    else:
        report.add(CHECK, True, f"all {len(states)} set for {wallet} (pUSD and the conditional tokens, for "
                                "both exchanges and the adapters; pUSD and the Protocol V2 positions, for Exchange V3 "
                                "and the Router)", approvals=rows)


def _rows(states: dict[table.Approval, bool]) -> list[dict[str, Any]]:
    return [{"approval": a.label, "spender": a.spender.address, "set": ok} for a, ok in states.items()]


def _names(missing: list[table.Approval]) -> str:
    return "; ".join(a.label for a in missing)


async def _send_all(report: PreflightReport, venue: PolymarketSettlement, missing: list[table.Approval],
                    db: Database) -> bool:
    """One at a time (a relayer takes one transaction per wallet nonce); False when one failed (reported)."""
    for approval in missing:
        sent = await venue.send(table.set_call(approval))
        with db.write() as conn:
            write_audit(conn, actor="cli", action="approve_trading", entity=venue.wallet,
                        before={"approval": approval.label, "set": False},
                        after={"spender": approval.spender.address, "tx": sent.ref, "via": sent.via})
        state = await _mined(venue, sent)
        if state.state != "confirmed":
            report.add(CHECK, False,
                       f"{approval.label}: sent ({sent.ref}) but {state.state}: {state.error or ''}",
                       "run python -m engine preflight again in a minute (it reads the approvals again)")
            return False
    return True


async def _mined(venue: PolymarketSettlement, sent: SettlementTx) -> SettlementTx:
    deadline = time.monotonic() + APPROVAL_WAIT_S
    state = sent
    while state.state == "pending" and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        state = await venue.transaction(sent.ref)
    return state
