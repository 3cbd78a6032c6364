"""A Kalshi key as the account's `GET /api_keys` describes it, judged (pure): its scopes, whether it is
restricted to one subaccount, and how long the account's location attestation holds.

Kalshi's API keys (OpenAPI 3.31.0, changelog 2026-07-02 and 2026-08-16): a key carries its scopes
(`write` or its `write::trade` child trades), may be restricted to one subaccount (it then reads and
trades that subaccount only: the desk, which names no subaccount, trades the key's), and the account
answers `api_key_region_expiration_ts`, when its location attestation expires: a past value means it
has lapsed, absent means it never attested. What a lapse does is in the changelog of 2026-08-16 ("API
key location attestation expiry"): "once this date has passed, API keys are not valid for trading
Sports, Elections, and Entertainment markets" (RESTRICTED). An account that never attested is read
the same way (the stricter reading: nothing says it may trade them). Within WARN_DAYS an alert asks the
operator to renew it; the desk holds its orders in those markets while it has lapsed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

WARN_DAYS = 14
DAY_MS = 86_400_000
TRADE_SCOPES = frozenset({"write", "write::trade"})
Attestation = Literal["ok", "expiring", "lapsed", "never"]
RENEW = "attest the account's location again on Kalshi (its API keys page) before it lapses"
# The categories (a series' `categories`) whose markets a key without a valid attestation may not trade.
RESTRICTED = ("Sports", "Elections", "Entertainment")


def restricted(categories: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Which of a market's categories a lapsed attestation bars (case as Kalshi writes them, compared without)."""
    barred = {c.lower() for c in RESTRICTED}
    return tuple(c for c in categories if c.lower() in barred)


@dataclass(frozen=True)
class KeyVerdict:
    attestation: Attestation
    expires_ms: int | None
    trades: bool  # the key has a scope that places and cancels orders
    subaccount: int | None  # the subaccount a restricted key trades (None: unrestricted, the primary account)
    listed: bool  # the key is among the account's keys

    @property
    def barred(self) -> bool:
        """Whether Kalshi refuses the key's orders in the RESTRICTED categories' markets now."""
        return self.attestation in ("lapsed", "never")

    @property
    def alert(self) -> bool:
        """Whether the operator must act (the attestation lapses soon, has lapsed, or was never made)."""
        return self.attestation != "ok"

    def words(self, now_ms: int) -> str:
        """What the verdict means, for the preflight and the alert."""
        if self.attestation == "never":
            return "Kalshi says the account never attested its location (no api_key_region_expiration_ts)"
        assert self.expires_ms is not None
        when = datetime.fromtimestamp(self.expires_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
        if self.attestation == "lapsed":
            return f"the account's location attestation lapsed at {when}"
        days = (self.expires_ms - now_ms) / DAY_MS
        return f"the account's location attestation expires at {when}, in {days:.1f} days"


def judge(key_id: str, keys: list[tuple[str, tuple[str, ...], int | None]], expires_ms: int | None,
          now_ms: int) -> KeyVerdict:
    """`keys`: (key id, scopes, subaccount) of each of the account's keys."""
    mine = next((k for k in keys if k[0] == key_id), None)
    if expires_ms is None:
        attestation: Attestation = "never"
    elif expires_ms <= now_ms:
        attestation = "lapsed"
    elif expires_ms - now_ms <= WARN_DAYS * DAY_MS:
        attestation = "expiring"
    else:
        attestation = "ok"
    return KeyVerdict(attestation, expires_ms, mine is not None and bool(TRADE_SCOPES & set(mine[1])),
                      mine[2] if mine is not None else None, mine is not None)
