"""Which Kalshi account a process trades with, said without its secret: a fingerprint of the key id (the
id is kept with the secrets, so it is never written anywhere). Recorded as the accounts of every venue
are (engine/venues/polymarket/accounts.py says where)."""

from __future__ import annotations

import hashlib

from contracts.venues.kalshi.settings import KalshiSettings


def kalshi_account(kalshi: KalshiSettings | None) -> str | None:
    """"key " and the first 12 hex digits of the key id's SHA-256; None without a key."""
    if kalshi is None or not kalshi.configured or kalshi.api_key_id is None:
        return None
    return "key " + hashlib.sha256(kalshi.api_key_id.encode()).hexdigest()[:12]
