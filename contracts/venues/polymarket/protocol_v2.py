"""Polymarket's Protocol V2 markets as the desk and the dashboard both speak of them.

A market whose Gamma `version` is "v2" trades PositionManager positions (`positionIds`) on
ExchangeV3 (EIP-712 domain version "3"), and its balances are asked as `CONDITIONAL-V2`. The
pinned py-clob-client-v2 signs for ExchangeV3, so orders on them work, paper and live; merges and
redemptions go through Protocol V2's Router (engine/venues/polymarket/onchain_v2.py, from the calls and
addresses of the venue's TypeScript SDK). A neg-risk Protocol V2 market is not traded: its outcome
sets and conversions go through the NegRiskModule, which the desk does not model.
"""

from __future__ import annotations

PROTOCOL_V2 = "v2"  # Gamma's `version` of a Protocol V2 market
KNOWN_VERSIONS = (None, "v1", PROTOCOL_V2)  # None: listed before Protocol V2, a v1 (CTF) market
CONDITIONAL_V2 = "CONDITIONAL-V2"  # the balance-allowance asset type of a Protocol V2 position
NEG_RISK_NOT_SUPPORTED = ("v2: not supported yet (a neg-risk Protocol V2 market: its outcome sets and conversions go "
                          "through the NegRiskModule, which the desk does not model)")


def protocol_label(gamma_version: str | None) -> str:
    """What the Markets page shows as a market's protocol."""
    return "v2 (ExchangeV3)" if gamma_version == PROTOCOL_V2 else "v1 (CTF)"
