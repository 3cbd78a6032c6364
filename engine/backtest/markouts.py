"""A backtest's markouts: each replayed fill against the mids the replay itself saw, with the
desk's own definition (engine/analytics/markouts.py), so a backtest of a recording reports
the numbers the live job would have written for the same fills.

The mids: for a recorded source, the recorder's mid (the same statement the markout job
reads); for imported history, the mid of the synthetic book the replay built around each
history price (its NO book mirrors the YES one). Only mids inside the replayed range count:
a horizon past its end has no markout. At resolution: what the token paid, when the market
had resolved in the desk's database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from contracts.domain import ONE, MarketInfo, Outcome, Side
from contracts.payouts import Payouts
from engine.analytics.markouts import (
    RESOLUTION,
    FillPoint,
    MarkoutSummary,
    horizon_markouts,
    markout,
    resolution_value,
    summarize,
)
from engine.backtest.confidence import FillShares
from engine.backtest.replay import synthetic_levels
from engine.venues.base import TradeStatus
from storage.research.markout_queries import RecordedPrices

METRIC_HORIZONS = ("1s", "10s", "60s", RESOLUTION)


class ReplayedMids:
    def __init__(self, main_db: Path, source: str, markets: list[MarketInfo]) -> None:
        self.prices = RecordedPrices(main_db)
        self.source = source
        self.by_token = {t: m for m in markets for t in (m.yes_token, m.no_token)}

    def mid_at(self, token_id: str, at: int) -> int | None:
        if self.source == "recorded":
            return self.prices.mid_at(token_id, at)
        market = self.by_token[token_id]
        price = self.prices.history_price_at(market.yes_token, at)
        if price is None:
            return None
        bid, ask = synthetic_levels(price, market.tick)
        yes_mid = (bid.price + ask.price) // 2
        return yes_mid if token_id == market.yes_token else ONE - yes_mid

    def close(self) -> None:
        self.prices.close()


def add_markouts(fills: Iterable[dict[str, Any]], mids: ReplayedMids, *, until: int,
                 resolved: dict[str, Payouts | None], shares: FillShares | None = None) -> MarkoutSummary:
    """Writes `markout_<horizon>` (micro-pUSD, None when unknown) into each fill row and returns
    the run's summary; FAILED fills (reversed) get none and are not counted. The fills are
    read once, as they come (a long run's are never all held); each one's share of the PnL and
    its markouts go into `shares` (the run's intervals: engine/backtest/confidence.py)."""
    return summarize(_marked(fills, mids, until, resolved, shares))


def _marked(fills: Iterable[dict[str, Any]], mids: ReplayedMids, until: int, resolved: dict[str, Payouts | None],
            shares: FillShares | None) -> Iterator[tuple[FillPoint, dict[str, int | None]]]:
    for row in fills:
        if row["status"] == TradeStatus.FAILED.value:
            continue
        point = FillPoint(Side(row["side"]), row["price"], row["size"], row["matched_at"])
        marks = {name: value for name, (_, value) in
                 horizon_markouts(point, partial(mids.mid_at, row["token_id"]), until).items()}
        payouts = resolved.get(row["condition_id"])
        if payouts is not None:
            marks[RESOLUTION] = markout(point, resolution_value(payouts.of(Outcome(row["outcome"]))))
        for name in METRIC_HORIZONS:
            row[f"markout_{name}"] = marks.get(name)
        if shares is not None:
            shares.add(row["token_id"], point, row["fee"], marks, row["condition_id"], Outcome(row["outcome"]))
        yield point, marks


def metric_fields(summary: MarkoutSummary) -> dict[str, Any]:
    """The run's markouts as flat metrics: pUSD summed over the fills, bps of their notional, and
    how many fills each horizon measured."""
    fields: dict[str, float | int | None] = {}
    for name in METRIC_HORIZONS:
        fields[f"markout_{name}_usdc"] = summary.usdc(name)
        fields[f"markout_{name}_bps"] = summary.in_bps(name)
        fields[f"markout_{name}_fills"] = summary.counted.get(name, 0)
    return fields
