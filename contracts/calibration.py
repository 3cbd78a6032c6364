"""Calibration: how well a strategy's stated probabilities of YES matched what markets resolved to.
Pure functions; the Strategies page and the backtest compute with them, so a backtest's score is
the desk's score on the same forecasts.

- A forecast is a probability of YES a strategy stated for a market (the `forecasts` table: value
  betting's fair value, written when it moves). Only markets with a resolution are scored; the
  outcome is what one YES paid (1, 0, or 0.5 for a 50/50).
- **Brier score** of a market: the mean of (p − outcome)² over the forecasts stated for it; of a
  strategy: the mean over its resolved markets, so each market counts once however often its
  forecast moved. 0 is perfect; always saying 0.5 scores 0.25.
- **Calibration**: every forecast in ten bins of p, each with its mean p and the mean outcome of
  the forecasts in it; a calibrated strategy's bins lie on the diagonal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from contracts.domain import ONE

BINS = 10
COIN = 0.25  # the Brier score of always stating 0.5


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    forecasts: int
    mean_probability: float
    observed: float  # the mean outcome (share of YES) of the forecasts in the bin


@dataclass(frozen=True, slots=True)
class MarketScore:
    condition_id: str
    forecasts: int
    mean_probability: float
    outcome: float
    brier: float


@dataclass(frozen=True, slots=True)
class Calibration:
    brier: float | None  # None: no forecast for a resolved market
    markets: tuple[MarketScore, ...]
    bins: tuple[CalibrationBin, ...]

    @property
    def forecasts(self) -> int:
        return sum(m.forecasts for m in self.markets)

    def to_json(self) -> dict[str, Any]:
        return {"brier": self.brier, "markets": [asdict(m) for m in self.markets],
                "bins": [asdict(b) for b in self.bins]}

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> Calibration | None:
        if not raw:
            return None
        return cls(raw.get("brier"), tuple(MarketScore(**m) for m in raw.get("markets", [])),
                   tuple(CalibrationBin(**b) for b in raw.get("bins", [])))


# (condition_id, stated probability of YES, what one YES paid), both in micro-units
ScoredForecast = tuple[str, int, int]


def calibrate(rows: Iterable[ScoredForecast]) -> Calibration:
    by_market: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for condition_id, probability, paid in rows:
        by_market[condition_id].append((probability / ONE, paid / ONE))
    markets = tuple(_market(cid, pairs) for cid, pairs in sorted(by_market.items()))
    brier = sum(m.brier for m in markets) / len(markets) if markets else None
    return Calibration(brier, markets, _bins([pair for pairs in by_market.values() for pair in pairs]))


def _market(condition_id: str, pairs: list[tuple[float, float]]) -> MarketScore:
    outcome = pairs[0][1]
    return MarketScore(condition_id, len(pairs), sum(p for p, _ in pairs) / len(pairs), outcome,
                       sum((p - o) ** 2 for p, o in pairs) / len(pairs))


def _bins(pairs: list[tuple[float, float]]) -> tuple[CalibrationBin, ...]:
    grouped: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for p, o in pairs:
        grouped[min(int(p * BINS), BINS - 1)].append((p, o))
    return tuple(CalibrationBin(k / BINS, (k + 1) / BINS, len(members), sum(p for p, _ in members) / len(members),
                                sum(o for _, o in members) / len(members))
                 for k, members in sorted(grouped.items()))
