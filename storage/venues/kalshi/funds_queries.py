"""Kalshi's exchange shards as the engine's live Kalshi ledger last said them, for the dashboard: each
shard's free balance, the transfers on their way, and each shortfall that holds the desk's quotes with
the moves that would fund it. Read-only: the engine writes engine_state.venue_funds
(engine/trading/ledgers/venue_funds.py, migration 0127); the operator's move is a command.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from contracts.jsonsafe import read_stored
from contracts.venues import KALSHI
from storage.sqlite.db import Database


@dataclass(frozen=True)
class Shortfall:
    shard: int
    need: int  # micro-dollars
    free: int
    source: int | None  # the shard a transfer could come from (None: none can spare it)
    amount: int  # micro-dollars that transfer moves
    allocation: str  # a target split that would fund it ("0:80,2:20"; "" none)
    words: str


@dataclass(frozen=True)
class KalshiFunds:
    read_at: int | None
    shards: dict[int, tuple[str, int]]  # shard -> (its name, free micro-dollars)
    in_flight: list[tuple[int, int, int]]  # (source, destination, micro-dollars) accepted, not arrived
    shortfalls: list[Shortfall]


def kalshi_funds(db: Database, venue: str = KALSHI) -> KalshiFunds | None:
    """What the live ledger of `venue` last said of its shards (None: nothing, e.g. Kalshi not live)."""
    with db.read() as conn:
        raw = conn.execute(text("SELECT venue_funds FROM engine_state WHERE id = 1")).scalar()
    stored, problem = read_stored(raw, what="the venues' stored sections")
    said = stored.get(venue) if isinstance(stored, dict) and problem is None else None
    if not isinstance(said, dict) or not isinstance(said.get("shards"), dict):
        return None
    shards = {int(k): (str(v.get("name", "")), _int(v.get("free"))) for k, v in said["shards"].items()
              if str(k).isdigit() and isinstance(v, dict)}
    moving = [(_int(t.get("source")), _int(t.get("destination")), _int(t.get("amount")))
              for t in said.get("in_flight") or [] if isinstance(t, dict)]
    short = [Shortfall(_int(s.get("shard")), _int(s.get("need")), _int(s.get("free")),
                       None if s.get("source") is None else _int(s.get("source")), _int(s.get("amount")),
                       ",".join(f"{k}:{v}" for k, v in (s.get("allocation") or {}).items()), str(s.get("words", "")))
             for s in said.get("shortfalls") or [] if isinstance(s, dict)]
    read_at = said.get("read_ms")
    return KalshiFunds(read_at if isinstance(read_at, int) else None, shards, moving, short)


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
