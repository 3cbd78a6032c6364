"""Streaming indicators as strategies and the desk name them: a variant is a kind and its windows,
written `kind:t1` or `kind:t1,t2` (seconds):

- `twap:t1`: the time-weighted average of the YES mid over the last t1 seconds;
- `velocity:t1`: the mid's change over the last t1 seconds, per minute (probability / min);
- `volume_surge:t1,t2`: the shares traded in the last t1 seconds over the average per t1 of the
  last t2 seconds (t2 > t1): 1 is usual, 3 is three times the usual flow.

One instance per (market, variant) serves every strategy that asks for it (engine/trading/
indicator_host.py); the values are recorded and charted on the Markets page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = {"twap": 1, "velocity": 1, "volume_surge": 2}  # kind -> how many windows
WINDOW_S = (1, 86_400)
MAX_VARIANTS = 20
_FORM = re.compile(r"^([a-z_]+):(\d+)(?:,(\d+))?$")


class IndicatorError(ValueError):
    """A variant that is not one; the message says which and why."""


@dataclass(frozen=True, order=True)
class Variant:
    kind: str
    t1_s: int
    t2_s: int | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.t1_s}" + (f",{self.t2_s}" if self.t2_s is not None else "")


def parse_variant(text: str) -> Variant:
    found = _FORM.match(str(text).strip().lower())
    if found is None:
        raise IndicatorError(f"{str(text)[:40]!r} is not an indicator: write kind:seconds or kind:seconds,seconds "
                             f"({', '.join(sorted(KINDS))})")
    kind, t1, t2 = found.group(1), int(found.group(2)), found.group(3)
    if kind not in KINDS:
        raise IndicatorError(f"unknown indicator {kind!r} (known: {', '.join(sorted(KINDS))})")
    if (t2 is not None) != (KINDS[kind] == 2):
        raise IndicatorError(f"{kind} takes {KINDS[kind]} window{'s' if KINDS[kind] == 2 else ''}")
    second = int(t2) if t2 is not None else None
    for seconds in (t1, second):
        if seconds is not None and not WINDOW_S[0] <= seconds <= WINDOW_S[1]:
            raise IndicatorError(f"{kind}: a window must be {WINDOW_S[0]} to {WINDOW_S[1]:,} seconds")
    if second is not None and second <= t1:
        raise IndicatorError(f"{kind}: its long window ({second} s) must be longer than its short one ({t1} s)")
    return Variant(kind, t1, second)


def parse_variants(raw: object) -> tuple[Variant, ...]:
    """A list of variant names, checked, without repeats."""
    if not isinstance(raw, list) or len(raw) > MAX_VARIANTS:
        raise IndicatorError(f"must be a list of at most {MAX_VARIANTS} indicators, like ['twap:60']")
    return tuple(sorted({parse_variant(item) for item in raw}))
