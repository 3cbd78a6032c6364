"""A first strategy on a brand-new desk (engine/cli/seed.py decides when: the simulator only).

One write transaction: the desk is new (the engine never started, no strategy exists), the
strategy is inserted enabled, the engine is asked to run, and the creation is audited; on a desk
that is not new nothing is written.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from storage.desk.audit import write_audit
from storage.sqlite.db import Database


def seed_running_strategy(db: Database, *, name: str, kind: str, params: dict[str, Any],
                          markets: dict[str, Any] | list[str],
                          now: int, actor: str) -> bool:
    """Insert strategy `name` and ask the engine to run, on a new desk only; False otherwise."""
    with db.write() as conn:
        started = conn.execute(text("SELECT started_at FROM engine_state WHERE id = 1")).scalar()
        has_strategies = conn.execute(text("SELECT 1 FROM strategies LIMIT 1")).first() is not None
        if started is not None or has_strategies:
            return False
        conn.execute(
            text("""INSERT INTO strategies (name, kind, params, markets, enabled, version, created_at, updated_at,
                        updated_by) VALUES (:name, :kind, :params, :markets, 1, 1, :now, :now, :by)"""),
            {"name": name, "kind": kind, "params": json.dumps(params), "markets": json.dumps(markets), "now": now,
             "by": actor},
        )
        conn.execute(text("UPDATE engine_state SET desired_state = 'RUNNING' WHERE id = 1"))
        write_audit(conn, actor=actor, action="strategy.create", entity=f"strategy:{name}", before=None,
                    after={"kind": kind, "params": params, "markets": markets, "enabled": True})
    return True
