"""A followed wallet's trade as both sources give it: the venue's real-time trade stream (RTDS
`activity`/`trades`, stream.py) and the Data API's `/trades` (poller.py). Both use the Data API's
trade-row shape (`proxyWallet`, `conditionId`, `asset`, `side`, `price`, `size`, `timestamp`,
`transactionHash`), so one reading serves both and the same fill gets the same key from either:
its transaction, token, side, price and size in micro-units (never the float's spelling), and, for
a second identical fill in one transaction (two of the wallet's orders hit at one price and size),
`#1`, `#2`... in the order the source lists them. The key is what makes each trade kept once.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

from contracts.domain import ONE, BadNumber, to_micros
from storage.engine_stores.follow_store import Followed

KEY_CHARS = 300
MAX_SHARES = 10**10  # more than any market's supply, and what fits in micro-units in SQLite
TRADE_TIMES_S = (1_577_836_800, 4_102_444_800)  # 2020-01-01 to 2100-01-01: a trade time outside is no trade's
MS_FROM = 10**11  # a trade time above this is in milliseconds (the Data API's are seconds)


def unreadable(row: Any) -> str:
    """Why a trade row cannot be kept ("" when it can)."""
    if not isinstance(row, Mapping):
        return "not an object"
    cid, asset, side = row.get("conditionId"), row.get("asset"), row.get("side")
    if not isinstance(cid, str) or not cid.startswith("0x") or len(cid) != 66:
        return "no condition id"
    if not isinstance(asset, str) or not asset.isdigit() or len(asset) > 100:
        return "no token id"
    if side not in ("BUY", "SELL"):
        return "a side that is not BUY or SELL"
    price, size, at = row.get("price"), row.get("size"), row.get("timestamp")
    if not 0 < _micros(price) < ONE:
        return "a price outside (0, 1)"
    if not 0 < _micros(size):
        return "a size that is not above 0"
    if _micros(size) > MAX_SHARES * ONE:
        return f"a size above {MAX_SHARES:.0e} shares"
    if isinstance(at, bool) or not isinstance(at, int) or at <= 0:
        return "no time"
    if not TRADE_TIMES_S[0] <= (at // 1000 if at > MS_FROM else at) <= TRADE_TIMES_S[1]:
        return "a time no trade has (before 2020 or after 2100)"
    tx = row.get("transactionHash")
    if not isinstance(tx, str) or not tx or len(tx) > 100:
        return "no transaction"
    return ""


def _micros(value: Any) -> int:
    """A JSON number in micro-units; 0 for anything else (a bool, a string, NaN, infinity); a number
    too large to read (1e300) as one past every bound, with its sign."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    try:
        return to_micros(str(value))
    except BadNumber:
        return sys.maxsize if value > 0 else -sys.maxsize


def wallet_of(row: Mapping[str, Any]) -> str:
    wallet = row.get("proxyWallet")
    return wallet.lower() if isinstance(wallet, str) else ""


def at_ms(row: Mapping[str, Any]) -> int:
    """When it traded, in ms (the Data API gives seconds; a stream in ms is read as such)."""
    at = int(row["timestamp"])
    return at if at > MS_FROM else at * 1000


def base_key(row: Mapping[str, Any]) -> str:
    price, size = to_micros(str(row["price"])), to_micros(str(row["size"]))
    return f"{str(row['transactionHash']).lower()}:{row['asset']}:{row['side']}:{price}:{size}"


def followed(row: Mapping[str, Any], wallet: str, label: str, occurrence: int) -> Followed:
    """The row as kept; `occurrence`: how many identical fills of this transaction came before it."""
    key = base_key(row) + (f"#{occurrence}" if occurrence else "")
    return Followed(wallet, label, key[:KEY_CHARS], row["conditionId"], str(row["asset"]), row["side"],
                    to_micros(str(row["price"])), to_micros(str(row["size"])), at_ms(row))


class Occurrences:
    """Counts identical fills (same base key) as a source lists them, bounded (oldest forgotten)."""

    def __init__(self, keep: int = 20_000) -> None:
        self.keep = keep
        self.seen: dict[str, int] = {}

    def next(self, key: str) -> int:
        n = self.seen.pop(key, 0)
        self.seen[key] = n + 1
        while len(self.seen) > self.keep:
            self.seen.pop(next(iter(self.seen)))
        return n
