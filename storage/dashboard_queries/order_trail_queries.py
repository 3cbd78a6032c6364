"""The order trail as the Audit page reads it: each step of every order's life with why, newest first,
filtered by mode, strategy, market and order, read from the ledger's own rows (migration 0091 says
why no row is copied for it):

- placed (or imported): the order's row, its intent's `reason` and `gate` (what the risk gate did);
- replaced or cancel sent: its `end_reason` (contracts/order_end.py), at `ending_at`;
- refused by the venue, or ended by it (an expiry, a take's unfilled rest, gone, lost): an order the
  desk did not end, its status and the venue's words (`error`), at `ending_at` too;
- filled: each fill, with the reason its order was placed for; a fill the chain reversed, again.

One page: each kind is read newest first through its own index up to the page's end, then the kinds
are merged by time; a count is each kind's. Human units (probability, shares, pUSD), UTC times.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from storage.dashboard_queries.portfolio_queries import KALSHI_TITLE
from storage.sqlite.db import Database
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar
from storage.sqlite.frames import to_human, to_utc, where

# What each step is, in a trader's words.
EVENT_WORDS = {"placed": "placed", "imported": "imported", "replace": "replaced", "cancel": "cancel sent",
               "refused": "refused by the venue", "ended": "ended by the venue", "fill": "filled",
               "fill_failed": "fill reversed"}
_ORDER = ("o.id AS order_id, o.strategy, o.mode, o.venue, o.condition_id, o.side, o.outcome, o.price, o.size, "
          "o.client_id")
_NO_FILL = "NULL AS fill_price, NULL AS fill_size, NULL AS fill_fee, NULL AS liquidity, NULL AS trade_id"
_FILL = ("f.order_id, f.strategy, f.mode, f.venue, f.condition_id, f.side, f.outcome, o.price, o.size, o.client_id, "
         "f.price AS fill_price, f.size AS fill_size, f.fee AS fill_fee, f.liquidity, f.trade_id")
# Each kind of step: (its rows' table alias, FROM, its condition, its time, its event, why, gate, the rest),
# its time being what its index orders (every condition matches its partial index's).
_KINDS = (
    ("o", "orders o", "1 = 1", "o.created_at",
     "CASE WHEN o.strategy = 'imported' THEN 'imported' ELSE 'placed' END", "COALESCE(o.reason, '')", "o.gate",
     f"{_ORDER}, {_NO_FILL}"),
    ("o", "orders o", "o.ending_at IS NOT NULL", "o.ending_at",
     """CASE WHEN o.end_reason = 'replaced' THEN 'replace' WHEN o.end_reason IS NOT NULL THEN 'cancel'
             WHEN o.status = 'REJECTED' THEN 'refused' ELSE 'ended' END""",
     "COALESCE(o.end_reason, o.error, lower(o.status))", "NULL", f"{_ORDER}, {_NO_FILL}"),
    ("f", "fills f LEFT JOIN orders o ON o.id = f.order_id", "1 = 1", "f.matched_at", "'fill'",
     "COALESCE(o.reason, '')", "NULL", _FILL),
    ("f", "fills f LEFT JOIN orders o ON o.id = f.order_id", "f.status = 'FAILED'", "f.updated_at", "'fill_failed'",
     "'the trade failed on chain: the fill is reversed'", "NULL", _FILL),
)


@dataclass(frozen=True)
class TrailFilter:
    mode: str | None = None
    strategy: str | None = None
    condition_id: str | None = None
    order_id: int | None = None

    def sql(self, alias: str) -> tuple[str, dict[str, Any]]:
        """This filter on one kind's rows (`alias`: o, an order's; f, a fill's)."""
        clauses: list[str] = []
        params: dict[str, Any] = {}
        order_column = "id" if alias == "o" else "order_id"
        for column, name, value in ((order_column, "order_id", self.order_id), ("strategy", "strategy", self.strategy),
                                    ("condition_id", "condition_id", self.condition_id)):
            if value is not None and value != "":
                clauses.append(f"{alias}.{column} = :{name}")
                params[name] = value
        if self.mode:
            clauses.append(f"+{alias}.mode = :mode")  # (never an index: the others narrow, the time orders)
            params["mode"] = self.mode
        return where(clauses), params


def _kind_sql(step: int, spec: TrailFilter) -> tuple[str, dict[str, Any]]:
    alias, source, condition, at, event, why, gate, rest = _KINDS[step]
    clause, params = spec.sql(alias)
    return (f"""SELECT * FROM (SELECT {at} AS at, {step} AS step, {event} AS event, {why} AS why, {gate} AS gate,
                       {rest} FROM {source} WHERE {condition} AND {clause} ORDER BY {at} DESC LIMIT :n)""", params)


def trail(db: Database, spec: TrailFilter, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """Newest first (in one millisecond: a later order's steps first, an order's steps in their order,
    as a pass sends its cancels before its placements): at (UTC), event (in words),
    order_id, strategy, mode, venue, condition_id, question, side, outcome, price, size (the order's),
    client_id, why, gate, and for a fill its fill_price, fill_size, fill_fee, liquidity and trade_id."""
    parts, params = [], {}
    for step in range(len(_KINDS)):
        sql, kind_params = _kind_sql(step, spec)
        parts.append(sql)
        params.update(kind_params)
    data = _frame(db, f"""SELECT t.*, COALESCE(m.question, {KALSHI_TITLE.format(a="t")}, t.condition_id) AS question
                          FROM ({" UNION ALL ".join(parts)}) t LEFT JOIN markets m ON m.condition_id = t.condition_id
                          ORDER BY t.at DESC, t.order_id DESC, t.step DESC LIMIT :lim OFFSET :off""",
                  {**params, "n": offset + limit, "lim": limit, "off": offset})
    data["event"] = data["event"].map(lambda e: EVENT_WORDS.get(e, e))
    to_human(data, "price", "size", "fill_price", "fill_size", "fill_fee")
    return to_utc(data.drop(columns=["step"]), "at")


def count(db: Database, spec: TrailFilter) -> int:
    total = 0
    for alias, _, condition, *_ in _KINDS:
        clause, params = spec.sql(alias)
        table = "orders o" if alias == "o" else "fills f"  # (a count needs no join)
        total += int(_scalar(db, f"SELECT COUNT(*) FROM {table} WHERE {condition} AND {clause}", params))
    return total


def order_by_reference(db: Database, reference: str) -> int | None:
    """The order an operator names by its id, its client id or the venue's id; None: no such order."""
    text_ref = reference.strip()
    if not text_ref:
        return None
    found = _scalar(db, """SELECT id FROM orders WHERE client_id = :r OR venue_order_id = :r
                           OR (:n IS NOT NULL AND id = :n) ORDER BY id LIMIT 1""",
                    {"r": text_ref, "n": int(text_ref) if text_ref.isdigit() and len(text_ref) < 19 else None})
    return None if found is None else int(found)
