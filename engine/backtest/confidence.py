"""How sure a backtest's PnL and markouts are: each fill's share of them, gathered as the fills are
marked out, summed by round trip, and the round trips' bootstrap intervals (contracts/bootstrap.py says
how and why over round trips, not fills).

A fill's share of the PnL is its markout against its token's mid at the end of the replayed range
(the value the run's equity holds it at), less its fee; the shares summed are the run's trading
PnL. A round trip is a market's fills from a flat position (YES held less NO held) back to flat, or
across it (the fill that crosses ends it); what a market still holds at the end is its last one. The
interval is centred on the PnL the equity curve shows: what the fills do not carry (liquidity rewards,
rebates, marks that differ from the last mid) counts as it was. Kept as typed arrays, 8 bytes a
round trip and figure.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

from contracts.bootstrap import MIN_UNITS, UNIT, Interval, no_interval, sum_intervals
from contracts.domain import MICRO, ONE, Outcome, Side
from engine.analytics.markouts import HORIZON_NAMES, FillPoint, markout

FLAT = 10_000  # micro-shares: a position under a hundredth of a share is flat (rounding dust)


class FillShares:
    """Each round trip's share of the PnL and its markout at each horizon (pUSD; 0 where a fill has none)."""

    def __init__(self, end_mid: Callable[[str], int | None]) -> None:
        self.end_mid = end_mid  # a token's mid at the end of the range (None: never recorded)
        self._ends: dict[str, int | None] = {}
        self.pnl = array("d")  # by round trip
        self.markouts = {name: array("d") for name in HORIZON_NAMES}
        self.counted = dict.fromkeys(HORIZON_NAMES, 0)  # fills each horizon measured
        self.fills = 0
        self._open: dict[str, tuple[int, int]] = {}  # market -> (its round trip's index, net YES held)
        self._prices: set[int] = set()  # the YES prices filled at (two are enough to know)

    def add(self, token: str, fill: FillPoint, fee: int, marks: dict[str, int | None], market: str = "",
            outcome: Outcome = Outcome.YES) -> None:
        """One fill (in time order) of `market`'s `outcome` token."""
        if token not in self._ends:
            self._ends[token] = self.end_mid(token)
        end = self._ends[token]
        unit = self._unit(market or token, fill, outcome)
        self.pnl[unit] += ((0 if end is None else markout(fill, end)) - fee) / MICRO
        for name in HORIZON_NAMES:
            value = marks.get(name)
            self.markouts[name][unit] += 0.0 if value is None else value / MICRO
            self.counted[name] += value is not None
        self.fills += 1
        if len(self._prices) < 2:
            self._prices.add(fill.price if outcome is Outcome.YES else ONE - fill.price)

    def _unit(self, market: str, fill: FillPoint, outcome: Outcome) -> int:
        """The index of the round trip `fill` belongs to (a new one from flat); it ends at flat or across it."""
        signed = fill.size if (fill.side is Side.BUY) == (outcome is Outcome.YES) else -fill.size
        unit, held = self._open.get(market, (-1, 0))
        if unit < 0:
            unit = len(self.pnl)
            self.pnl.append(0.0)
            for column in self.markouts.values():
                column.append(0.0)
        after = held + signed
        if abs(after) < FLAT or (held > 0 > after) or (held < 0 < after):
            self._open.pop(market, None)  # back to flat (or across it): the next fill starts the next one
        else:
            self._open[market] = (unit, after)
        return unit

    def fields(self, pnl: float, seed: int) -> dict[str, Any]:
        """The run's intervals as flat metrics: `pnl_low`, `pnl_high`, `pnl_p_value`, the fills and round trips
        they rest on, `markout_<horizon>_low` / `_high` (pUSD), or `interval_none`: why there is none, in words."""
        out: dict[str, Any] = {"interval_fills": self.fills, "interval_units": len(self.pnl), "interval_unit": UNIT}
        price = next(iter(self._prices)) if len(self._prices) == 1 else None
        why = no_interval(list(self.pnl), len(self._prices), price)
        if why is not None:
            return {**out, "interval_none": why}
        names = [name for name in HORIZON_NAMES if self.counted[name]]
        columns = [self.pnl, *(self.markouts[name] for name in names)]
        found = sum_intervals(columns, offsets=[pnl - sum(self.pnl)] + [0.0] * len(names), seed=seed)
        out |= _pnl_fields(found[0])
        for name, interval in zip(names, found[1:], strict=True):
            if interval is not None and self.counted[name] >= MIN_UNITS:
                out[f"markout_{name}_low"], out[f"markout_{name}_high"] = interval.low, interval.high
        return out


def _pnl_fields(interval: Interval | None) -> dict[str, Any]:
    if interval is None:
        return {}
    return {"pnl_low": interval.low, "pnl_high": interval.high, "pnl_p_value": interval.p_value}
