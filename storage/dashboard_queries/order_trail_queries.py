"""The order trail as the Audit page reads it (`order_trail`, migration 0091): each step of an order's
life with why, newest first, filtered by mode, strategy, market and order, with what the order was
(side, outcome, price, size) and, for a fill, what traded.

Human units (probability, shares, pUSD), UTC times, one page at a time, newest first by id. An order
is found through the trail's one index (by order); a strategy or a market is read newest first until
the page is full (the trail has no index on them: each would cost every decision's transaction a
write, migration 0091), so a page of a strategy that placed most orders comes at once, and one of a
rare strategy, or the count, reads further.
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


@dataclass(frozen=True)
class TrailFilter:
    mode: str | None = None
    strategy: str | None = None
    condition_id: str | None = None
    order_id: int | None = None

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in (("order_id", self.order_id), ("strategy", self.strategy),
                              ("condition_id", self.condition_id)):
            if value is not None and value != "":
                clauses.append(f"t.{column} = :{column}")
                params[column] = value
        if self.mode:
            clauses.append("+t.mode = :mode")  # (never an index: the others narrow, the id orders)
            params["mode"] = self.mode
        return where(clauses), params


_SELECT = f"""SELECT t.id, t.at, t.event, t.order_id, t.strategy, t.mode, t.venue, t.condition_id,
        COALESCE(m.question, {KALSHI_TITLE.format(a="t")}, t.condition_id) AS question,
        o.side, o.outcome, o.price, o.size, o.client_id, t.why, t.gate,
        f.price AS fill_price, f.size AS fill_size, f.fee AS fill_fee, f.liquidity, f.trade_id
    FROM order_trail t LEFT JOIN orders o ON o.id = t.order_id
        LEFT JOIN fills f ON f.id = t.fill_id
        LEFT JOIN markets m ON m.condition_id = t.condition_id"""


def trail(db: Database, spec: TrailFilter, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """Newest first: id, at (UTC), event (in words), order_id, strategy, mode, venue, condition_id,
    question, side, outcome, price, size (the order's), client_id, why, gate, and for a fill its
    fill_price, fill_size, fill_fee, liquidity and trade_id."""
    clause, params = spec.sql()
    data = _frame(db, f"{_SELECT} WHERE {clause} ORDER BY t.id DESC LIMIT :lim OFFSET :off",
                  {**params, "lim": limit, "off": offset})
    data["event"] = data["event"].map(lambda e: EVENT_WORDS.get(e, e))
    to_human(data, "price", "size", "fill_price", "fill_size", "fill_fee")
    return to_utc(data, "at")


def count(db: Database, spec: TrailFilter) -> int:
    clause, params = spec.sql()
    return int(_scalar(db, f"SELECT COUNT(*) FROM order_trail t WHERE {clause}", params))


def order_by_reference(db: Database, reference: str) -> int | None:
    """The order an operator names by its id, its client id or the venue's id; None: no such order."""
    text_ref = reference.strip()
    if not text_ref:
        return None
    found = _scalar(db, """SELECT id FROM orders WHERE client_id = :r OR venue_order_id = :r
                           OR (:n IS NOT NULL AND id = :n) ORDER BY id LIMIT 1""",
                    {"r": text_ref, "n": int(text_ref) if text_ref.isdigit() and len(text_ref) < 19 else None})
    return None if found is None else int(found)
