"""Argument types for the command line: each turns text into a value or refuses it with a message
argparse prints as a usage error (exit 2) before anything runs. Standard library only: the CLI
builds its parser on every call, including the quick `status` and `command`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import UTC, datetime

# Polymarket opened in 2020: nothing the desk records or imports can be older. The end of the
# century bounds the other side (a typo, or a number too large for any clock), before any query.
EARLIEST_MS = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp() * 1000)
LATEST_MS = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp() * 1000)
MAX_SEED = 2**31 - 1
MAX_ID = 2**62
MAX_TIMEOUT_S = 3600.0


def _day(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def utc_time(raw: str) -> int:
    """ISO 8601 (UTC when no offset is given) or epoch milliseconds -> epoch ms, from 2020-01-01
    to the end of 2099."""
    text = raw.strip()
    if text.isdigit():
        if len(text) > 16:
            raise argparse.ArgumentTypeError(f"{raw!r} is far too large for a time in epoch milliseconds")
        at = int(text)
        if len(text) <= 10:
            hint = f" (as epoch seconds that would be {_day(at * 1000)}: times are in milliseconds)"
            if at * 1000 >= EARLIEST_MS:
                raise argparse.ArgumentTypeError(f"{raw!r} is before 2020-01-01{hint}")
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{raw!r} is not a time: use e.g. 2026-11-20 or 2026-11-20T14:30 (UTC), or epoch milliseconds"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        at = int(parsed.timestamp() * 1000)
    if at < EARLIEST_MS:
        raise argparse.ArgumentTypeError(f"{raw!r} is before 2020-01-01: Polymarket has no data that old")
    if at >= LATEST_MS:
        raise argparse.ArgumentTypeError(f"{raw!r} is after 2099: no data can be that far ahead")
    return at


def bounded_int(lo: int, hi: int, what: str) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} must be a whole number, not {raw!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} must be between {lo:,} and {hi:,}, not {raw}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def seconds(raw: str) -> float:
    """A wait in seconds: a finite number above 0, at most an hour."""
    try:
        value = float(raw.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {raw!r}") from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT_S:.0f} seconds, not {raw}")
    return value


seed = bounded_int(0, MAX_SEED, "seed")
run_id = bounded_int(1, MAX_ID, "run id")
fidelity = bounded_int(1, 1440, "fidelity (minutes between points)")
