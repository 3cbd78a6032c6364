"""The executor's ledger and what the venue owes: orders, fills, positions, cash, claims, settlement
transactions, the paper venue's own book, the risk layer's decisions and the valuations.

Generated once from the migrated schema, then kept by hand: tests/storage/test_tables.py fails when
a class and its migrated table differ."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Order(SQLModel, table=True):
    __tablename__ = "orders"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str
    mode: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: str
    side: str
    price: int
    size: int
    filled: int
    tif: str
    post_only: int
    status: str
    status_rank: int
    flags: str
    created_at: int
    updated_at: int
    venue_order_id: str | None = None
    expires_at: int | None = None
    signed_payload: str | None = None
    error: str | None = None
    reason: str | None = None
    submitted_at: int | None = None
    acked_at: int | None = None
    closed_at: int | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)
    end_reason: str | None = None  # why the desk ended it (migration 0075, contracts/order_end.py)
    gate: str | None = None  # what the risk gate did with its intent (migration 0091); NULL: not through it
    ending_at: int | None = None  # when its end began: the desk's cancel, or the venue's end (migration 0091)


class OrderAmend(SQLModel, table=True):
    """An order moved in place at the venue (migration 0166, engine/execution/amends.py): written `pending`
    before it is sent, ended once (`applied`, `refused`, `lost`, `ended`)."""

    __tablename__ = "order_amends"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id")
    mode: str
    venue: str
    old_price: int
    old_size: int
    price: int
    size: int
    decrease: int
    created_at: int
    status: str = "pending"
    error: str | None = None
    answered_at: int | None = None


class Fill(SQLModel, table=True):
    __tablename__ = "fills"

    id: int | None = Field(default=None, primary_key=True)
    trade_id: str
    order_id: int
    mode: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: str
    side: str
    price: int
    size: int
    fee: int
    liquidity: str
    status: str
    status_rank: int
    matched_at: int
    updated_at: int
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class Position(SQLModel, table=True):
    __tablename__ = "positions"

    mode: str = Field(primary_key=True)
    strategy: str = Field(primary_key=True)
    token_id: str = Field(primary_key=True)
    condition_id: str
    outcome: str
    settled: int
    pending: int
    cost: int
    realized: int
    fees: int
    updated_at: int
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class CashEntry(SQLModel, table=True):
    __tablename__ = "cash_ledger"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    at: int
    kind: str
    amount: int
    ref: str
    note: str | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class Claim(SQLModel, table=True):
    __tablename__ = "claims"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    kind: str
    condition_id: str
    strategy: str
    amount: int
    status: str
    ref: str
    created_at: int
    token_id: str | None = None
    tx_id: int | None = None
    paid_by: str | None = None
    settled_at: int | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class SettlementTx(SQLModel, table=True):
    __tablename__ = "settlement_txs"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    kind: str
    amount: int
    state: str
    actor: str
    created_at: int
    updated_at: int
    condition_id: str | None = None
    ref: str | None = None
    tx_hash: str | None = None
    via: str | None = None
    error: str | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class PositionConversion(SQLModel, table=True):
    __tablename__ = "position_conversions"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    strategy: str
    condition_id: str
    token_id: str
    outcome: str
    shares: int
    price: int
    at: int
    tx_id: int
    status: str
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class PaperOrder(SQLModel, table=True):
    __tablename__ = "paper_orders"

    venue_order_id: str = Field(primary_key=True)
    token_id: str
    condition_id: str
    side: str
    price: int
    size: int
    filled: int
    queue_ahead: int
    tif: str
    status: str
    created_at: int
    updated_at: int
    expires_at: int | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class PaperTrade(SQLModel, table=True):
    __tablename__ = "paper_trades"

    trade_id: str = Field(primary_key=True)
    venue_order_id: str
    token_id: str
    side: str
    price: int
    size: int
    fee: int
    liquidity: str
    status: str
    matched_at: int
    settle_at: int
    updated_at: int
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class PaperSettlement(SQLModel, table=True):
    __tablename__ = "paper_settlements"

    ref: str = Field(primary_key=True)
    kind: str
    condition_id: str
    yes_token: str
    no_token: str
    requested: int
    state: str
    paid: int
    yes_burned: int
    no_burned: int
    tx_hash: str
    due_at: int
    created_at: int
    error: str | None = None
    settled_at: int | None = None
    venue: str = "polymarket"  # which venue's ledger (migration 0052)
    position: str | None = None  # a Protocol V2 redemption's one outcome (migration 0085); None: both


class PortfolioSnapshot(SQLModel, table=True):
    __tablename__ = "portfolio_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    at: int
    kind: str
    cash: int
    positions_value: int
    liquidation_value: int
    equity: int
    realized: int
    unrealized: int
    fees: int
    exposure: int
    redeemable: int
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class StrategySnapshot(SQLModel, table=True):
    __tablename__ = "strategy_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    mode: str
    strategy: str
    at: int
    realized: int
    unrealized: int
    fees: int
    exposure: int
    venue: str = "polymarket"  # which venue's ledger (migration 0052)


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    at: int
    mode: str
    strategy: str
    condition_id: str
    side: str
    price: int
    requested: int
    approved: int
    action: str
    reason: str
    detail: str | None = None


class Forecast(SQLModel, table=True):
    """A probability of YES a strategy stated for a market (micro), written when it moved (migration 0045)."""

    __tablename__ = "forecasts"

    id: int | None = Field(default=None, primary_key=True)
    at: int
    mode: str
    strategy: str
    condition_id: str
    probability: int


class StrategyRisk(SQLModel, table=True):
    __tablename__ = "strategy_risk"

    mode: str = Field(primary_key=True)
    strategy: str = Field(primary_key=True)
    trading_state: str
    updated_at: int
    reason: str | None = None
    state_at: int | None = None
    peak_equity: int | None = None
    day_start_pnl: int | None = None
    day_started_at: int | None = None


class FillMarkout(SQLModel, table=True):
    __tablename__ = "fill_markouts"

    fill_id: int = Field(primary_key=True)
    horizon: str = Field(primary_key=True)
    mode: str
    strategy: str
    condition_id: str
    notional: int
    computed_at: int
    mid: int | None = None
    markout: int | None = None


class RewardScore(SQLModel, table=True):
    __tablename__ = "reward_scores"

    mode: str = Field(primary_key=True)
    order_id: int = Field(primary_key=True)
    strategy: str
    condition_id: str
    samples: int
    scoring_samples: int
    scoring: int
    checked_at: int
    venue_scoring: int | None = None


class RewardDay(SQLModel, table=True):
    __tablename__ = "reward_days"

    mode: str = Field(primary_key=True)
    day: str = Field(primary_key=True)
    condition_id: str = Field(primary_key=True)
    strategy: str = Field(primary_key=True)
    samples: int
    share: int
    estimated: int
    updated_at: int
    paid: int | None = None


class Resolution(SQLModel, table=True):
    """When a ledger closed its positions in a market at its payouts (migration 0093)."""

    __tablename__ = "resolutions"

    mode: str = Field(primary_key=True)
    condition_id: str = Field(primary_key=True)
    payout_yes: int
    payout_no: int
    at: int
    venue: str = "polymarket"
