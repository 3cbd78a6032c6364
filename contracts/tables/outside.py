"""What comes from outside the desk to price its markets: every accepted post of a fair value
(migration 0080), the model-confidence breaker's verdict on each source, and the sports markets
linked by hand to a bookmakers' odds event (migration 0081).

Kept by hand beside the migrations: tests/storage/test_tables.py fails when a class and its
migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class SignalPost(SQLModel, table=True):
    """One accepted fair value from outside, as it came: its source, nonce (unique per source: a
    replay is refused), its source's time and the desk's, how it came (`via`) and who sent it."""

    __tablename__ = "signal_posts"

    id: int | None = Field(default=None, primary_key=True)
    source: str
    condition_id: str
    fair_value: int
    nonce: str
    posted_at: int
    received_at: int
    expires_at: int
    via: str
    actor: str
    confidence: int | None = None
    detail: str | None = None


class SignalSource(SQLModel, table=True):
    """The breaker's verdict on a source: 'feeding' or 'benched', its Brier score (micros) over its
    last resolved markets and how many, when judged and when the verdict last changed, and why."""

    __tablename__ = "signal_sources"

    source: str = Field(primary_key=True)
    state: str
    markets: int
    judged_at: int
    brier: int | None = None
    changed_at: int | None = None
    reason: str | None = None


class OddsLink(SQLModel, table=True):
    """A market linked by hand to an event of the odds feed: the outcome whose win is its YES."""

    __tablename__ = "odds_links"

    condition_id: str = Field(primary_key=True)
    event_id: str
    outcome: str
    created_at: int
    created_by: str


class PollLink(SQLModel, table=True):
    """A market linked by hand to a race of the poll feed: the option whose lead in the vote is its YES."""

    __tablename__ = "poll_links"

    condition_id: str = Field(primary_key=True)
    race: str
    option: str
    created_at: int
    created_by: str
