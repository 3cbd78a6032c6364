"""The trading core's writes (engine/trading/): what each strategy selects, a strategy
disabled after it raised, a market's resolution and new tick, and the venue's conditions on
the engine row. Each runs on the open write transaction it is given (`Database.write()`), so a
caller that writes an audit row or an alert with it keeps them in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text


def record_selection(conn: Connection, counts: Mapping[str, int], notes: Mapping[str, str | None],
                     now: int) -> None:
    """How many markets each strategy selects (and why none, when none); strategies gone are
    dropped."""
    conn.execute(text("DELETE FROM strategy_selection WHERE name NOT IN (SELECT value FROM json_each(:n))"),
                 {"n": json.dumps(sorted(counts))})
    for name, count in counts.items():
        conn.execute(text("""INSERT INTO strategy_selection (name, selected, note, updated_at)
                             VALUES (:n, :c, :note, :now) ON CONFLICT (name) DO UPDATE SET
                             selected = excluded.selected, note = excluded.note,
                             updated_at = excluded.updated_at"""),
                     {"n": name, "c": count, "note": notes.get(name), "now": now})


def disable_strategy(conn: Connection, name: str, error: str, now: int) -> bool:
    """Turn an enabled strategy off after it raised (status 'error', its error kept, a new
    version); False when it was not enabled."""
    changed = conn.execute(
        text("""UPDATE strategies SET enabled = 0, status = 'error', last_error = :e, error_at = :now,
                    version = version + 1, updated_at = :now, updated_by = 'engine'
                WHERE name = :name AND enabled = 1"""),
        {"e": error, "now": now, "name": name},
    ).rowcount
    return bool(changed)


def resolve_market(conn: Connection, condition_id: str, payout_yes: int, payout_no: int,
                   winner: str | None) -> None:
    """The market resolved: its payouts (and its winner, when one outcome takes all) recorded,
    closed and no longer taking orders."""
    conn.execute(text("UPDATE markets SET resolved_outcome = :w, payout_yes = :py, payout_no = :pn, closed = 1, "
                      "accepting_orders = 0 WHERE condition_id = :c"),
                 {"w": winner, "py": payout_yes, "pn": payout_no, "c": condition_id})


def set_market_tick(conn: Connection, condition_id: str, tick: int, now: int) -> None:
    conn.execute(text("UPDATE markets SET tick = :tick, updated_at = :now WHERE condition_id = :cid"),
                 {"tick": tick, "now": now, "cid": condition_id})


def set_venue_conditions(conn: Connection, conditions: Sequence[Mapping[str, Any]]) -> None:
    """The venue's conditions the engine row shows (`status`, the dashboard's banner)."""
    conn.execute(text("UPDATE engine_state SET venue_conditions = :c WHERE id = 1"),
                 {"c": json.dumps(list(conditions))})


def set_venue_tier(conn: Connection, tier: Mapping[str, Any]) -> None:
    """The live venue's rate-limit tier the engine row shows ({} when none is connected)."""
    conn.execute(text("UPDATE engine_state SET venue_tier = :t WHERE id = 1"), {"t": json.dumps(dict(tier))})
