"""The engine's view of market metadata: condition id or token -> MarketInfo.

Loaded from the `markets` table (written by the market refresh job); tests and backtests
can also add markets directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import text

from engine.domain import MarketInfo, Outcome
from storage.db import Database


class MarketCatalog:
    def __init__(self, markets: Iterable[MarketInfo] = ()):
        self._by_id: dict[str, MarketInfo] = {}
        self._by_token: dict[str, MarketInfo] = {}
        self._resolved: dict[str, Outcome] = {}
        for market in markets:
            self.add(market)

    def add(self, market: MarketInfo, resolved: Outcome | None = None) -> None:
        self._by_id[market.condition_id] = market
        self._by_token[market.yes_token] = market
        self._by_token[market.no_token] = market
        if resolved is not None:
            self._resolved[market.condition_id] = resolved

    def get(self, condition_id: str) -> MarketInfo | None:
        return self._by_id.get(condition_id)

    def by_token(self, token_id: str) -> MarketInfo | None:
        return self._by_token.get(token_id)

    def all(self) -> list[MarketInfo]:
        return list(self._by_id.values())

    def resolution(self, condition_id: str) -> Outcome | None:
        return self._resolved.get(condition_id)

    def mark_resolved(self, condition_id: str, winner: Outcome) -> None:
        self._resolved[condition_id] = winner

    def load(self, db: Database) -> int:
        """(Re)load every market from the table; returns how many."""
        with db.read() as conn:
            rows = conn.execute(text("SELECT * FROM markets")).mappings().all()
        for row in rows:
            self.add(market_from_row(row), Outcome(row["resolved_outcome"]) if row["resolved_outcome"] else None)
        return len(rows)


def market_from_row(row: dict) -> MarketInfo:  # type: ignore[type-arg]
    return MarketInfo(
        condition_id=row["condition_id"], question=row["question"], yes_token=row["yes_token"],
        no_token=row["no_token"], tick=row["tick"], min_size=row["min_size"], neg_risk=bool(row["neg_risk"]),
        neg_risk_market_id=row["neg_risk_market_id"], end_ms=row["end_at"], fee_rate_ppm=row["fee_rate_ppm"],
        fee_exponent=row["fee_exponent"], tradable=bool(row["tradable"]),
        accepting_orders=bool(row["accepting_orders"]), closed=bool(row["closed"]), slug=row["slug"],
        tags=tuple(json.loads(row["tags"] or "[]")),
    )
