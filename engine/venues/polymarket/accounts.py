"""Which Polymarket account a process trades with, said without its secret: the wallet's addresses
(public on chain). Each venue says its own (its adapter's `account`).

The engine records the accounts it read at its start (engine_state, migration 0061) and every
preflight records the account it checked (preflight_runs, 0062): arming a venue live needs a passing
preflight of the very account the running engine holds (storage/desk/arming.py).
"""

from __future__ import annotations

from contracts.settings import Settings


def polymarket_account(settings: Settings) -> str | None:
    """"type 3, signer 0x…, funder 0x…" (the funder for proxy, Safe and deposit wallets, types 1-3),
    lower case; None without an unlocked wallet key."""
    if settings.private_key is None:
        return None
    from eth_account import Account  # the signing stack: loaded only where a key is held

    signer = Account.from_key(settings.private_key.reveal()).address
    funder = f", funder {settings.funder}" if settings.funder and settings.signature_type != 0 else ""
    return f"type {settings.signature_type}, signer {signer}{funder}".lower()
