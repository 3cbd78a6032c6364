"""Deposit wallets deployed as Polymarket's relayer deploys them: `WALLET-CREATE`.

Polymarket's deposit-wallet guide: a new API user's wallet is deployed by the relayer
(`POST /submit {"type": "WALLET-CREATE", "from": <owner>, "to": <deposit wallet factory>}`), with no
signature of the user in it (the relayer pays the gas); the wallet's address is deterministic, a
CREATE2 address of the factory salted by its owner, so one owner has one deposit wallet. Until it is
deployed nothing is at that address (no code: the desk's wallet doctor says "nothing is deployed"),
and the relayer does not take the owner's `WALLET` batches (its approvals) for it.

The address here is a stand-in of the same form (CREATE2 of the factory, salted with the factory
and the owner, over an init code hash of the simulator's: the venue's is its wallet implementation's
clone, which the simulator does not carry), so it is stable for an owner across runs and differs
from the venue's. The relayer's transaction record names it as `proxyAddress`, as the venue's
records name the wallet a transaction is for.
"""

from __future__ import annotations

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

DEPOSIT_WALLET_TYPE = 3  # the CLOB signature type of a deposit wallet (POLY_1271)
STAND_IN_INIT_CODE_HASH = keccak(text="simulator: the deposit wallet's clone (a stand-in)")


def deposit_wallet_address(factory: str, owner: str) -> str:
    """The deposit wallet `owner` gets from `factory` (lower case, as the simulator keys wallets)."""
    owner_word = bytes(12) + bytes.fromhex(owner.removeprefix("0x"))
    salt = keccak(abi_encode(["address", "bytes32"], [to_checksum_address(factory), owner_word]))
    address = keccak(b"\xff" + bytes.fromhex(factory.removeprefix("0x")) + salt + STAND_IN_INIT_CODE_HASH)[12:]
    return "0x" + address.hex()


def already_deployed(funders: dict[tuple[str, int], str], owner: str) -> str | None:
    """The deposit wallet `owner` already has (deployed, or linked by a test), if any."""
    return funders.get((owner.lower(), DEPOSIT_WALLET_TYPE))


def deploy(funders: dict[tuple[str, int], str], owner: str, wallet: str) -> None:
    """The wallet is on chain from now on: it has code, and its owner's batches are taken for it."""
    funders[(owner.lower(), DEPOSIT_WALLET_TYPE)] = wallet.lower()
