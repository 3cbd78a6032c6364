"""`python -m engine deposit-wallet`: deploy the signing key's deposit wallet through the relayer and
say its address, the POLY_FUNDER a deposit-wallet account (POLY_SIGNATURE_TYPE=3) trades from.

Polymarket's deposit-wallet guide: a new API user's wallet is deployed by the relayer's
`WALLET-CREATE` (no signature of the user's; the relayer pays the gas), at an address fixed by its
owner; polymarket.com does the same at a first deposit. Until then nothing is at that address: the
preflight's wallet doctor says "nothing is deployed", and the relayer takes no approval for it. This
asks the relayer (RELAYER_API_KEY), waits until the wallet is mined, reads its code from the chain,
audits it (`deploy_deposit_wallet`) and prints what to set next. Against the simulator it is the
rehearsal's first step (docs/going-live.md, "Rehearse on the simulator").
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.cli.errors import CliError

if TYPE_CHECKING:
    from contracts.settings import Settings
    from engine.venues.polymarket_settlement import PolymarketSettlement
    from engine.venues.settlement import SettlementTx
    from storage.sqlite.db import Database

WAIT_S = 120.0
POLL_S = 0.5
DEPOSIT_WALLET = 3


@dataclass(frozen=True)
class Deployed:
    owner: str
    wallet: str
    ref: str  # the relayer's transaction
    already: bool  # it was deployed before this run asked (the relayer's create failed for that)


async def deploy_deposit_wallet(settings: Settings, db: Database | None, actor: str = "cli") -> Deployed:
    """Ask the relayer for the key's deposit wallet, wait for it, prove it is on chain; CliError in words."""
    from engine.venues.base import VenueError
    from engine.venues.polymarket_settlement import PolymarketSettlement

    if settings.signature_type != DEPOSIT_WALLET:
        raise CliError(f"POLY_SIGNATURE_TYPE is {settings.signature_type}: a deposit wallet trades as type 3 "
                       "(set POLY_SIGNATURE_TYPE=3 in .env, or leave the line out)")
    chain = PolymarketSettlement(settings)
    try:
        ref = await chain.create_deposit_wallet()
        state, wallet = await _settled(chain, ref)
        if wallet is None:
            raise CliError(f"the relayer's transaction {ref} names no wallet ({state.state}: {state.error or ''})")
        deployed = (await chain.code(wallet)).removeprefix("0x") != ""
    except VenueError as exc:
        raise CliError(f"the relayer or the chain refused: {exc}. It needs RELAYER_API_KEY (and "
                       "RELAYER_API_KEY_ADDRESS, by default the signing key's address) in .env") from None
    finally:
        await chain.close()
    if not deployed:
        raise CliError(f"the deposit wallet {wallet} is not on chain after the relayer's transaction {ref} "
                       f"({state.state}: {state.error or 'still pending'}): run this again in a minute")
    found = Deployed(chain.signer, wallet, ref, already=state.state != "confirmed")
    _audit(db, found, actor)
    return found


async def _settled(chain: PolymarketSettlement, ref: str) -> tuple[SettlementTx, str | None]:
    deadline = time.monotonic() + WAIT_S
    state, wallet = await chain.relayed(ref)
    while state.state == "pending" and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        state, wallet = await chain.relayed(ref)
    return state, wallet


def _audit(db: Database | None, found: Deployed, actor: str) -> None:
    if db is None or found.already:
        return
    from storage.desk.audit import write_audit

    with db.write() as conn:
        write_audit(conn, actor=actor, action="deploy_deposit_wallet", entity=found.wallet,
                    before={"deployed": False}, after={"owner": found.owner, "tx": found.ref, "via": "relayer"})


def describe(found: Deployed, funder: str | None) -> str:
    """What was done, and what to set next."""
    head = (f"the deposit wallet of {found.owner} was already deployed, at {found.wallet}" if found.already
            else f"deposit wallet deployed for {found.owner} at {found.wallet} (relayer transaction {found.ref})")
    if funder is not None and funder.lower() == found.wallet.lower():
        return f"{head}\nPOLY_FUNDER already names it. Next: python -m engine preflight --approve"
    now = f" (it is {funder} now)" if funder else ""
    return (f"{head}\nNext: set POLY_FUNDER={found.wallet} in .env{now}, then: "
            "python -m engine preflight --approve")
