"""A strategy's lifecycle beyond enable and disable: paused on its own, and deleted.

- **Pause**: it stays hosted (its markets watched, its exits guarding its position) but decides
  nothing and its resting orders are withdrawn, as the engine's Pause does for every strategy;
  Resume brings it back on the next pass.
- **Delete**: only a disabled strategy with no open order and nothing held (flatten or exit
  first). Its row stays, marked deleted: its orders, fills, decisions and audit rows keep its
  name, the lists leave it out, and no new strategy takes the name.

Each is a versioned, audited write (`strategy.pause`, `strategy.resume`, `strategy.delete`) that
asks the engine to reload its configuration, like every other strategy change.
"""

from __future__ import annotations

from sqlalchemy import text

from contracts.domain import fmt
from contracts.order_status import TERMINAL_RANK
from storage.desk.config import ConfigError, Saved, update_strategy
from storage.sqlite.db import Database, now_ms


def set_strategy_paused(db: Database, *, name: str, version: int, paused: bool, actor: str) -> Saved:
    return update_strategy(db, name, version, {"paused": paused}, actor,
                           "strategy.pause" if paused else "strategy.resume")


def paper_record(db: Database, name: str) -> tuple[int, int]:
    """A strategy's record on paper: its fills (not failed) and its realized PnL (micro-pUSD)."""
    with db.read() as conn:
        fills = conn.execute(text("SELECT COUNT(*) FROM fills WHERE strategy = :n AND mode = 'paper' "
                                  "AND status != 'FAILED'"), {"n": name}).scalar_one()
        realized = conn.execute(text("SELECT COALESCE(SUM(realized), 0) FROM positions WHERE strategy = :n "
                                     "AND mode = 'paper'"), {"n": name}).scalar_one()
    return int(fills), int(realized)


def set_strategy_live(db: Database, *, name: str, version: int, live: bool, typed: str, actor: str) -> Saved:
    """Promote a strategy to live (refused, saying why, unless its name was typed to confirm and it
    has traded in paper: a paper fill of its own), or send it back to paper (always allowed)."""
    if live:
        if typed.strip() != name:
            raise ConfigError(f"type the strategy's name ({name}) to promote it to live", {"typed": "must match"})
        fills, _ = paper_record(db, name)
        if not fills:
            raise ConfigError(f"strategy {name!r} has not traded in paper yet: let it fill there first, then "
                              "promote it (its paper record is the evidence for trading it with money)")
    return update_strategy(db, name, version, {"live": live}, actor, "strategy.promote" if live else "strategy.demote")


def delete_strategy(db: Database, *, name: str, version: int, actor: str) -> Saved:
    """Refused, saying why, while it is enabled, has open orders or holds shares (in either mode)."""
    with db.read() as conn:
        enabled = conn.execute(text("SELECT enabled FROM strategies WHERE name = :n AND deleted_at IS NULL"),
                               {"n": name}).scalar()
        open_orders = conn.execute(text("SELECT COUNT(*) FROM orders WHERE strategy = :n AND status_rank < :t"),
                                   {"n": name, "t": TERMINAL_RANK}).scalar_one()
        held = conn.execute(text("SELECT COALESCE(SUM(settled + pending), 0) FROM positions WHERE strategy = :n"),
                            {"n": name}).scalar_one()
    if enabled is None:
        raise ConfigError(f"strategy {name!r} no longer exists: reload")
    if enabled:
        raise ConfigError(f"strategy {name!r} is enabled: disable it first (its orders are withdrawn), then delete")
    if open_orders:
        raise ConfigError(f"strategy {name!r} still has {open_orders} open order{'s' if open_orders != 1 else ''}: "
                          "wait for their cancels (or cancel them on the Orders page), then delete")
    if held > 0:
        raise ConfigError(f"strategy {name!r} still holds {fmt(held)} shares: exit or flatten them first, then "
                          "delete (a deleted strategy's position would have nobody to manage it)")
    return update_strategy(db, name, version, {"deleted_at": now_ms(), "paused": False}, actor, "strategy.delete")
