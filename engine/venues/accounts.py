"""Which account a process trades with, said without its secret: the wallet's addresses (public on
chain) for Polymarket, a fingerprint of the key id for Kalshi (the id is kept with the secrets, so it
is never written anywhere).

The engine records the accounts it read at its start (engine_state, migration 0061) and every
preflight records the account it checked (preflight_runs, 0062): arming a venue live needs a passing
preflight of the very account the running engine holds (storage/desk/arming.py).
"""

from __future__ import annotations

import hashlib

from contracts.settings import Settings
from contracts.venues.kalshi.settings import KalshiSettings


def polymarket_account(settings: Settings) -> str | None:
    """"type 3, signer 0x…, funder 0x…" (the funder for proxy, Safe and deposit wallets, types 1-3),
    lower case; None without an unlocked wallet key."""
    if settings.private_key is None:
        return None
    from eth_account import Account  # the signing stack: loaded only where a key is held

    signer = Account.from_key(settings.private_key.reveal()).address
    funder = f", funder {settings.funder}" if settings.funder and settings.signature_type != 0 else ""
    return f"type {settings.signature_type}, signer {signer}{funder}".lower()


def kalshi_account(kalshi: KalshiSettings | None) -> str | None:
    """"key " and the first 12 hex digits of the key id's SHA-256; None without a key."""
    if kalshi is None or not kalshi.configured or kalshi.api_key_id is None:
        return None
    return "key " + hashlib.sha256(kalshi.api_key_id.encode()).hexdigest()[:12]
