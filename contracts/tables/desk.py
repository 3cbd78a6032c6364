"""The desk's control and configuration: the engine row, the command queue, settings, limits, strategies, alerts,
the audit trail, what was quarantined, the dashboard's users, sessions and login budget.

Generated once from the migrated schema, then kept by hand: tests/storage/test_tables.py fails when
a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class EngineState(SQLModel, table=True):
    __tablename__ = "engine_state"

    id: int | None = Field(default=None, primary_key=True)
    state: str
    desired_state: str
    mode: str
    kill_latched: int
    crash_count: int
    recent_crashes: str
    clean_exit: int
    updated_at: int
    trading_state: str
    venue_status: str
    venue_conditions: str
    pid: int | None = None
    started_at: int | None = None
    heartbeat_at: int | None = None
    killed_at: int | None = None
    kill_reason: str | None = None
    last_error: str | None = None
    trading_state_reason: str | None = None
    trading_state_at: int | None = None
    peak_equity: int | None = None
    day_start_equity: int | None = None
    day_started_at: int | None = None
    venue_status_at: int | None = None
    venue_status_detail: str | None = None
    data_age_ms: int | None = None
    # When the engine's last trading pass completed, written with each heartbeat (migration 0065).
    last_pass_at: int | None = None
    # Kalshi's exchange as last read (migration 0056): trading/exchange active, resume, next pause.
    kalshi_exchange: str = "{}"
    # What a live venue whose account is split into sections (Kalshi's shards) last said of them, per venue
    # (migration 0127): each section's money, the transfers on their way, the shortfalls and their moves.
    venue_funds: str = "{}"
    # What the running engine read at its start for the desk's own venue (migration 0061): its host and
    # the wallet's addresses; None until an engine of this release starts (each venue armed on its own: its row
    # of venue_modes).
    venue_host: str | None = None
    venue_wallet: str | None = None
    reads_at: int | None = None
    # The live venue's per-signer rate-limit tier as last read (migration 0091): JSON, '{}' when none.
    venue_tier: str = "{}"


class VenueMode(SQLModel, table=True):
    """Each venue armed on its own (migration 0099), one row per venue: its mode ('paper' until the
    operator arms it live) and what the running engine read for it at its start (None before)."""

    __tablename__ = "venue_modes"

    venue: str = Field(primary_key=True)
    updated_at: int
    mode: str = "paper"
    account: str | None = None
    host: str | None = None


class VenueRisk(SQLModel, table=True):
    """The breakers' memory of every ledger but the desk's (migration 0053; the paper ledger's too
    since 0090), one row per (mode, venue)."""

    __tablename__ = "venue_risk"

    mode: str = Field(primary_key=True)
    venue: str = Field(primary_key=True)
    updated_at: int
    trading_state: str = "ACTIVE"
    reason: str | None = None
    peak_equity: int | None = None
    day_start_equity: int | None = None
    day_started_at: int | None = None


class Command(SQLModel, table=True):
    __tablename__ = "commands"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str
    kind: str
    payload: str
    priority: int
    status: str
    actor: str
    created_at: int
    expires_at: int | None = None
    claimed_at: int | None = None
    finished_at: int | None = None
    result: str | None = None
    error: str | None = None


class Setting(SQLModel, table=True):
    __tablename__ = "settings"

    key: str = Field(primary_key=True)
    value: str
    version: int
    updated_at: int
    updated_by: str


class RiskLimit(SQLModel, table=True):
    __tablename__ = "risk_limits"

    name: str = Field(primary_key=True)
    value: str
    version: int
    updated_at: int
    updated_by: str


class Strategy(SQLModel, table=True):
    __tablename__ = "strategies"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    kind: str
    params: str
    markets: str
    enabled: int
    version: int
    created_at: int
    updated_at: int
    updated_by: str
    status: str
    last_error: str | None = None
    error_at: int | None = None
    paused: int = 0
    deleted_at: int | None = None
    live: int = 0  # 1 only once promoted (audited): every strategy starts paper only (migrations 0049, 0060)


class StrategySelection(SQLModel, table=True):
    __tablename__ = "strategy_selection"

    name: str = Field(primary_key=True)
    selected: int
    updated_at: int
    note: str | None = None


class StrategyMemory(SQLModel, table=True):
    __tablename__ = "strategy_memory"

    strategy: str = Field(primary_key=True)
    kind: str
    params_hash: str
    memory: str
    saved_at: int
    restored_at: int | None = None
    outcome: str | None = None


class VenuePair(SQLModel, table=True):
    """A Polymarket market linked by hand to a Kalshi market (migration 0050); `inverted`: Polymarket's
    YES is Kalshi's NO; `warnings` the JSON list of differences shown when they were linked."""

    __tablename__ = "venue_pairs"

    id: int | None = Field(default=None, primary_key=True)
    condition_id: str
    kalshi_ticker: str
    inverted: int
    polymarket_question: str
    kalshi_title: str
    warnings: str
    created_at: int
    created_by: str
    kalshi_price_grid: str | None = None  # what the desk last read of the Kalshi market (migration 0055)
    kalshi_fee_type: str | None = None
    kalshi_fee_multiplier_ppm: int | None = None
    kalshi_status: str | None = None
    kalshi_read_at: int | None = None
    kalshi_fee_changes: str | None = None  # the series' fee changes Kalshi lists (migration 0057)
    kalshi_exchange_index: int | None = None  # the exchange shard the Kalshi market lives on (migration 0126)


class StrategyLimit(SQLModel, table=True):
    __tablename__ = "strategy_limits"

    strategy: str = Field(primary_key=True)
    name: str = Field(primary_key=True)
    value: str
    version: int
    updated_at: int
    updated_by: str


class PreflightRun(SQLModel, table=True):
    """One preflight run (migration 0062): its venue, host, account (wallet addresses or the Kalshi key's
    fingerprint), whether it passed, and its checks as JSON."""

    __tablename__ = "preflight_runs"

    id: int | None = Field(default=None, primary_key=True)
    venue: str
    host: str
    ok: int
    checks: str
    at: int
    actor: str
    account: str | None = None


class Alert(SQLModel, table=True):
    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    created_at: int
    level: str
    source: str
    code: str
    message: str
    repeats: int
    acked_at: int | None = None
    acked_by: str | None = None
    subject: str | None = None
    last_at: int | None = None


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: int
    actor: str
    action: str
    entity: str
    before: str | None = None
    after: str | None = None


class QuarantinedRow(SQLModel, table=True):
    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    subject: str
    problem: str
    repair: str
    at: int
    row: str | None = None


class LoginBudget(SQLModel, table=True):
    __tablename__ = "login_budget"

    id: int | None = Field(default=None, primary_key=True)
    tokens_milli: int
    at_ms: int
    window_start_ms: int
    misses: int
    alerted_at_ms: int | None = None


class RevokedSession(SQLModel, table=True):
    __tablename__ = "dashboard_sessions_revoked"

    session_id: str = Field(primary_key=True)
    expires_at: int
    revoked_at: int


class DashboardUser(SQLModel, table=True):
    __tablename__ = "dashboard_users"

    name: str = Field(primary_key=True)
    password_hash: str
    role: str
    version: int
    created_at: int
    updated_at: int
    updated_by: str
    venue: str | None = None
