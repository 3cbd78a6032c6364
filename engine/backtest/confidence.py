"""How sure a backtest's PnL and markouts are: each fill's share of them, gathered as the fills are
marked out, and their bootstrap intervals (contracts/bootstrap.py says how and why over fills).

A fill's share of the PnL is its markout against its token's mid at the end of the replayed range
(the value the run's equity holds it at), less its fee; the shares summed are the run's trading
PnL. The interval is centred on the PnL the equity curve shows: what the fills do not carry
(liquidity rewards, rebates, marks that differ from the last mid) counts as it was. Kept as typed
arrays, 8 bytes a fill and figure.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from typing import Any

from contracts.bootstrap import MIN_SAMPLES, Interval, sum_intervals
from contracts.domain import MICRO
from engine.analytics.markouts import HORIZON_NAMES, FillPoint, markout


class FillShares:
    """Each fill's share of the PnL and its markout at each horizon (pUSD; 0 where it has none)."""

    def __init__(self, end_mid: Callable[[str], int | None]) -> None:
        self.end_mid = end_mid  # a token's mid at the end of the range (None: never recorded)
        self._ends: dict[str, int | None] = {}
        self.pnl = array("d")
        self.markouts = {name: array("d") for name in HORIZON_NAMES}
        self.counted = dict.fromkeys(HORIZON_NAMES, 0)

    def add(self, token: str, fill: FillPoint, fee: int, marks: dict[str, int | None]) -> None:
        if token not in self._ends:
            self._ends[token] = self.end_mid(token)
        end = self._ends[token]
        self.pnl.append(((0 if end is None else markout(fill, end)) - fee) / MICRO)
        for name in HORIZON_NAMES:
            value = marks.get(name)
            self.markouts[name].append(0.0 if value is None else value / MICRO)
            self.counted[name] += value is not None

    def fields(self, pnl: float, seed: int) -> dict[str, Any]:
        """The run's intervals as flat metrics: `pnl_low`, `pnl_high`, `pnl_p_value`, the fills they
        resample, and `markout_<horizon>_low` / `_high` (pUSD; None under MIN_SAMPLES fills)."""
        names = [name for name in HORIZON_NAMES if self.counted[name]]
        columns = [self.pnl, *(self.markouts[name] for name in names)]
        offset = pnl - sum(self.pnl)
        found = sum_intervals(columns, offsets=[offset] + [0.0] * len(names), seed=seed)
        out: dict[str, Any] = {"interval_fills": len(self.pnl), **_pnl_fields(found[0])}
        for name, interval in zip(names, found[1:], strict=True):
            if interval is not None and self.counted[name] >= MIN_SAMPLES:
                out[f"markout_{name}_low"], out[f"markout_{name}_high"] = interval.low, interval.high
        return out


def _pnl_fields(interval: Interval | None) -> dict[str, Any]:
    if interval is None:
        return {}
    return {"pnl_low": interval.low, "pnl_high": interval.high, "pnl_p_value": interval.p_value}
