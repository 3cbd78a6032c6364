"""Strategy, order/fill and audit reads (re-exported by storage.dashboard_queries.status_queries, which pages import).
Same conventions: human units, UTC timestamps, every list bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts import order_end, spreadsheet_csv
from contracts.jsonsafe import preview, read_stored
from contracts.venue_policies import venue_named
from contracts.venues import desk_venue, venue_of
from storage.desk import desk_status
from storage.engine_stores import ledger_risk_store
from storage.sqlite.db import Database
from storage.sqlite.frames import OPEN_RANK, to_human, to_utc, where
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar
from storage.sqlite.sql import in_list

CSV_MAX_ROWS = 100_000

# -- strategies and fair values -------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyRow:
    name: str
    kind: str
    params: dict[str, Any]
    markets: Any  # list of condition ids or {"filter": {...}}; raw text when not JSON
    enabled: bool
    status: str
    last_error: str | None
    version: int
    updated_at: int
    updated_by: str
    selected: int | None = None  # markets its list or filter selects in the engine now (None: not running)
    problems: tuple[str, ...] = ()  # stored params or markets that cannot be read, and why
    paused: bool = False  # paused on its own: hosted, deciding nothing (storage/desk/strategy_lifecycle.py)
    live: bool = True  # False: paper only, until promoted (storage/desk/strategy_lifecycle.py)

    @property
    def venue(self) -> str:
        """Where its markets are: a list naming another venue's markets trades that venue (a list names one
        venue), any other the desk's."""
        named, desk = self.markets if isinstance(self.markets, list) else [], desk_venue()
        return next((venue for m in named if isinstance(m, str) and (venue := venue_of(m)) != desk), desk)


def _decode(raw: str | None, default: Any, what: str, problems: list[str]) -> Any:
    """A stored column decoded; one that cannot be read (malformed, too big, too deep) is its
    text, shortened, and the reason joins `problems`."""
    if not raw:
        return default
    value, problem = read_stored(raw, what=what)
    if problem:
        problems.append(problem)
        return preview(raw)
    return value


def strategies(db: Database) -> pd.DataFrame:
    data = _frame(
        db,
        """SELECT s.name, kind, enabled, paused, live, status, last_error, error_at, version, params, markets,
                  s.updated_at, updated_by, sel.selected
           FROM strategies s LEFT JOIN strategy_selection sel ON sel.name = s.name
           WHERE s.deleted_at IS NULL ORDER BY s.name""",
    )
    data["enabled"] = data["enabled"].astype(bool)
    data["paused"] = data["paused"].astype(bool)
    data["live"] = data["live"].astype(bool)
    data["trades"] = data["live"].map({True: "live when the desk is", False: "paper only"})
    # A strategy naming another venue's markets trades that venue's ledger (engine/trading/passes/ledger.py).
    data["venue"] = data["markets"].map(venue_named)
    return to_utc(data, "error_at", "updated_at")


def paper_only(db: Database) -> list[str]:
    """The enabled strategies never promoted: on a live desk they trade in the desk venue's paper ledger
    (a strategy naming another venue's markets trades that venue's instead: `trading_venue`)."""
    with db.read() as conn:
        return desk_status.paper_only_names(conn.connection.driver_connection)  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's


def trading_venue(db: Database, venue: str) -> list[str]:
    """The enabled strategies trading a venue armed on its own (naming its markets, or spanning venues to it)."""
    with db.read() as conn:
        return desk_status.trading_venue(conn.connection.driver_connection, venue)  # type: ignore[arg-type]  # as above


def ledger_state(db: Database, venue: str, mode: str) -> tuple[str, str | None]:
    """The trading state of the ledger (venue, mode) other than the desk's and its reason (ACTIVE before
    it ever moved): the paper ledger is (polymarket, paper), Kalshi's (kalshi, its armed mode)."""
    with db.read() as conn:
        risk = ledger_risk_store.read(conn, venue, mode)
    return risk.trading_state, risk.reason


def _strategy(row: Mapping[Any, Any]) -> StrategyRow:
    problems: list[str] = []
    params = _decode(row["params"], {}, "the stored params text", problems)
    markets = _decode(row["markets"], [], "the stored markets text", problems)
    return StrategyRow(
        row["name"],
        row["kind"],
        params if isinstance(params, dict) else {},
        markets,
        bool(row["enabled"]),
        row["status"],
        row["last_error"],
        row["version"],
        row["updated_at"],
        row["updated_by"],
        None if row.get("selected") is None or pd.isna(row.get("selected")) else int(row["selected"]),
        tuple(problems),
        bool(row.get("paused") or False),
        bool(row.get("live", True)),
    )


def strategy_row(db: Database, name: str) -> StrategyRow | None:
    with db.read() as conn:
        row = (
            conn.execute(
                text("""SELECT s.name, kind, params, markets, enabled, paused, live, status, last_error, version,
                               s.updated_at, updated_by, sel.selected
                        FROM strategies s LEFT JOIN strategy_selection sel ON sel.name = s.name
                        WHERE s.name = :n AND s.deleted_at IS NULL"""),
                {"n": name},
            )
            .mappings()
            .first()
        )
    return None if row is None else _strategy(row)


def strategy_rows(frame: pd.DataFrame) -> dict[str, StrategyRow]:
    """The rows of a `strategies()` frame as StrategyRow (equal to what `strategy_row` reads), so
    a page that has just read the list need not read each row again."""
    rows = {}
    for record in frame.to_dict("records"):
        record["version"] = int(record["version"])
        record["updated_at"] = int(record["updated_at"].value // 1_000_000)  # UTC timestamp -> epoch ms
        record["last_error"] = None if pd.isna(record["last_error"]) else record["last_error"]
        rows[record["name"]] = _strategy(record)
    return rows


def fair_values(db: Database) -> pd.DataFrame:
    """Every fair-value signal: condition_id, question, source, fair_value (probability), version, updated."""
    data = _frame(
        db,
        """SELECT s.condition_id, m.question, s.source, s.fair_value, s.version, s.updated_at,
                                s.updated_by
                         FROM signals s LEFT JOIN markets m ON m.condition_id = s.condition_id
                         ORDER BY s.source = 'operator' DESC, s.updated_at DESC LIMIT 1000""",
    )
    return to_utc(to_human(data, "fair_value"), "updated_at")


# -- orders and fills -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeFilter:
    """Filters shared by the orders and fills tables (times: epoch ms UTC, inclusive)."""

    mode: str | None = None
    statuses: tuple[str, ...] = ()
    condition_id: str | None = None
    strategy: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    open_only: bool = False

    def sql(self, alias: str, time_column: str) -> tuple[str, dict[str, Any]]:
        clauses: list[str] = []
        params: dict[str, Any] = {}
        for column, value in (
            ("mode", self.mode),
            ("condition_id", self.condition_id),
            ("strategy", self.strategy),
        ):
            if value:
                # A unary + keeps SQLite off the (mode, ...) indexes unless working orders are asked
                # for: without statistics it would pick them and sort 100 k rows, where walking the
                # time index newest-first stops after one page.
                plain = column == "mode" and not self.open_only
                clauses.append(f"{'+' if plain else ''}{alias}.{column} = :{column}")
                params[column] = value
        if self.statuses:
            names, status_params = in_list("s", self.statuses)
            clauses.append(f"{alias}.status IN {names}")
            params.update(status_params)
        if self.since_ms is not None:
            clauses.append(f"{alias}.{time_column} >= :since")
            params["since"] = self.since_ms
        if self.until_ms is not None:
            clauses.append(f"{alias}.{time_column} <= :until")
            params["until"] = self.until_ms
        if self.open_only:
            clauses.append(f"{alias}.status_rank < {OPEN_RANK}")
        return where(clauses), params


# A Kalshi market's name is the title the operator saw when pairing it (it is in no `markets` row).
_ORDER_SELECT = """SELECT o.id, o.created_at, o.mode, o.venue, o.strategy, o.condition_id,
    COALESCE(m.question, (SELECT kalshi_title FROM venue_pairs WHERE 'kalshi:' || kalshi_ticker = o.condition_id))
        AS question,
    o.outcome, o.side, o.price, o.size, o.filled, o.size - o.filled AS remaining, o.status, o.tif,
    o.post_only, o.reason, o.end_reason, o.error, o.venue_order_id, o.client_id, o.updated_at, o.closed_at
    FROM orders o LEFT JOIN markets m ON m.condition_id = o.condition_id"""
_FILL_SELECT = """SELECT f.id, f.matched_at, f.mode, f.venue, f.strategy, f.condition_id,
    COALESCE(m.question, (SELECT kalshi_title FROM venue_pairs WHERE 'kalshi:' || kalshi_ticker = f.condition_id))
        AS question, f.outcome,
    f.side, f.price, f.size, f.price * f.size / 1000000 AS notional, f.fee, f.liquidity, f.status, f.order_id,
    f.trade_id,
    f.updated_at
    FROM fills f LEFT JOIN markets m ON m.condition_id = f.condition_id"""


def _orders_units(data: pd.DataFrame) -> pd.DataFrame:
    """Human units, and `ended`: why each order ended in words (contracts/order_end.py; "" while it works)."""
    data["ended"] = [order_end.shown(*row) for row in zip(data["status"], data["end_reason"], data["error"],
                                                           data["tif"], data["filled"], data["size"], strict=True)]
    to_human(data, "price", "size", "filled", "remaining")
    data["post_only"] = data["post_only"].astype(bool)
    return to_utc(data, "created_at", "updated_at", "closed_at")


def _fills_units(data: pd.DataFrame) -> pd.DataFrame:
    return to_utc(to_human(data, "price", "size", "notional", "fee"), "matched_at", "updated_at")


def orders(db: Database, spec: TradeFilter, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """Newest first (price: probability; size, filled, remaining: shares)."""
    clause, params = spec.sql("o", "created_at")
    data = _frame(
        db,
        f"{_ORDER_SELECT} WHERE {clause} ORDER BY o.created_at DESC, o.id DESC LIMIT :lim OFFSET :off",
        {**params, "lim": limit, "off": offset},
    )
    return _orders_units(data)


def count_orders(db: Database, spec: TradeFilter) -> int:
    clause, params = spec.sql("o", "created_at")
    return int(_scalar(db, f"SELECT COUNT(*) FROM orders o WHERE {clause}", params))


def fills(db: Database, spec: TradeFilter, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
    """Newest first (price: probability; size: shares; notional, fee: pUSD)."""
    clause, params = spec.sql("f", "matched_at")
    data = _frame(
        db,
        f"{_FILL_SELECT} WHERE {clause} ORDER BY f.matched_at DESC, f.id DESC LIMIT :lim OFFSET :off",
        {**params, "lim": limit, "off": offset},
    )
    return _fills_units(data)


def count_fills(db: Database, spec: TradeFilter) -> int:
    clause, params = spec.sql("f", "matched_at")
    return int(_scalar(db, f"SELECT COUNT(*) FROM fills f WHERE {clause}", params))


def trade_strategies(db: Database) -> list[str]:
    """Strategy names with orders or configuration (ix_orders_strategy makes DISTINCT cheap)."""
    with db.read() as conn:
        rows = conn.execute(
            text("SELECT DISTINCT strategy FROM orders UNION SELECT name FROM strategies ORDER BY 1")
        )
        return [name for (name,) in rows]


def _csv(data: pd.DataFrame) -> bytes:
    for column in data.columns:
        if isinstance(data[column].dtype, pd.DatetimeTZDtype):
            data[column] = data[column].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return spreadsheet_csv.frame_csv(data)


def orders_csv(db: Database, spec: TradeFilter, *, max_rows: int = CSV_MAX_ROWS) -> bytes:
    """The filtered orders as CSV (times ISO 8601 UTC, price probability, sizes shares)."""
    return _csv(orders(db, spec, limit=max_rows))


def fills_csv(db: Database, spec: TradeFilter, *, max_rows: int = CSV_MAX_ROWS) -> bytes:
    return _csv(fills(db, spec, limit=max_rows))


# -- audit ----------------------------------------------------------------------------------------


def _audit_sql(action: str | None, entity: str | None) -> tuple[str, dict[str, Any]]:
    clauses, params = [], {}
    if action:
        clauses.append("action = :action")
        params["action"] = action
    if entity:
        clauses.append("entity LIKE :entity")
        params["entity"] = f"%{entity}%"
    return where(clauses), params


def audit_log(
    db: Database, *, action: str | None = None, entity: str | None = None, limit: int = 100, offset: int = 0
) -> pd.DataFrame:
    """Newest first: id, at (UTC), actor, action, entity, before, after (JSON text)."""
    clause, params = _audit_sql(action, entity)
    data = _frame(
        db,
        f"""SELECT id, at, actor, action, entity, before, after FROM audit_log WHERE {clause}
                          ORDER BY at DESC, id DESC LIMIT :lim OFFSET :off""",
        {**params, "lim": limit, "off": offset},
    )
    return to_utc(data, "at")


def count_audit(db: Database, *, action: str | None = None, entity: str | None = None) -> int:
    clause, params = _audit_sql(action, entity)
    return int(_scalar(db, f"SELECT COUNT(*) FROM audit_log WHERE {clause}", params))


def audit_actions(db: Database) -> list[str]:
    with db.read() as conn:
        return [
            a for (a,) in conn.execute(text("SELECT DISTINCT action FROM audit_log ORDER BY 1 LIMIT 200"))
        ]
