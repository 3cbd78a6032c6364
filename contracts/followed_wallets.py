"""Wallets the desk follows: what the `followed_wallets` setting holds, and its validation.

    [{"address": "0x…40 hex", "label": "whale-1", "enabled": true}]

The engine polls each enabled wallet's public trades from the Data API (engine/venues/polymarket/follow/) and keeps
them (`followed_trades`); a `copy_trading` strategy copies them, scaled, delayed and capped by its
own params, in its own markets, through the risk gate like any order. A label names the wallet
everywhere (the Strategies page, a strategy's `wallets` param, the decisions log); the address is
public data, not a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_WALLETS = 20
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_KEYS = {"address", "label", "enabled"}


class FollowError(ValueError):
    """The followed wallets do not validate; the message names the row and the field."""


@dataclass(frozen=True)
class FollowedWallet:
    address: str  # lower case
    label: str
    enabled: bool = True


def parse_wallets(raw: Any) -> tuple[FollowedWallet, ...]:
    if not isinstance(raw, list):
        raise FollowError("must be a list of wallets ([] for none)")
    if len(raw) > MAX_WALLETS:
        raise FollowError(f"at most {MAX_WALLETS} wallets, not {len(raw)}")
    wallets = tuple(_wallet(item, n) for n, item in enumerate(raw, 1))
    for field, values in (("label", [w.label for w in wallets]), ("address", [w.address for w in wallets])):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise FollowError(f"two wallets have the same {field} ({repeated[0]})")
    return wallets


def check_wallets(raw: Any) -> list[dict[str, Any]]:
    """The wallets as they are stored, or FollowError naming what is wrong."""
    return [{"address": w.address, "label": w.label, "enabled": w.enabled} for w in parse_wallets(raw)]


def _wallet(item: Any, n: int) -> FollowedWallet:
    where = f"wallet {n}"
    if not isinstance(item, Mapping):
        raise FollowError(f"{where}: must be an object with address and label")
    unknown = sorted(str(k)[:40] for k in item if k not in _KEYS)
    if unknown:
        raise FollowError(f"{where}: unknown field {unknown[0]!r} (known: address, enabled, label)")
    address = item.get("address")
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise FollowError(f"{where}: address must be a wallet address (0x and 40 hex digits): the proxy wallet "
                          "its profile shows")
    label = item.get("label")
    if not isinstance(label, str) or not _LABEL.match(label):
        raise FollowError(f"{where}: label must be 1 to 40 lower-case letters, digits, '_', '.' or '-'")
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        raise FollowError(f"{where}: enabled must be true or false")
    return FollowedWallet(address.strip().lower(), label, enabled)
