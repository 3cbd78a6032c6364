"""Order and market-data latency, as the operator names it: the paper venue's and the
backtest's model of how long the desk's requests take to act at the venue.

Three kinds, written as text (a setting, a CLI flag, a form field):

- ``zero``: requests act the moment they are sent (the old paper venue; chosen explicitly);
- ``constant:ENTRY,CANCEL,DATA`` (ms): a placement acts ENTRY ms after it is sent, a cancel
  CANCEL ms after, and everything the desk decides is DATA ms behind the venue (its market
  data's delay), so each request acts DATA + ENTRY (or DATA + CANCEL) ms after the decision;
  ``constant`` alone is the default figures below;
- ``measured[:DATA]``: ENTRY and CANCEL drawn from the desk's own live placement round trips
  (the time each placement took to be answered, as the orders table records it), DATA as given
  (default below): the desk does not measure its feed's delay.

DEFAULT is what a desk on a VPS in the US east meets: a public measurement of HTTPS time to first
byte from US-East to the venue's order API gives about 88 ms; a placement also waits for
matching, so 150 ms per request, and a market-data delay of 50 ms (half a round trip). Where
unsure the figures lean long, which never flatters a strategy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["zero", "constant", "measured"]
MAX_MS = 60_000
DEFAULT_ENTRY_MS, DEFAULT_CANCEL_MS, DEFAULT_DATA_MS = 150, 150, 50
DEFAULT = f"constant:{DEFAULT_ENTRY_MS},{DEFAULT_CANCEL_MS},{DEFAULT_DATA_MS}"
FORMS = "zero, constant (or constant:ENTRY,CANCEL,DATA in ms), or measured (or measured:DATA)"


class LatencyError(ValueError):
    """A latency that cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class LatencySpec:
    kind: Kind
    entry_ms: int = 0  # constant only (measured draws it)
    cancel_ms: int = 0
    data_ms: int = 0

    @property
    def text(self) -> str:
        """The spec as it is written (parse_latency(spec.text) == spec)."""
        if self.kind == "zero":
            return "zero"
        if self.kind == "measured":
            return f"measured:{self.data_ms}"
        return f"constant:{self.entry_ms},{self.cancel_ms},{self.data_ms}"

    def describe(self) -> str:
        """For a person: what each request waits."""
        if self.kind == "zero":
            return "zero latency (requests act at once)"
        if self.kind == "measured":
            return (f"measured: orders and cancels as the desk's live placements took, market data {self.data_ms} ms "
                    "behind")
        return (f"constant: orders {self.entry_ms} ms, cancels {self.cancel_ms} ms, market data {self.data_ms} ms "
                "behind")


def parse_latency(raw: object) -> LatencySpec:
    """`raw` as a LatencySpec, or LatencyError naming what is wrong and what is accepted."""
    if not isinstance(raw, str) or not raw.strip():
        raise LatencyError(f"latency must be one of: {FORMS}")
    kind, _, figures = raw.strip().lower().partition(":")
    kind = kind.strip()
    parts = [p.strip() for p in figures.split(",")] if figures.strip() else []
    if kind == "zero" and not parts:
        return LatencySpec("zero")
    if kind == "constant":
        if not parts:
            return LatencySpec("constant", DEFAULT_ENTRY_MS, DEFAULT_CANCEL_MS, DEFAULT_DATA_MS)
        entry, cancel, data = _milliseconds(parts, 3, "constant:ENTRY,CANCEL,DATA")
        return LatencySpec("constant", entry, cancel, data)
    if kind == "measured":
        (data,) = _milliseconds(parts, 1, "measured:DATA") if parts else (DEFAULT_DATA_MS,)
        return LatencySpec("measured", data_ms=data)
    raise LatencyError(f"latency {raw.strip()[:40]!r} is not understood; use {FORMS}")


def _milliseconds(parts: list[str], count: int, form: str) -> tuple[int, ...]:
    if len(parts) != count:
        raise LatencyError(f"latency {form} takes {count} whole number{'s' if count > 1 else ''} of ms, "
                           f"not {len(parts)}")
    values = []
    for part in parts:
        if not part.isdigit():
            raise LatencyError(f"latency {form}: {part[:20]!r} is not a whole number of ms")
        value = int(part)
        if value > MAX_MS:
            raise LatencyError(f"latency {form}: {value} ms is over the {MAX_MS:,} ms allowed")
        values.append(value)
    return tuple(values)
