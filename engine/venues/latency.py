"""Latency models: how long after a decision its placement or cancel acts at the paper venue.

A model is a written spec (contracts/latency_spec.py) plus, for `measured`, the desk's own live
placement round trips to draw from. The desk's market data is DATA ms behind the venue, so a
request acts DATA + ENTRY (or DATA + CANCEL) ms after the decision that sent it: the recording
a backtest replays carries the times the desk received each change, and a live paper venue
fills against the books the feed delivered, so the delay of both is added to the request.
Draws come from the venue's own seeded generator: a backtest is reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from contracts.latency_spec import DEFAULT, LatencySpec, parse_latency
from storage.engine_stores.trading_reads import live_round_trips
from storage.sqlite.db import Database

MIN_ROUND_TRIPS = 20  # fewer live placements than this do not make a distribution


class LatencyUnmeasured(ValueError):
    """`measured` was asked for and the desk has too few live round trips to draw from."""


@dataclass(frozen=True)
class LatencyModel:
    spec: LatencySpec
    round_trips: tuple[int, ...] = ()  # measured: the live placements' answer times (ms)

    @property
    def zero(self) -> bool:
        return self.spec.kind == "zero"

    def order_delay(self, rng: random.Random) -> int:
        return self.spec.data_ms + (rng.choice(self.round_trips) if self.round_trips else self.spec.entry_ms)

    def cancel_delay(self, rng: random.Random) -> int:
        return self.spec.data_ms + (rng.choice(self.round_trips) if self.round_trips else self.spec.cancel_ms)

    def describe(self) -> str:
        if not self.round_trips:
            return self.spec.describe()
        ordered = sorted(self.round_trips)
        median = ordered[len(ordered) // 2]
        return (f"measured from {len(ordered)} live placements (median {median} ms, slowest {ordered[-1]} ms), "
                f"market data {self.spec.data_ms} ms behind")


ZERO = LatencyModel(LatencySpec("zero"))
DEFAULT_MODEL = LatencyModel(parse_latency(DEFAULT))


def resolve(text: str, db: Database) -> LatencyModel:
    """The model `text` names; `measured` reads the live round trips `db` recorded, and raises
    LatencyUnmeasured (saying how many it found) when there are too few."""
    spec = parse_latency(text)
    if spec.kind != "measured":
        return LatencyModel(spec)
    with db.read() as conn:
        trips = live_round_trips(conn)
    if len(trips) < MIN_ROUND_TRIPS:
        raise LatencyUnmeasured(f"latency 'measured' needs at least {MIN_ROUND_TRIPS} live placements the desk "
                                f"has answered; this desk has {len(trips)}. Use constant until it has traded live")
    return LatencyModel(spec, tuple(trips))
