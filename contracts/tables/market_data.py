"""Markets and what is recorded of them: the catalog, neg-risk events, ticks, price history and its import
progress, signals, recording sessions, reward programs.

Generated once from the migrated schema, then kept by hand: tests/storage/test_tables.py fails when
a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Market(SQLModel, table=True):
    __tablename__ = "markets"

    condition_id: str = Field(primary_key=True)
    question: str
    yes_token: str
    no_token: str
    outcomes: str
    tick: int
    min_size: int
    neg_risk: int
    active: int
    closed: int
    accepting_orders: int
    volume: int
    volume_24h: int
    liquidity: int
    tags: str
    fee_rate_ppm: int
    fee_exponent: int
    tradable: int
    first_seen_at: int
    updated_at: int
    origin: str
    clear_book_on_start: int
    resolution_status: str  # Gamma's umaResolutionStatus, lower case ("" before any proposal)
    gamma_id: str | None = None
    slug: str | None = None
    neg_risk_market_id: str | None = None
    end_at: int | None = None
    gamma_version: str | None = None
    untradable_reason: str | None = None
    resolved_outcome: str | None = None
    fees_at: int | None = None
    event_id: str | None = None
    game_start_at: int | None = None
    payout_yes: int | None = None
    payout_no: int | None = None
    # The venue's listing's prices when last read (migration 0076): YES best bid, best ask and last
    # trade (micro probability; None when the listing had none), and when the desk read them.
    listed_bid: int | None = None
    listed_ask: int | None = None
    listed_last: int | None = None
    listed_at: int | None = None
    # Read from the listing (migration 0092): the share of taker fees rebated to makers (ppm; None: not
    # listed) and UMA's resolution trail (JSON list of the statuses before the current one).
    rebate_ppm: int | None = None
    resolution_history: str = "[]"


class MarketEvent(SQLModel, table=True):
    """A Gamma event holding neg-risk markets (migration 0030), read by the catalog to judge sets."""

    __tablename__ = "market_events"

    id: str = Field(primary_key=True)
    title: str
    augmented: int  # 0 or 1: negRiskAugmented (named outcomes, placeholders and an Other market)
    updated_at: int
    neg_risk_market_id: str | None = None


class EventMember(SQLModel, table=True):
    __tablename__ = "event_members"

    event_id: str = Field(primary_key=True)
    condition_id: str = Field(primary_key=True)
    role: str
    question: str


class Tick(SQLModel, table=True):
    __tablename__ = "ticks"

    id: int | None = Field(default=None, primary_key=True)
    at: int
    token_id: str
    kind: str
    side: str | None = None
    price: int | None = None
    size: int | None = None
    mid: int | None = None
    data: str | None = None


class PricePoint(SQLModel, table=True):
    __tablename__ = "price_history"

    token_id: str = Field(primary_key=True)
    at: int = Field(primary_key=True)
    price: int


class ImportProgress(SQLModel, table=True):
    __tablename__ = "import_progress"

    token_id: str = Field(primary_key=True)
    from_at: int = Field(primary_key=True)
    to_at: int = Field(primary_key=True)
    done_until: int
    points: int
    updated_at: int


class Signal(SQLModel, table=True):
    __tablename__ = "signals"

    condition_id: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    fair_value: int
    version: int
    updated_at: int
    updated_by: str
    expires_at: int | None = None
    detail: str | None = None
    confidence: int | None = None
    via: str | None = None
    posted_at: int | None = None


class RecordingSession(SQLModel, table=True):
    __tablename__ = "recording_sessions"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    notes: str
    markets: str
    started_at: int
    origin: str
    created_by: str
    updated_at: int
    stopped_at: int | None = None
    history: str | None = None  # JSON (migration 0070): source, layouts, prints, gaps


class TickSize(SQLModel, table=True):
    """A token's tick size from `at` on (migration 0070), micro-units; `old_tick` when the venue said."""

    __tablename__ = "tick_sizes"

    token_id: str = Field(primary_key=True)
    at: int = Field(primary_key=True)
    tick: int
    old_tick: int | None = None


class MarketEnd(SQLModel, table=True):
    """How and when a market ended, for backtests to settle at (migration 0146; contracts/resolutions.py):
    `outcome` yes, no, value (a YES paid `yes_pays`, micro-units; NULL: not known) or void; where the desk
    learnt it in `source`."""

    __tablename__ = "market_resolutions"

    condition_id: str = Field(primary_key=True)
    at: int
    outcome: str
    yes_pays: int | None = None
    source: str
    recorded_at: int
    recorded_by: str


class SessionImport(SQLModel, table=True):
    """A session import in progress (migration 0066): whose ticks those are until its session row exists."""

    __tablename__ = "session_imports"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    tokens: str
    markets_added: str
    started_at: int
    stopped_at: int
    first_tick_id: int
    pid: int
    began_at: int


class RewardProgram(SQLModel, table=True):
    __tablename__ = "reward_programs"

    condition_id: str = Field(primary_key=True)
    daily_pool: int
    max_spread: int
    min_size: int
    updated_at: int


class FollowedTrade(SQLModel, table=True):
    """A public trade of a followed wallet (migration 0047): price micro-pUSD per share of its token,
    size micro-shares, `at` when it traded (the Data API's second, in ms)."""

    __tablename__ = "followed_trades"

    id: int | None = Field(default=None, primary_key=True)
    wallet: str
    label: str
    trade_key: str
    condition_id: str
    token_id: str
    side: str
    price: int
    size: int
    at: int
    seen_at: int
    reported_at: int | None = None  # ms, when the venue's stream reported it (migration 0088)
    source: str = "data_api"  # "stream" or "data_api": which kept it first


class FollowCursor(SQLModel, table=True):
    """Per followed wallet: when the desk began following it and the newest trade time (s) the
    Data API has listed (migration 0088)."""

    __tablename__ = "follow_cursors"

    wallet: str = Field(primary_key=True)
    since_ms: int
    updated_at: int
    reconciled_s: int | None = None


class WalletScore(SQLModel, table=True):
    """The wallet finder's result for a wallet, window and leaderboard (migration 0089): money in
    micro-pUSD, the hit rate in micro-units of one, `mix` a JSON list of [market, share]."""

    __tablename__ = "wallet_scores"

    id: int | None = Field(default=None, primary_key=True)
    wallet: str
    category: str
    period: str
    window_days: int
    realized_pnl: int
    closed: int
    trades: int
    markets: int
    volume: int
    scored_at: int
    name: str = ""
    rank: int | None = None
    board_pnl: int | None = None
    board_volume: int | None = None
    hit_rate: int | None = None
    mix: str = "[]"
    complete: int = 1


class UpDownWindow(SQLModel, table=True):
    __tablename__ = "updown_windows"

    condition_id: str = Field(primary_key=True)
    updated_at: int
    priced_by: str | None = None
    price_to_beat: int | None = None  # micro-USD
    beat_from: str | None = None


class IndicatorValue(SQLModel, table=True):
    """A streaming indicator's value for a market at a minute (migration 0048), in micro-units of its
    unit (contracts/indicator_spec.py)."""

    __tablename__ = "indicator_values"

    id: int | None = Field(default=None, primary_key=True)
    condition_id: str
    variant: str
    at: int
    value: int


class CandleToken(SQLModel, table=True):
    """The small number a token's candles are keyed by (migration 0092)."""

    __tablename__ = "candle_tokens"

    id: int | None = Field(default=None, primary_key=True)
    token_id: str


class CandleBackfill(SQLModel, table=True):
    """How far the ticks recorded before the candles existed were rolled into them (migration 0092)."""

    __tablename__ = "candle_backfill"

    id: int | None = Field(default=None, primary_key=True)
    before_at: int  # ticks before this were never rolled by the recorder
    rolled_until: int | None = None  # rolled up to here (None: not begun)


class CandleRow(SQLModel, table=True):
    """A token's candle of one width and bucket (migration 0092, contracts/candles.py)."""

    __tablename__ = "candles"

    token_key: int = Field(primary_key=True)
    width_ms: int = Field(primary_key=True)
    start_at: int = Field(primary_key=True)
    mid_open: int | None = None
    mid_high: int | None = None
    mid_low: int | None = None
    mid_close: int | None = None
    first_at: int | None = None
    last_at: int | None = None
    spread_sum: int = 0
    spreads: int = 0
    volume: int = 0
    trades: int = 0
