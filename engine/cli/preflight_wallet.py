"""The wallet doctor: what kind of account trades, read from the chain, and whether the signing
key, the funder and the API key belong together. Each failure carries the one fix that applies.

The kind comes from the code deployed at the trading address (``eth_getCode``): none is a plain
wallet (or a contract wallet not deployed yet); an EIP-1167 minimal-proxy clone is a proxy
wallet (e-mail/Magic accounts, signature type 1); a contract that answers ``getOwners()`` is a
Safe (type 2), and its owners must include the signer; any other contract is taken for a deposit
wallet (type 3). The most frequent set-up pains the venue's trackers report
(../shared/notes/polymarket-venue-behaviour.md, "Wallet setup pains"): a funder of another kind
than the signature type, a deposit wallet not deployed yet, API credentials of another key
(`the order signer address has to be the address of the API KEY`).
"""

from __future__ import annotations

from typing import Any, Protocol

from eth_abi import decode as abi_decode
from eth_utils import keccak

from contracts.settings import Settings
from engine.venues import onchain
from engine.venues.base import VenueError
from engine.venues.polymarket import PolymarketVenue
from engine.venues.polymarket_settlement import PolymarketSettlement


class PreflightReport(Protocol):
    def add(self, name: str, ok: bool, detail: str, fix: str | None = None, **extra: Any) -> None: ...


CHECK = "wallet"
KINDS = {0: "plain wallet", 1: "proxy wallet", 2: "Safe", 3: "deposit wallet"}
MINIMAL_PROXY = "363d3d373d3d3d363d73"  # EIP-1167's fixed runtime prefix
GET_OWNERS = keccak(text="getOwners()")[:4]
API_KEY_MISMATCH = "the order signer address has to be the address of the API KEY"
API_KEY_FIX = ("clear POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE in .env: the desk then derives "
               "the credentials of the key that signs the orders")
UNDEPLOYED_FIX = ("deploy it: python -m engine deposit-wallet (through the relayer: needs RELAYER_API_KEY; it "
                  "prints the address for POLY_FUNDER), or deposit once through polymarket.com; or copy the wallet "
                  "address polymarket.com shows into POLY_FUNDER")


async def check_wallet(report: PreflightReport, settings: Settings) -> None:
    chain = PolymarketSettlement(settings)
    try:
        await _diagnose(report, settings, chain)
    except VenueError as exc:
        report.add(CHECK, False, f"could not read the wallet from the chain: {exc}", "check POLYGON_RPC_URL")
    finally:
        await chain.close()


async def _diagnose(report: PreflightReport, settings: Settings, chain: PolymarketSettlement) -> None:
    wanted, signer = settings.signature_type, chain.signer
    if wanted == 0:
        funder = settings.funder
        if funder and funder.lower() != signer.lower():
            report.add(CHECK, False, f"POLY_FUNDER {funder} is not the signing key's address {signer}: a "
                                     "plain wallet (type 0) trades from its own address",
                       await _kind_fix(chain, funder) or "remove POLY_FUNDER from .env")
            return
        report.add(CHECK, True, f"a plain wallet: {signer} signs and holds the funds", kind="plain wallet")
        return
    funder = settings.funder or ""
    if funder.lower() == signer.lower():
        report.add(CHECK, False, f"POLY_FUNDER is the signing key's own address ({signer}), not a "
                                 f"{KINDS[wanted]}",
                   "set POLY_FUNDER to the wallet address polymarket.com shows")
        return
    found = await kind_at(chain, funder)
    if found is None:
        fix = UNDEPLOYED_FIX if wanted == 3 else \
            "copy the wallet address polymarket.com shows into POLY_FUNDER"
        report.add(CHECK, False, f"nothing is deployed at POLY_FUNDER {funder}: it is not a {KINDS[wanted]} "
                                 "(yet)", fix, kind=None)
        return
    if found != wanted:
        report.add(CHECK, False, f"POLY_FUNDER {funder} is a {KINDS[found]}, but POLY_SIGNATURE_TYPE={wanted} "
                                 f"says {KINDS[wanted]}", f"set POLY_SIGNATURE_TYPE={found} in .env",
                   kind=KINDS[found])
        return
    if found == 2 and signer.lower() not in {o.lower() for o in await _safe_owners(chain, funder)}:
        report.add(CHECK, False, f"the signing key {signer} is not an owner of the Safe {funder}",
                   "use the key that owns this Safe (POLY_KEYSTORE or POLY_PRIVATE_KEY), or the Safe "
                   "polymarket.com shows for this key", kind=KINDS[found])
        return
    report.add(CHECK, True, f"a {KINDS[found]} at {funder}, signed for by {signer}", kind=KINDS[found])


async def kind_at(chain: PolymarketSettlement, address: str) -> int | None:
    """The signature type of the contract wallet at ``address``; None when no code is deployed there."""
    code = (await chain.code(address)).removeprefix("0x").lower()
    if not code:
        return None
    if code.startswith(MINIMAL_PROXY):
        return 1
    try:
        await _safe_owners(chain, address)
    except VenueError:
        return 3
    return 2


async def _safe_owners(chain: PolymarketSettlement, safe: str) -> list[str]:
    raw = await chain.read(onchain.Call(safe, GET_OWNERS))
    (owners,) = abi_decode(["address[]"], bytes.fromhex(raw.removeprefix("0x")))
    return [str(o) for o in owners]


async def _kind_fix(chain: PolymarketSettlement, address: str) -> str | None:
    found = await kind_at(chain, address)
    if found is None:
        return None
    return f"POLY_FUNDER is a {KINDS[found]}: set POLY_SIGNATURE_TYPE={found} in .env"


async def check_api_key(report: PreflightReport, settings: Settings, venue: PolymarketVenue) -> None:
    """Configured API credentials must be the signer's: an authenticated read proves it."""
    if not (settings.api_key and settings.api_secret and settings.api_passphrase):
        report.add("api key", True, "derived from the signing key (they belong together)")
        return
    client = await venue._client()
    try:
        await venue.calls.call("balance", client.get_api_keys, retry=False)
    except Exception as exc:  # CallFailure or the venue's refusal, in words
        report.add("api key", False, f"the configured POLY_API_KEY does not belong to the signing key "
                                     f"({API_KEY_MISMATCH}): {exc}", API_KEY_FIX)
        return
    report.add("api key", True, "the configured POLY_API_KEY belongs to the signing key")
