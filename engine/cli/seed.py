"""First run against the simulator: a demo market-making strategy, trading on its own.

Only on a brand-new database (never started, no strategies) with DATA_SOURCE=simulator, so
`make run` on a fresh checkout shows paper trading at once. Against Polymarket nothing is
seeded: the operator configures and starts strategies deliberately.
"""

from __future__ import annotations

from contracts.settings import Settings
from storage.research.seed_data import seed_running_strategy
from storage.sqlite.db import Database, now_ms

DEMO_NAME = "demo-market-making"
DEMO_PARAMS = {"size": 20, "half_spread": 0.02, "max_inventory": 100, "refresh_threshold": 0.015}
DEMO_MARKETS = {"filter": {"max_markets": 4, "sort": "liquidity"}}


def seed_demo(db: Database, settings: Settings) -> bool:
    """Insert the demo strategy and ask the engine to run; False when not a fresh simulator DB."""
    if settings.data_source != "simulator":
        return False
    return seed_running_strategy(db, name=DEMO_NAME, kind="market_making", params=DEMO_PARAMS,
                                 markets=DEMO_MARKETS, now=now_ms(), actor="setup")
