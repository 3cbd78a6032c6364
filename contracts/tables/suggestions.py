"""Pairs suggested across venues and strategy templates (migrations 0141 and 0142)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PairSuggestion(SQLModel, table=True):
    """A market of the other venue likely to ask a watched market's question (engine/cli/pair_suggest.py);
    `parts` the JSON of how its score was made; `status` open or rejected (never offered again)."""

    __tablename__ = "pair_suggestions"

    id: int | None = Field(default=None, primary_key=True)
    condition_id: str
    kalshi_ticker: str
    watched: str
    polymarket_question: str
    kalshi_title: str
    polymarket_end_at: int | None = None
    kalshi_close_at: int | None = None
    score: int
    parts: str
    status: str
    found_at: int
    updated_at: int
    decided_at: int | None = None
    decided_by: str | None = None


class KalshiListing(SQLModel, table=True):
    """Kalshi's open binary markets as a suggestions refresh last read them."""

    __tablename__ = "kalshi_listing"

    ticker: str = Field(primary_key=True)
    title: str
    close_at: int | None = None
    read_at: int


class PairSuggestionRun(SQLModel, table=True):
    """One refresh of the suggestions: what it compared, what it found, or why it failed."""

    __tablename__ = "pair_suggestion_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: int
    started_by: str
    finished_at: int | None = None
    status: str
    watched: int
    listed: int
    listing_read_at: int | None = None
    pages: int
    found: int
    detail: str | None = None


class StrategyTemplate(SQLModel, table=True):
    """A named kind and params to create strategies from; never traded (storage/desk/strategy_templates.py)."""

    __tablename__ = "strategy_templates"

    name: str = Field(primary_key=True)
    kind: str
    params: str
    version: int
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str
