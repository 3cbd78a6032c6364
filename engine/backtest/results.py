"""What a backtest gives back, gathered in memory that does not grow with the run's length.

A day's recording makes hundreds of thousands of orders and one sample of equity per
decision. The samples are kept as two typed arrays (16 bytes a sample instead of a tuple of
boxed numbers); every fill and order is counted and every fill enters the trade figures and
the markouts, read from the scratch ledger as a stream, but only the first KEPT_ROWS of each
are kept as rows (what the runs page stores: storage/research/backtest_runs.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

from contracts.domain import MICRO, Side
from engine.execution.ledger import FillFact, apply_fill
from engine.venues.base import TradeStatus

KEPT_ROWS = 5_000  # fills and orders a result carries as rows (the runs page stores no more)


class Samples(Sequence[tuple[int, float]]):
    """(time ms, value) samples, oldest first, in two arrays; reads like a list of pairs."""

    __slots__ = ("times", "values")

    def __init__(self, points: Iterable[tuple[int, float]] = ()) -> None:
        self.times = array("q")
        self.values = array("d")
        for at, value in points:
            self.add(at, value)

    def add(self, at: int, value: float) -> None:
        self.times.append(at)
        self.values.append(value)

    def repeat(self, first: int, step: int, count: int, value: float) -> None:
        """`count` samples of one value, at `first` and each `step` after it."""
        self.times.extend(range(first, first + count * step, step))
        self.values.extend(array("d", (value,)) * count)

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, index: int) -> tuple[int, float]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, float]]: ...

    def __getitem__(self, index: int | slice) -> tuple[int, float] | list[tuple[int, float]]:
        if isinstance(index, slice):
            return list(zip(self.times[index], self.values[index], strict=True))
        return self.times[index], self.values[index]

    def __iter__(self) -> Iterator[tuple[int, float]]:
        return zip(self.times, self.values, strict=True)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Samples):
            return self.times == other.times and self.values == other.values
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"Samples({len(self)} points)"


class TradeFigures:
    """From fill rows in match order: the realized PnL (pUSD) of each fill that closed shares,
    the fees paid (micro-pUSD) and the number of trades. Stepped through the ledger's own
    average-cost rule, per token, so a ghost (FAILED) fill counts nowhere, as in the ledger."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[int, int]] = {}  # token -> (shares, cost)
        self.closes: list[float] = []  # one per closing fill: bounded by the fills, a few floats each
        self.opened: dict[str, int] = {}  # token -> when its holding's first share was bought (ms)
        self.holdings: list[int] = []  # each closed round trip's holding time (ms)
        self.fees = self.trades = 0

    def step(self, row: dict[str, Any]) -> None:
        fill = FillFact(Side(row["side"]), row["price"], row["size"], row["fee"], TradeStatus(row["status"]))
        if fill.status is TradeStatus.FAILED:
            return
        shares, cost = self.held.get(row["token_id"], (0, 0))
        step = apply_fill(shares, cost, fill)
        self.held[row["token_id"]] = (shares + step.shares, step.cost)
        self._round_trip(row["token_id"], shares, shares + step.shares, row.get("matched_at"))
        if step.realized is not None:
            self.closes.append(step.realized / MICRO)
        self.fees, self.trades = self.fees + step.fee, self.trades + 1


    def _round_trip(self, token: str, before: int, after: int, at: Any) -> None:
        if not isinstance(at, int):
            return
        if before <= 0 < after:
            self.opened[token] = at
        elif before > 0 >= after and token in self.opened:
            self.holdings.append(at - self.opened.pop(token))


def kept_rows(rows: Iterable[dict[str, Any]], kept: list[dict[str, Any]],
              limit: int = KEPT_ROWS) -> Iterator[dict[str, Any]]:
    """Passes every row on, keeping the first `limit` in `kept` (the same dicts: what a later
    step writes into a row shows in the kept one)."""
    for row in rows:
        if len(kept) < limit:
            kept.append(row)
        yield row
