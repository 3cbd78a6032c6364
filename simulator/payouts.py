"""What the venue's daily programs share when they pay: the schedule and the transfer.

Maker rebates (rebates.py) and liquidity rewards (rewards.py) are both paid at 00:00 UTC by
default (every `period_s` seconds otherwise) from an internal account of the venue, each payment
listed as an activity of its kind with a fresh transaction hash.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .accounts import Ledger
from .activity import ActivityLog

DAY_S = 86_400


def utc_day(ts_s: float) -> str:
    return datetime.fromtimestamp(ts_s, tz=UTC).strftime("%Y-%m-%d")


def next_payout_in(period_s: float, now: float) -> float:
    """Seconds until the next scheduled payout: 00:00 UTC for a daily period."""
    if period_s == DAY_S:
        return DAY_S - now % DAY_S
    return period_s


def pay(ledger: Ledger, activity: ActivityLog, source: str, maker: str, amount: int, kind: str, label: str) -> None:
    """Move `amount` from the venue's `source` account to `maker` and list it as a `kind` activity."""
    ledger.account(source, internal=True).pusd -= amount
    ledger.account(maker).pusd += amount
    activity.record(maker, kind, amount, 0, activity.tx_hash(label))
