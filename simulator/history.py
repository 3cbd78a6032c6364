"""Mid-price history for ``GET /prices-history``.

The server samples each market's YES mid on a timer; at startup a seeded random
walk backfills the past (ending at the opening price) so charts are not empty.
Points are stored in YES space; the NO series is 1 - p.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left, bisect_right

from .markets import Market
from .units import ONE, as_float

INTERVALS_S = {"1h": 3600, "6h": 6 * 3600, "1d": 86400, "1w": 7 * 86400, "1m": 30 * 86400}
MAX_POINTS = 250_000  # per market, ~29 days at the default 10 s sampling


class HistoryError(ValueError):
    pass


class PriceHistory:
    def __init__(self) -> None:
        self._ts: dict[str, list[int]] = {}
        self._px: dict[str, list[int]] = {}

    def record(self, market: Market, ts: int, yes_mid: int) -> None:
        ts_list = self._ts.setdefault(market.condition_id, [])
        px_list = self._px.setdefault(market.condition_id, [])
        if ts_list and ts <= ts_list[-1]:
            px_list[-1] = yes_mid  # same second: keep the latest value
            return
        ts_list.append(ts)
        px_list.append(yes_mid)
        if len(ts_list) > MAX_POINTS:
            del ts_list[: MAX_POINTS // 10]
            del px_list[: MAX_POINTS // 10]

    def backfill(self, market: Market, rng: random.Random, now: int, span_s: float, step_s: int = 60) -> None:
        """Seeded walk backwards in logit space from the market's opening belief."""
        steps = int(span_s // step_s)
        x = math.log(market.latent / (1 - market.latent))
        values = []
        for _ in range(steps):
            values.append(x)
            x += rng.gauss(0.0, 0.02)
        values.reverse()  # the last (most recent) value is the opening belief
        for k, value in enumerate(values):
            p = 1 / (1 + math.exp(-value))
            self.record(market, now - (steps - k) * step_s, int(round(p * 1000)) * 1000)

    def query(self, market: Market, is_yes: bool, start: int | None, end: int | None,
              interval: str | None, fidelity_min: int | None, now: int) -> list[dict[str, float | int]]:
        ts_list = self._ts.get(market.condition_id, [])
        px_list = self._px.get(market.condition_id, [])
        lo, hi = _window(start, end, interval, now)
        i, j = bisect_left(ts_list, lo), bisect_right(ts_list, hi)
        bucket = max(1, fidelity_min or 1) * 60
        out: list[dict[str, float | int]] = []
        last_bucket = None
        for ts, px in zip(ts_list[i:j], px_list[i:j], strict=False):
            price = px if is_yes else ONE - px
            point = {"t": ts, "p": as_float(price)}
            if ts // bucket == last_bucket:
                out[-1] = point  # keep the last sample in each bucket
            else:
                out.append(point)
                last_bucket = ts // bucket
        return out


def _window(start: int | None, end: int | None, interval: str | None, now: int) -> tuple[int, int]:
    if start is not None or end is not None:
        return (start or 0), (end if end is not None else now)
    if interval is None:
        raise HistoryError("either interval or startTs/endTs is required")
    if interval == "max":
        return 0, now
    if interval not in INTERVALS_S:
        raise HistoryError(f"invalid interval: {interval}")
    return now - INTERVALS_S[interval], now
