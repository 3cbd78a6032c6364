"""Standing orders the engine keeps (migration 0171): trailing stops and icebergs (contracts/standing_orders.py
says what they are; engine/trading/exits/trailing.py and engine/trading/operator/icebergs.py keep them).

Kept by hand: tests/storage/test_tables.py fails when a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class TrailingStop(SQLModel, table=True):
    __tablename__ = "trailing_stops"

    id: int | None = Field(default=None, primary_key=True)
    venue: str
    mode: str
    strategy: str  # the book it guards: a strategy's, or 'manual'
    condition_id: str
    token_id: str
    outcome: str
    distance: int  # micro-probability below the high at which it sells
    high_water: int  # the best bid's high since it started (micro-probability; only rises)
    high_water_at: int
    status: str  # ACTIVE, TRIGGERED, DONE, CANCELLED
    created_at: int
    created_by: str
    updated_at: int
    floor: int | None = None  # the lowest price its sale accepts (the operator's)
    shares: int | None = None  # a manual one: what it sells (NULL: all held)
    triggered_at: int | None = None
    trigger_bid: int | None = None
    leave: int | None = None  # once fired: the shares it leaves held
    detail: str | None = None
    ended_at: int | None = None


class Iceberg(SQLModel, table=True):
    __tablename__ = "icebergs"

    id: int | None = Field(default=None, primary_key=True)
    venue: str
    mode: str
    strategy: str  # the book its slices are booked to ('manual')
    condition_id: str
    token_id: str
    outcome: str
    side: str
    price: int  # the token's, every slice's limit
    total: int  # micro-shares in all
    slice: int  # micro-shares shown at once
    post_only: int
    status: str  # ACTIVE, DONE, CANCELLED, ENDED
    created_at: int
    created_by: str
    updated_at: int
    detail: str | None = None
    ended_at: int | None = None
