"""Portfolio valuation's writes: a row of `portfolio_snapshots` for the desk and one of
`strategy_snapshots` per strategy (storage/dashboard_queries/portfolio_queries.py reads them back for the
dashboard). The figures come from engine/execution/portfolio.py, in micro-pUSD; the caller's
transaction holds both writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import Connection, text


class StrategyFigures(Protocol):
    """What a strategy snapshot stores (engine/execution/portfolio.py's StrategyBook)."""

    @property
    def realized(self) -> int: ...
    @property
    def unrealized(self) -> int: ...
    @property
    def fees(self) -> int: ...
    @property
    def exposure(self) -> int: ...


class DeskFigures(StrategyFigures, Protocol):
    """What a desk snapshot stores (engine/execution/portfolio.py's Valuation): a strategy's
    figures and the cash, the positions' value at the mid and at the bids, equity, and what
    the venue owes."""

    @property
    def cash(self) -> int: ...
    @property
    def positions_value(self) -> int: ...
    @property
    def liquidation_value(self) -> int: ...
    @property
    def equity(self) -> int: ...
    @property
    def redeemable(self) -> int: ...


def write_strategy_snapshots(conn: Connection, mode: str, books: Mapping[str, StrategyFigures], now: int,
                             venue: str) -> None:
    if books:
        conn.execute(text("""INSERT INTO strategy_snapshots (mode, venue, strategy, at, realized, unrealized, fees,
                                 exposure)
                             VALUES (:mode, :venue, :strategy, :at, :realized, :unrealized, :fees, :exposure)"""),
                     [{"mode": mode, "venue": venue, "strategy": name, "at": now, "realized": b.realized,
                       "unrealized": b.unrealized, "fees": b.fees, "exposure": b.exposure}
                      for name, b in books.items()])


def write_snapshot(conn: Connection, mode: str, valuation: DeskFigures, now: int, kind: str,
                   venue: str) -> None:
    conn.execute(
        text("""INSERT INTO portfolio_snapshots (mode, venue, at, kind, cash, positions_value, liquidation_value,
                    equity, realized, unrealized, fees, exposure, redeemable)
                VALUES (:mode, :venue, :at, :kind, :cash, :pv, :lv, :eq, :realized, :unrealized, :fees, :exposure,
                    :redeemable)"""),
        {"mode": mode, "venue": venue, "at": now, "kind": kind, "cash": valuation.cash,
         "pv": valuation.positions_value,
         "lv": valuation.liquidation_value, "eq": valuation.equity, "realized": valuation.realized,
         "unrealized": valuation.unrealized, "fees": valuation.fees, "exposure": valuation.exposure,
         "redeemable": valuation.redeemable},
    )
