"""Backtest runs.

Generated once from the migrated schema, then kept by hand: tests/storage/test_tables.py fails when
a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class StrategyRun(SQLModel, table=True):
    __tablename__ = "strategy_runs"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    created_at: int
    status: str
    strategy_kind: str
    params: str
    markets: str
    from_at: int
    to_at: int
    seed: int
    source: str
    progress: int
    events: int
    finished_at: int | None = None
    metrics: str | None = None
    equity_curve: str | None = None
    trades: str | None = None
    error: str | None = None
    pid: int | None = None
    orders: str | None = None
    latency: str | None = None
    capital: int | None = None  # the run's starting cash, micro-pUSD (migration 0071)
    limits: str | None = None  # the strategy's own limits, JSON (migration 0171); NULL: the defaults
