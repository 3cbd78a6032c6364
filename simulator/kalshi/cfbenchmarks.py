"""CF Benchmarks' real-time indices as Kalshi relays them (its `cfbenchmarks_value` WebSocket channel),
and the crypto windows that settle on them.

Kalshi's CF Benchmarks Value Feed page: a tick about once a second per index (`BRTI` for BTC,
`ETHUSD_RTI`, `SOLUSD_RTI`, `XRPUSD_RTI`, ...), each message carrying `index_id`, `received_at` (when
Kalshi received the upstream frame, ms), `data` (CF Benchmarks' raw frame, a JSON *string*:
`{"type": "value", "id", "time" (ms), "value"}`), `avg_60s_data` (always: the average of the ticks
before this one in `[time - 60 s, time)`, their count, the window's bounds; with no prior tick, the
current value) and, only in the final minute before a quarter-hour close (`:00`, `:15`, `:30`, `:45`),
`last_60s_windowed_average_15min`: the ticks of `(close - 60 s, time]`, their count (`:01` -> 1 ...
the close tick -> 60) and average. Averages are written to 8 decimals.

Here each index walks (seeded, driftless log-normal, one tick a whole second, `spot_vol` annualised);
a crypto window (`KXBTC15M`, ...: one market a quarter hour, `strike_type` `greater_or_equal`) has as
its price to beat (`floor_strike`) the index's 60-second average when it opens, and resolves Yes when
the average of the 60 ticks before its close is at or above it: the quarter-hour average the channel
accumulates.
"""

from __future__ import annotations

import json
import math
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..spot import SECONDS_A_YEAR, START_PRICES

INDEXES = {"BRTI": "btc", "ETHUSD_RTI": "eth", "SOLUSD_RTI": "sol", "XRPUSD_RTI": "xrp"}
SERIES = {"KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI", "KXSOL15M": "SOLUSD_RTI", "KXXRP15M": "XRPUSD_RTI"}
WINDOW_MS = 60_000
QUARTER_MS = 900_000
KEEP_MS = 20 * 60_000  # ticks kept: a quarter hour and its final minute, with room
RECEIVED_LAG_MS = 40  # how long after CF Benchmarks' time Kalshi's frame says it received it


@dataclass
class Index:
    index_id: str
    price: float
    ticks: deque[tuple[int, float]] = field(default_factory=deque)  # (time ms, value), oldest first


@dataclass(frozen=True)
class Tick:
    index_id: str
    at_ms: int
    value: float


class IndexFeed:
    def __init__(self, seed: int, annual_vol: float, now_ms: int) -> None:
        self.rng = random.Random(f"cfbenchmarks:{seed}")
        self.sigma = annual_vol / math.sqrt(SECONDS_A_YEAR)  # per square-root second
        self.indexes = {i: Index(i, START_PRICES[a]) for i, a in INDEXES.items()}
        self.last_ms = (now_ms // 1000 - 16 * 60) * 1000  # a past, as a running feed has one
        self.advance(now_ms)

    def advance(self, now_ms: int) -> list[Tick]:
        """Every whole second since the last tick that Kalshi has received by now (RECEIVED_LAG_MS after
        it: a frame is never relayed before the `received_at` it carries): each index's next value."""
        made = []
        while self.last_ms + 1000 + RECEIVED_LAG_MS <= now_ms:
            self.last_ms += 1000
            for index in self.indexes.values():
                index.price *= math.exp(self.rng.gauss(0.0, self.sigma))
                index.ticks.append((self.last_ms, index.price))
                while index.ticks and index.ticks[0][0] < self.last_ms - KEEP_MS:
                    index.ticks.popleft()
                made.append(Tick(index.index_id, self.last_ms, index.price))
        return made

    def average(self, index_id: str, low_ms: int, high_ms: int, *, include_high: bool) -> tuple[float, int]:
        """The average and count of the index's ticks in (low, high] or [low, high) (0, 0: none)."""
        chosen = [v for at, v in self.indexes[index_id].ticks
                  if (low_ms < at <= high_ms if include_high else low_ms <= at < high_ms)]
        return (sum(chosen) / len(chosen), len(chosen)) if chosen else (0.0, 0)

    def settlement(self, index_id: str, close_ms: int) -> float | None:
        """The average of the 60 ticks before a close, the close's included (None: none kept)."""
        value, count = self.average(index_id, close_ms - WINDOW_MS, close_ms, include_high=True)
        return value if count else None

    def message(self, tick: Tick) -> dict[str, Any]:
        """The `msg` of a `cfbenchmarks_value` message for a tick."""
        value, count = self.average(tick.index_id, tick.at_ms - WINDOW_MS, tick.at_ms, include_high=False)
        trailing = {"value": _avg(value if count else tick.value), "window_size": count,
                    "window_start_ts_ms": tick.at_ms - WINDOW_MS, "window_end_ts_exclusive": tick.at_ms}
        msg: dict[str, Any] = {
            "index_id": tick.index_id, "received_at": tick.at_ms + RECEIVED_LAG_MS,
            "data": json.dumps({"type": "value", "id": tick.index_id, "time": tick.at_ms,
                                "value": f"{tick.value:.2f}"}, separators=(",", ":")),
            "avg_60s_data": trailing}
        close = -(-tick.at_ms // QUARTER_MS) * QUARTER_MS  # the quarter-hour close at or after this tick
        if close - WINDOW_MS < tick.at_ms <= close:
            value, count = self.average(tick.index_id, close - WINDOW_MS, tick.at_ms, include_high=True)
            msg["last_60s_windowed_average_15min"] = {
                "value": _avg(value), "window_size": count, "window_start_ts_ms": close - WINDOW_MS,
                "window_end_ts_exclusive": close + 1}
        return msg


def _avg(value: float) -> str:
    return f"{value:.8f}"
