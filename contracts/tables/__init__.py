"""The shared SQLite contract as typed SQLModel classes, one per table both processes use, grouped by
area; importing the package registers them all in SQLModel's metadata.

The schema itself is made by the numbered migrations (storage/sqlite/migrations.py, run by sqlite-utils'
runner); these classes describe every table as the migrations leave it, and tests/storage/test_tables.py
fails when a table has no class or a class differs from its table (a column added, dropped, renamed,
retyped or made optional on one side only). Conventions: money and sizes are integer micro-units
(micro-pUSD, micro-shares), prices micro-pUSD per share, `*_at` epoch milliseconds, flags 0/1.
"""

from contracts.tables.desk import (
    Alert,
    AuditEntry,
    Command,
    EngineState,
    LoginBudget,
    QuarantinedRow,
    RevokedSession,
    RiskLimit,
    Setting,
    Strategy,
    StrategyLimit,
    StrategySelection,
)
from contracts.tables.market_data import (
    EventMember,
    ImportProgress,
    Market,
    MarketEvent,
    PricePoint,
    RecordingSession,
    RewardProgram,
    Signal,
    Tick,
)
from contracts.tables.notify import (
    NewsFeed,
    NewsSeen,
    Notification,
    NotifierState,
    NotifyDigest,
    NotifyEvent,
)
from contracts.tables.research import (
    StrategyRun,
)
from contracts.tables.trading import (
    CashEntry,
    Claim,
    Decision,
    Fill,
    FillMarkout,
    Order,
    PaperOrder,
    PaperSettlement,
    PaperTrade,
    PortfolioSnapshot,
    Position,
    PositionConversion,
    RewardDay,
    RewardScore,
    SettlementTx,
    StrategyRisk,
    StrategySnapshot,
)

__all__ = [
    "Alert",
    "AuditEntry",
    "CashEntry",
    "Claim",
    "Command",
    "Decision",
    "EngineState",
    "EventMember",
    "Fill",
    "FillMarkout",
    "ImportProgress",
    "LoginBudget",
    "Market",
    "MarketEvent",
    "NewsFeed",
    "NewsSeen",
    "Notification",
    "NotifierState",
    "NotifyDigest",
    "NotifyEvent",
    "Order",
    "PaperOrder",
    "PaperSettlement",
    "PaperTrade",
    "PortfolioSnapshot",
    "Position",
    "PositionConversion",
    "PricePoint",
    "QuarantinedRow",
    "RecordingSession",
    "RevokedSession",
    "RewardDay",
    "RewardProgram",
    "RewardScore",
    "RiskLimit",
    "Setting",
    "SettlementTx",
    "Signal",
    "Strategy",
    "StrategyLimit",
    "StrategyRisk",
    "StrategyRun",
    "StrategySelection",
    "StrategySnapshot",
    "Tick",
]
