"""Whether a venue host moves real money: what lets every surface say "real money" only when it is so.

The desk arms a venue live against whatever host its settings name: the real Polymarket or Kalshi,
Kalshi's demo (mock funds), or the local simulator (127.0.0.1). Live against the simulator or the
demo is a rehearsal, and saying "real money" there would teach the operator to ignore the words.
The engine records the hosts it really talks to at its start (engine_state, migration 0061); this
judges them.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# Hosts that answer like a venue but hold mock funds (Kalshi's demo environment).
MOCK_FUNDS_HOSTS = frozenset({"demo-api.kalshi.co"})


def real_money(host: str | None) -> bool | None:
    """True for a venue on the public internet, False for a local or private address or a mock-funds
    host, None when the host is not known (no engine of this release has started)."""
    if not host:
        return None
    name = (urlsplit(host).hostname or "").lower()
    if not name or name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name not in MOCK_FUNDS_HOSTS
    return not (address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified)


def where(host: str | None) -> str:
    """The host as the operator reads it: its name alone (never a path or a query)."""
    if not host:
        return "a venue not read yet"
    return urlsplit(host).hostname or host
