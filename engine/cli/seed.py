"""First run against the simulator: a demo market-making strategy, trading on its own.

Only on a brand-new database (never started, no strategies) with DATA_SOURCE=simulator, so
`make run` on a fresh checkout shows paper trading at once. Against Polymarket nothing is
seeded: the operator configures and starts strategies deliberately.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from storage.audit import write_audit
from storage.db import Database, now_ms
from engine.contracts.settings import Settings

DEMO_NAME = "demo-market-making"
DEMO_PARAMS = {"size": 20, "half_spread": 0.02, "max_inventory": 100, "refresh_threshold": 0.015}
DEMO_MARKETS = {"filter": {"max_markets": 4, "sort": "liquidity"}}


def seed_demo(db: Database, settings: Settings) -> bool:
    """Insert the demo strategy and ask the engine to run; False when not a fresh simulator DB."""
    if settings.data_source != "simulator":
        return False
    now = now_ms()
    with db.write() as conn:
        started = conn.execute(text("SELECT started_at FROM engine_state WHERE id = 1")).scalar()
        has_strategies = conn.execute(text("SELECT 1 FROM strategies LIMIT 1")).first() is not None
        if started is not None or has_strategies:
            return False
        conn.execute(
            text("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at, updated_at,
                        updated_by) VALUES (:name, 'market_making', :params, :markets, 1, 1, :now, :now, 'setup')"""),
            {"name": DEMO_NAME, "params": json.dumps(DEMO_PARAMS), "markets": json.dumps(DEMO_MARKETS), "now": now},
        )
        conn.execute(text("UPDATE engine_state SET desired_state = 'RUNNING' WHERE id = 1"))
        write_audit(conn, actor="setup", action="strategy.create", entity=f"strategy:{DEMO_NAME}", before=None,
                    after={"kind": "market_making", "params": DEMO_PARAMS, "markets": DEMO_MARKETS, "enabled": True})
    return True
