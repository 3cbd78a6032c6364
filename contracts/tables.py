"""Tables of the shared SQLite contract as typed SQLModel classes, for reads that want typed rows.

The schema itself is made by storage/sqlite/migrations.py; a class here describes a table as it stands
after them, and tests/storage/test_tables.py fails when the two differ (issue 35 begins here:
one table, read by the catalog).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class MarketEvent(SQLModel, table=True):
    """A Gamma event holding neg-risk markets (migration 0030), read by the catalog to judge sets."""

    __tablename__ = "market_events"

    id: str = Field(primary_key=True)
    title: str
    neg_risk_market_id: str | None = None
    augmented: int  # 0 or 1: negRiskAugmented (named outcomes, placeholders and an Other market)
    updated_at: int  # epoch ms
