"""SQLModel classes mirroring storage/migrations.py (which is the source of truth).

Declared SQL types are spelled out (`INTEGER`, `TEXT`) so the mirror test compares them
exactly. Conventions: money, prices and sizes are integer micro-units; `*_at` columns are
epoch milliseconds (storage/db.py); JSON columns are TEXT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def int_col(*, nullable: bool = False, primary_key: bool = False, **kw: Any) -> Any:
    return Field(sa_type=Integer, nullable=nullable, primary_key=primary_key, **kw)


def text_col(*, nullable: bool = False, primary_key: bool = False, **kw: Any) -> Any:
    return Field(sa_type=Text, nullable=nullable, primary_key=primary_key, **kw)


class EngineState(SQLModel, table=True):
    __tablename__ = "engine_state"

    id: int = int_col(primary_key=True, default=1)
    state: str = text_col(default="IDLE")
    desired_state: str = text_col(default="STOPPED")
    mode: str = text_col(default="paper")
    pid: int | None = int_col(nullable=True, default=None)
    started_at: int | None = int_col(nullable=True, default=None)
    heartbeat_at: int | None = int_col(nullable=True, default=None)
    kill_latched: int = int_col(default=0)
    killed_at: int | None = int_col(nullable=True, default=None)
    kill_reason: str | None = text_col(nullable=True, default=None)
    crash_count: int = int_col(default=0)
    recent_crashes: str = text_col(default="[]")
    clean_exit: int = int_col(default=1)
    last_error: str | None = text_col(nullable=True, default=None)
    updated_at: int = int_col()
    trading_state: str = text_col(default="ACTIVE")
    trading_state_reason: str | None = text_col(nullable=True, default=None)
    trading_state_at: int | None = int_col(nullable=True, default=None)
    peak_equity: int | None = int_col(nullable=True, default=None)
    day_start_equity: int | None = int_col(nullable=True, default=None)
    day_started_at: int | None = int_col(nullable=True, default=None)
    venue_status: str = text_col(default="ok")
    venue_status_at: int | None = int_col(nullable=True, default=None)
    venue_status_detail: str | None = text_col(nullable=True, default=None)
    venue_conditions: str = text_col(default="[]")


class Command(SQLModel, table=True):
    __tablename__ = "commands"
    __table_args__ = (
        Index("ix_commands_queue", "status", "priority", "id"),
        Index("ix_commands_created", "created_at"),
    )

    id: int | None = int_col(primary_key=True, default=None)
    idempotency_key: str = text_col(unique=True)
    kind: str = text_col()
    payload: str = text_col(default="{}")
    priority: int = int_col(default=0)
    status: str = text_col(default="pending")
    actor: str = text_col()
    created_at: int = int_col()
    expires_at: int | None = int_col(nullable=True, default=None)
    claimed_at: int | None = int_col(nullable=True, default=None)
    finished_at: int | None = int_col(nullable=True, default=None)
    result: str | None = text_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)


class Setting(SQLModel, table=True):
    __tablename__ = "settings"

    key: str = text_col(primary_key=True)
    value: str = text_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()


class RiskLimit(SQLModel, table=True):
    __tablename__ = "risk_limits"

    name: str = text_col(primary_key=True)
    value: str = text_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()


class Strategy(SQLModel, table=True):
    __tablename__ = "strategies"

    id: int | None = int_col(primary_key=True, default=None)
    name: str = text_col(unique=True)
    kind: str = text_col()
    params: str = text_col(default="{}")
    markets: str = text_col(default="[]")
    enabled: int = int_col(default=0)
    version: int = int_col(default=1)
    created_at: int = int_col()
    updated_at: int = int_col()
    updated_by: str = text_col()
    status: str = text_col(default="ok")
    last_error: str | None = text_col(nullable=True, default=None)
    error_at: int | None = int_col(nullable=True, default=None)


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_created", "created_at"),)

    id: int | None = int_col(primary_key=True, default=None)
    created_at: int = int_col()
    level: str = text_col()
    source: str = text_col()
    code: str = text_col()
    message: str = text_col()
    acked_at: int | None = int_col(nullable=True, default=None)
    acked_by: str | None = text_col(nullable=True, default=None)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: int | None = int_col(primary_key=True, default=None)
    at: int = int_col()
    actor: str = text_col()
    action: str = text_col()
    entity: str = text_col()
    before: str | None = text_col(nullable=True, default=None)
    after: str | None = text_col(nullable=True, default=None)


class Market(SQLModel, table=True):
    __tablename__ = "markets"
    __table_args__ = (
        Index("ix_markets_yes_token", "yes_token"),
        Index("ix_markets_no_token", "no_token"),
        Index("ix_markets_group", "neg_risk_market_id"),
        Index("ix_markets_end", "end_at"),
    )

    condition_id: str = text_col(primary_key=True)
    gamma_id: str | None = text_col(nullable=True, default=None)
    question: str = text_col()
    slug: str | None = text_col(nullable=True, default=None)
    yes_token: str = text_col()
    no_token: str = text_col()
    outcomes: str = text_col(default='["Yes", "No"]')
    tick: int = int_col()
    min_size: int = int_col()
    neg_risk: int = int_col(default=0)
    neg_risk_market_id: str | None = text_col(nullable=True, default=None)
    end_at: int | None = int_col(nullable=True, default=None)
    active: int = int_col(default=1)
    closed: int = int_col(default=0)
    accepting_orders: int = int_col(default=1)
    volume: int = int_col(default=0)
    volume_24h: int = int_col(default=0)
    liquidity: int = int_col(default=0)
    tags: str = text_col(default="[]")
    gamma_version: str | None = text_col(nullable=True, default=None)
    fee_rate_ppm: int = int_col(default=0)
    fee_exponent: int = int_col(default=1)
    tradable: int = int_col(default=1)
    untradable_reason: str | None = text_col(nullable=True, default=None)
    resolved_outcome: str | None = text_col(nullable=True, default=None)
    first_seen_at: int = int_col()
    updated_at: int = int_col()
    fees_at: int | None = int_col(nullable=True, default=None)


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ux_orders_venue_id", "mode", "venue_order_id", unique=True),
        Index("ix_orders_open", "mode", "status_rank"),
        Index("ix_orders_market", "condition_id"),
        Index("ix_orders_strategy", "strategy"),
        Index("ix_orders_created", "created_at"),
    )

    id: int | None = int_col(primary_key=True, default=None)
    client_id: str = text_col(unique=True)
    venue_order_id: str | None = text_col(nullable=True, default=None)
    mode: str = text_col()
    strategy: str = text_col()
    condition_id: str = text_col()
    token_id: str = text_col()
    outcome: str = text_col()
    side: str = text_col()
    price: int = int_col()
    size: int = int_col()
    filled: int = int_col(default=0)
    tif: str = text_col()
    post_only: int = int_col(default=0)
    expires_at: int | None = int_col(nullable=True, default=None)
    status: str = text_col()
    status_rank: int = int_col()
    signed_payload: str | None = text_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)
    flags: str = text_col(default="")
    reason: str | None = text_col(nullable=True, default=None)
    created_at: int = int_col()
    submitted_at: int | None = int_col(nullable=True, default=None)
    acked_at: int | None = int_col(nullable=True, default=None)
    updated_at: int = int_col()
    closed_at: int | None = int_col(nullable=True, default=None)


class Fill(SQLModel, table=True):
    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("trade_id", "order_id"),
        Index("ix_fills_order", "order_id"),
        Index("ix_fills_market", "mode", "condition_id"),
        Index("ix_fills_matched", "matched_at"),
        Index("ix_fills_position", "mode", "strategy", "token_id", "matched_at", "trade_id"),
        Index("ix_fills_failed", "id", sqlite_where=text("status = 'FAILED'")),
    )

    id: int | None = int_col(primary_key=True, default=None)
    trade_id: str = text_col()
    order_id: int = int_col(foreign_key="orders.id")
    mode: str = text_col()
    strategy: str = text_col()
    condition_id: str = text_col()
    token_id: str = text_col()
    outcome: str = text_col()
    side: str = text_col()
    price: int = int_col()
    size: int = int_col()
    fee: int = int_col(default=0)
    liquidity: str = text_col()
    status: str = text_col()
    status_rank: int = int_col()
    matched_at: int = int_col()
    updated_at: int = int_col()


class Position(SQLModel, table=True):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_market", "mode", "condition_id"),)

    mode: str = text_col(primary_key=True)
    strategy: str = text_col(primary_key=True)
    token_id: str = text_col(primary_key=True)
    condition_id: str = text_col()
    outcome: str = text_col()
    settled: int = int_col(default=0)
    pending: int = int_col(default=0)
    cost: int = int_col(default=0)
    realized: int = int_col(default=0)
    fees: int = int_col(default=0)
    updated_at: int = int_col()


class CashEntry(SQLModel, table=True):
    __tablename__ = "cash_ledger"
    __table_args__ = (UniqueConstraint("mode", "kind", "ref"),)

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    at: int = int_col()
    kind: str = text_col()
    amount: int = int_col()
    ref: str = text_col()
    note: str | None = text_col(nullable=True, default=None)


class PortfolioSnapshot(SQLModel, table=True):
    __tablename__ = "portfolio_snapshots"
    __table_args__ = (Index("ix_snapshots_mode_at", "mode", "at"),)

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    at: int = int_col()
    kind: str = text_col(default="scheduled")
    cash: int = int_col()
    positions_value: int = int_col()
    liquidation_value: int = int_col()
    equity: int = int_col()
    realized: int = int_col()
    unrealized: int = int_col()
    fees: int = int_col()
    exposure: int = int_col()
    redeemable: int = int_col(default=0)


class PaperOrder(SQLModel, table=True):
    __tablename__ = "paper_orders"
    __table_args__ = (Index("ix_paper_orders_status", "status"),)

    venue_order_id: str = text_col(primary_key=True)
    token_id: str = text_col()
    condition_id: str = text_col()
    side: str = text_col()
    price: int = int_col()
    size: int = int_col()
    filled: int = int_col(default=0)
    queue_ahead: int = int_col(default=0)
    tif: str = text_col()
    status: str = text_col()
    created_at: int = int_col()
    updated_at: int = int_col()
    expires_at: int | None = int_col(nullable=True, default=None)


class PaperTrade(SQLModel, table=True):
    __tablename__ = "paper_trades"
    __table_args__ = (
        Index("ix_paper_trades_order", "venue_order_id"),
        Index("ix_paper_trades_status", "status"),
    )

    trade_id: str = text_col(primary_key=True)
    venue_order_id: str = text_col()
    token_id: str = text_col()
    side: str = text_col()
    price: int = int_col()
    size: int = int_col()
    fee: int = int_col(default=0)
    liquidity: str = text_col()
    status: str = text_col()
    matched_at: int = int_col()
    settle_at: int = int_col()
    updated_at: int = int_col()


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_at", "at"), Index("ix_decisions_reason", "reason"))

    id: int | None = int_col(primary_key=True, default=None)
    at: int = int_col()
    mode: str = text_col()
    strategy: str = text_col()
    condition_id: str = text_col()
    side: str = text_col()
    price: int = int_col()
    requested: int = int_col()
    approved: int = int_col()
    action: str = text_col()
    reason: str = text_col()
    detail: str | None = text_col(nullable=True, default=None)


class Signal(SQLModel, table=True):
    __tablename__ = "signals"

    condition_id: str = text_col(primary_key=True)
    source: str = text_col(primary_key=True)
    fair_value: int = int_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()
    expires_at: int | None = int_col(nullable=True, default=None)
    detail: str | None = text_col(nullable=True, default=None)


class NewsFeed(SQLModel, table=True):
    __tablename__ = "news_feeds"

    name: str = text_col(primary_key=True)
    url: str = text_col()
    polled_at: int | None = int_col(nullable=True, default=None)
    ok_at: int | None = int_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)
    entries: int = int_col(default=0)
    matched: int = int_col(default=0)
    updated_at: int = int_col()


class NewsSeen(SQLModel, table=True):
    __tablename__ = "news_seen"
    __table_args__ = (Index("ix_news_seen_at", "seen_at"),)

    feed: str = text_col(primary_key=True)
    entry_key: str = text_col(primary_key=True)
    title: str = text_col()
    link: str | None = text_col(nullable=True, default=None)
    published_at: int | None = int_col(nullable=True, default=None)
    seen_at: int = int_col()
    signals: int = int_col(default=0)


class Tick(SQLModel, table=True):
    __tablename__ = "ticks"
    __table_args__ = (Index("ix_ticks_token_at", "token_id", "at"), Index("ix_ticks_at", "at"))

    id: int | None = int_col(primary_key=True, default=None)
    at: int = int_col()
    token_id: str = text_col()
    kind: str = text_col()
    side: str | None = text_col(nullable=True, default=None)
    price: int | None = int_col(nullable=True, default=None)
    size: int | None = int_col(nullable=True, default=None)
    mid: int | None = int_col(nullable=True, default=None)
    data: str | None = text_col(nullable=True, default=None)


class PricePoint(SQLModel, table=True):
    __tablename__ = "price_history"

    token_id: str = text_col(primary_key=True)
    at: int = int_col(primary_key=True)
    price: int = int_col()


class ImportProgress(SQLModel, table=True):
    __tablename__ = "import_progress"

    token_id: str = text_col(primary_key=True)
    from_at: int = int_col(primary_key=True)
    to_at: int = int_col(primary_key=True)
    done_until: int = int_col()
    points: int = int_col(default=0)
    updated_at: int = int_col()


class StrategyRun(SQLModel, table=True):
    __tablename__ = "strategy_runs"
    __table_args__ = (Index("ix_strategy_runs_created", "created_at"),)

    id: int | None = int_col(primary_key=True, default=None)
    name: str = text_col()
    created_at: int = int_col()
    finished_at: int | None = int_col(nullable=True, default=None)
    status: str = text_col(default="running")
    strategy_kind: str = text_col()
    params: str = text_col()
    markets: str = text_col()
    from_at: int = int_col()
    to_at: int = int_col()
    seed: int = int_col()
    source: str = text_col()
    progress: int = int_col(default=0)
    events: int = int_col(default=0)
    metrics: str | None = text_col(nullable=True, default=None)
    equity_curve: str | None = text_col(nullable=True, default=None)
    trades: str | None = text_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)
    pid: int | None = int_col(nullable=True, default=None)
    orders: str | None = text_col(nullable=True, default=None)


class StrategySelection(SQLModel, table=True):
    __tablename__ = "strategy_selection"

    name: str = text_col(primary_key=True)
    selected: int = int_col()
    note: str | None = text_col(nullable=True, default=None)
    updated_at: int = int_col()


class StrategyLimit(SQLModel, table=True):
    __tablename__ = "strategy_limits"

    strategy: str = text_col(primary_key=True)
    name: str = text_col(primary_key=True)
    value: str = text_col()
    version: int = int_col(default=1)
    updated_at: int = int_col()
    updated_by: str = text_col()


class StrategyRisk(SQLModel, table=True):
    __tablename__ = "strategy_risk"

    mode: str = text_col(primary_key=True)
    strategy: str = text_col(primary_key=True)
    trading_state: str = text_col(default="ACTIVE")
    reason: str | None = text_col(nullable=True, default=None)
    state_at: int | None = int_col(nullable=True, default=None)
    peak_equity: int | None = int_col(nullable=True, default=None)
    day_start_pnl: int | None = int_col(nullable=True, default=None)
    day_started_at: int | None = int_col(nullable=True, default=None)
    updated_at: int = int_col()


class StrategySnapshot(SQLModel, table=True):
    __tablename__ = "strategy_snapshots"
    __table_args__ = (Index("ix_strategy_snapshots", "mode", "strategy", "at"),)

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    strategy: str = text_col()
    at: int = int_col()
    realized: int = int_col()
    unrealized: int = int_col()
    fees: int = int_col()
    exposure: int = int_col()



class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_queue", "channel", "status", "next_attempt_at"),
        Index("ix_notifications_created", "created_at"),
    )

    id: int | None = int_col(primary_key=True, default=None)
    created_at: int = int_col()
    channel: str = text_col(default="apprise")
    kind: str = text_col()
    alert_id: int | None = int_col(nullable=True, default=None)
    dedup_key: str | None = text_col(nullable=True, default=None)
    level: str = text_col(default="info")
    title: str = text_col()
    body: str = text_col()
    status: str = text_col(default="queued")
    targets: str = text_col(default="")
    attempts: int = int_col(default=0)
    next_attempt_at: int | None = int_col(nullable=True, default=None)
    last_attempt_at: int | None = int_col(nullable=True, default=None)
    error: str | None = text_col(nullable=True, default=None)


class NotifierState(SQLModel, table=True):
    __tablename__ = "notifier_state"

    id: int = int_col(primary_key=True, default=1)
    alert_cursor: int = int_col(default=0)
    summary_at: int | None = int_col(nullable=True, default=None)
    suppressed: str = text_col(default="{}")
    updated_at: int = int_col()
    event_cursor: int = int_col(default=0)


class NotifyEvent(SQLModel, table=True):
    __tablename__ = "notify_events"

    id: int | None = int_col(primary_key=True, default=None)
    at: int = int_col()
    kind: str = text_col()
    ref: int = int_col()


class NotifyDigest(SQLModel, table=True):
    __tablename__ = "notify_digest"

    channel: str = text_col(primary_key=True)
    event: str = text_col(primary_key=True)
    strategy: str = text_col(primary_key=True)
    count: int = int_col()
    first_at: int = int_col()
    last_at: int = int_col()
    latest: str = text_col()


class DashboardSessionRevoked(SQLModel, table=True):
    __tablename__ = "dashboard_sessions_revoked"

    session_id: str = text_col(primary_key=True)
    expires_at: int = int_col()
    revoked_at: int = int_col()


class LoginBudget(SQLModel, table=True):
    __tablename__ = "login_budget"

    id: int = int_col(primary_key=True, default=1)
    tokens_milli: int = int_col()
    at_ms: int = int_col()
    window_start_ms: int = int_col()
    misses: int = int_col(default=0)
    alerted_at_ms: int | None = int_col(nullable=True, default=None)
class SettlementTx(SQLModel, table=True):
    __tablename__ = "settlement_txs"
    __table_args__ = (Index("ix_settlement_txs_open", "mode", "state"),)

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    kind: str = text_col()
    condition_id: str | None = text_col(nullable=True, default=None)
    amount: int = int_col(default=0)
    ref: str | None = text_col(nullable=True, default=None)
    tx_hash: str | None = text_col(nullable=True, default=None)
    via: str | None = text_col(nullable=True, default=None)
    state: str = text_col()
    error: str | None = text_col(nullable=True, default=None)
    actor: str = text_col()
    created_at: int = int_col()
    updated_at: int = int_col()


class Claim(SQLModel, table=True):
    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("mode", "ref"), Index("ix_claims_open", "mode", "status", "condition_id"))

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    kind: str = text_col()
    condition_id: str = text_col()
    strategy: str = text_col()
    token_id: str | None = text_col(nullable=True, default=None)
    amount: int = int_col()
    status: str = text_col(default="open")
    ref: str = text_col()
    tx_id: int | None = int_col(nullable=True, default=None, foreign_key="settlement_txs.id")
    paid_by: str | None = text_col(nullable=True, default=None)
    created_at: int = int_col()
    settled_at: int | None = int_col(nullable=True, default=None)


class PositionConversion(SQLModel, table=True):
    __tablename__ = "position_conversions"
    __table_args__ = (Index("ix_conversions_position", "mode", "strategy", "token_id"),)

    id: int | None = int_col(primary_key=True, default=None)
    mode: str = text_col()
    strategy: str = text_col()
    condition_id: str = text_col()
    token_id: str = text_col()
    outcome: str = text_col()
    shares: int = int_col()
    price: int = int_col()
    at: int = int_col()
    tx_id: int = int_col(foreign_key="settlement_txs.id")
    status: str = text_col()


class PaperSettlement(SQLModel, table=True):
    __tablename__ = "paper_settlements"
    __table_args__ = (Index("ix_paper_settlements_market", "condition_id", "state"),)

    ref: str = text_col(primary_key=True)
    kind: str = text_col()
    condition_id: str = text_col()
    yes_token: str = text_col()
    no_token: str = text_col()
    requested: int = int_col(default=0)
    state: str = text_col()
    error: str | None = text_col(nullable=True, default=None)
    paid: int = int_col(default=0)
    yes_burned: int = int_col(default=0)
    no_burned: int = int_col(default=0)
    tx_hash: str = text_col()
    due_at: int = int_col()
    created_at: int = int_col()
    settled_at: int | None = int_col(nullable=True, default=None)


class FillMarkout(SQLModel, table=True):
    __tablename__ = "fill_markouts"
    __table_args__ = (Index("ix_fill_markouts_sums", "mode", "strategy", "condition_id", "horizon", "markout",
                            "notional"),)

    fill_id: int = int_col(primary_key=True, foreign_key="fills.id")
    horizon: str = text_col(primary_key=True)
    mode: str = text_col()
    strategy: str = text_col()
    condition_id: str = text_col()
    notional: int = int_col()
    mid: int | None = int_col(nullable=True, default=None)
    markout: int | None = int_col(nullable=True, default=None)
    computed_at: int = int_col()
