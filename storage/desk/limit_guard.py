"""The account a limit protects, as the desk knows it, and which limit changes switch protection off
(contracts/protection.py judges; this reads what it judges with): the writer of limits
(storage/desk/config.py) refuses those unless confirmed, and the pages say so beside each field.

The account is the ledger the limits apply to: the desk's in its mode, or the ledger a strategy
trades on now (paper until promoted; a strategy naming Kalshi markets, Kalshi's in its armed mode).
Its equity is that ledger's newest portfolio snapshot; before any, a paper ledger's starting cash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from sqlalchemy import Connection, text

from contracts.domain import MICRO
from contracts.limits import LimitError, LimitSpec, parse_value
from contracts.protection import Scope, loosening
from contracts.runtime_settings import BY_KEY as SETTINGS
from contracts.venue_policies import venue_named
from contracts.venues import desk_venue
from storage.engine_stores import venue_modes

STARTING_CASH = "paper_starting_cash"


def _starting_cash(conn: Connection) -> Decimal:
    raw = conn.execute(text("SELECT value FROM settings WHERE key = :k"), {"k": STARTING_CASH}).scalar()
    try:
        value = Decimal(str(json.loads(raw))) if raw is not None else None
    except (ValueError, TypeError, InvalidOperation):
        value = None
    return value if value is not None and value.is_finite() else Decimal(str(SETTINGS[STARTING_CASH].default))


def account_equity(conn: Connection, mode: str, venue: str) -> Decimal | None:
    """The equity (pUSD) of the ledger (mode, venue): its newest snapshot's, or a paper ledger's starting
    cash before its first; None for a live ledger not valued yet."""
    newest = conn.execute(text("""SELECT equity FROM portfolio_snapshots WHERE mode = :m AND venue = :v
                                  ORDER BY at DESC LIMIT 1"""), {"m": mode, "v": venue}).scalar()
    if newest is not None:
        return Decimal(int(newest)) / MICRO
    return _starting_cash(conn) if mode == "paper" else None


def desk_equity(conn: Connection) -> Decimal | None:
    """The equity of the desk's own ledger, in its mode: what the desk-wide limits protect."""
    mode = conn.execute(text("SELECT mode FROM engine_state WHERE id = 1")).scalar() or "paper"
    return account_equity(conn, str(mode), desk_venue())


def strategy_equity(conn: Connection, strategy: str) -> Decimal | None:
    """The equity of the ledger `strategy` trades on now: what its own limits are measured against."""
    row = conn.execute(text("SELECT markets, live FROM strategies WHERE name = :n"), {"n": strategy}).first()
    desk_mode = conn.execute(text("SELECT mode FROM engine_state WHERE id = 1")).scalar() or "paper"
    venue = venue_named(row[0] if row is not None else None)
    armed = {**venue_modes.modes(conn), desk_venue(): str(desk_mode)}.get(venue, "paper")
    mode = armed if row is not None and row[1] else "paper"
    return account_equity(conn, mode, venue)


def _in_force(spec: LimitSpec, stored: str | None) -> Decimal | None:
    """The value in force: the stored one, its default when none is stored, None when the stored one is
    invalid (the engine keeps an older one or halts: confirm, as the change's before is not known)."""
    if stored is None:
        return spec.default
    try:
        return parse_value(spec, stored)
    except LimitError:
        return None


def loosenings(scope: Scope, specs: Mapping[str, LimitSpec], new: Mapping[str, str], stored: Mapping[str, str],
               equity: Decimal | None) -> dict[str, str]:
    """Each change of `new` (name -> checked value) that switches protection off, with why in words;
    `stored`: the values stored now (name -> text)."""
    found: dict[str, str] = {}
    for name, value in new.items():
        why = loosening(scope, name, _in_force(specs[name], stored.get(name)), Decimal(value), equity)
        if why is not None:
            found[name] = why
    return found
