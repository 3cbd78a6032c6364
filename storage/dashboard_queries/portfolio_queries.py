"""Portfolio and risk reads (re-exported by storage.dashboard_queries.status_queries): equity with
drawdown, today's PnL, positions, per-strategy PnL, usage against each risk limit, the decisions log.

Money in pUSD, sizes in shares, prices as probabilities (floats, display only), times UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import BindParameter, bindparam, text

from contracts.venues import POLICIES, desk_venue, venue_of
from storage.dashboard_queries.named_frames import named_columns
from storage.desk import desk_status
from storage.desk.desk_status import PnlToday as PnlToday
from storage.engine_stores import execution_ledger, ledger_risk_store
from storage.sqlite.db import Database, now_ms
from storage.sqlite.frames import MICRO, OPEN_RANK, to_human, to_utc
from storage.sqlite.frames import frame as _frame
from storage.sqlite.frames import scalar as _scalar


def open_order_count(db: Database, mode: str | None = None, venue: str | None = None) -> int:
    """Working orders (status_rank < 100), of one mode or of both, of one venue or of every one."""
    with db.read() as conn:
        return execution_ledger.count_open(conn, mode, venue)


# -- portfolio: equity, today's PnL, positions ----------------------------------------------------


def daily_closes(db: Database, mode: str) -> pd.DataFrame:
    """The first snapshot's equity and each UTC day's last (columns at: UTC, equity: pUSD): what
    profit by day, week or month is measured on, exact whatever the desk's age (one row a day)."""
    with db.read() as conn:
        rows = conn.execute(text(
            """SELECT at, equity FROM (SELECT MIN(at) AS at, equity FROM portfolio_snapshots
                                          WHERE mode = :m AND venue = 'polymarket')
               WHERE at IS NOT NULL
               UNION
               SELECT MAX(at), equity FROM portfolio_snapshots WHERE mode = :m AND venue = 'polymarket'
               GROUP BY at / 86400000
               ORDER BY at"""), {"m": mode}).all()
    frame = pd.DataFrame(rows, columns=["at", "equity"])
    frame["equity"] = frame["equity"].astype("float64") / MICRO
    return to_utc(frame, "at")


def equity_curve(
    db: Database, mode: str, *, since_ms: int | None = None, max_points: int = 800
) -> pd.DataFrame:
    """Equity over time with drawdown from the running peak, downsampled in SQL.

    Each bucket keeps its last equity (SQLite returns the bare column of the MAX(at) row) and
    its highest equity, so a peak inside a bucket still counts toward the drawdown.
    Columns: at (UTC), equity (pUSD), peak (pUSD), drawdown_pct (%).
    """
    since = since_ms or 0
    with db.read() as conn:
        lo, hi = conn.execute(
            text("""SELECT MIN(at), MAX(at) FROM portfolio_snapshots
                                      WHERE mode = :mode AND venue = 'polymarket' AND at >= :since"""),
            {"mode": mode, "since": since},
        ).one()
    if lo is None:
        return pd.DataFrame(
            {"at": pd.Series(dtype="datetime64[ms, UTC]"), "equity": [], "peak": [], "drawdown_pct": []}
        )
    bucket = max(1, (hi - lo) // max_points + 1)
    frame = _frame(
        db,
        """SELECT MAX(at) AS at, equity, MAX(equity) AS bucket_peak FROM portfolio_snapshots
           WHERE mode = :mode AND venue = 'polymarket' AND at >= :since GROUP BY (at - :lo) / :bucket
           ORDER BY at""",
        {"mode": mode, "since": since, "lo": lo, "bucket": bucket},
    )
    to_human(frame, "equity", "bucket_peak")
    frame["peak"] = frame["bucket_peak"].cummax()
    frame["drawdown_pct"] = ((frame["peak"] - frame["equity"]) / frame["peak"]).where(
        frame["peak"] > 0, 0.0
    ) * 100
    return to_utc(frame.drop(columns="bucket_peak"), "at")


# What the equity chart marks, as a person says it: a kill, a re-arm, the desk armed live or back to paper.
DESK_EVENTS = {"kill": "kill", "rearm": "re-arm", "live": "live", "paper": "paper"}


def desk_events(db: Database, *, since_ms: int = 0, limit: int = 200) -> pd.DataFrame:
    """The moments that change what the equity means, newest `limit` since `since_ms`, oldest first:
    each kill and re-arm the engine carried out (its commands, done), and each switch of the desk's
    mode (its audit). Columns: at (UTC), event (DESK_EVENTS' words)."""
    frame = _frame(
        db,
        """SELECT at, event FROM (
               SELECT finished_at AS at, kind AS event FROM commands
               WHERE kind IN ('kill', 'rearm') AND status = 'done' AND finished_at >= :since
               UNION ALL
               SELECT at, json_extract("after", '$.mode') AS event FROM audit_log
               WHERE action = 'engine.set_mode' AND at >= :since AND json_valid("after"))
           WHERE event IN ('kill', 'rearm', 'live', 'paper') ORDER BY at DESC LIMIT :limit""",
        {"since": since_ms, "limit": limit},
    )
    frame["event"] = frame["event"].map(DESK_EVENTS)
    return to_utc(frame.iloc[::-1].reset_index(drop=True), "at")


def pnl_today(db: Database, mode: str, *, now: int | None = None, venue: str | None = None) -> PnlToday | None:
    """Since 00:00 UTC (one definition with the CLI's status: storage/desk/desk_status.py), of
    one venue's ledger (None: the desk's own venue's)."""
    with db.read() as conn:
        return desk_status.pnl_today(conn.connection.driver_connection, mode, now=now, venue=venue)  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely; it is sqlite3's


_LATEST_MID = """(SELECT t.mid FROM ticks t WHERE t.token_id = p.token_id AND t.mid IS NOT NULL
                   ORDER BY t.at DESC LIMIT 1)"""


# A Kalshi market's name: the title the operator saw when pairing it (it is in no `markets` row).
KALSHI_TITLE = "(SELECT kalshi_title FROM venue_pairs WHERE 'kalshi:' || kalshi_ticker = {a}.condition_id)"


def positions(
    db: Database,
    mode: str,
    *,
    condition_id: str | None = None,
    strategy: str | None = None,
    open_only: bool = True,
    venue: str | None = None,
) -> pd.DataFrame:
    """Positions with their latest recorded mid as the mark (None when nothing was recorded).

    Columns: strategy, venue, condition_id, question, outcome, resolution (Gamma's UMA resolution status,
    "" before any proposal), settled, pending, size (shares), cost, avg_price, mark, value,
    unrealized, realized, fees (pUSD / probability), updated_at, note (what the desk does with dust or a
    Kalshi fractional residue; "" for a plain position), tick (the market's grid in micro-units, NaN where the
    desk has no row for it).
    """
    where = ["p.mode = :mode"]
    if open_only:
        where.append("p.settled + p.pending != 0")
    if condition_id:
        where.append("p.condition_id = :cid")
    if strategy:
        where.append("p.strategy = :strategy")
    if venue:
        where.append("p.venue = :venue")
    frame = _frame(
        db,
        f"""SELECT p.strategy, p.venue, p.condition_id, COALESCE(m.question, {KALSHI_TITLE.format(a="p")}) AS question,
                   p.outcome, COALESCE(m.resolution_status, '') AS resolution, p.token_id, p.settled, p.pending,
                   p.settled + p.pending AS size, p.cost, p.realized, p.fees, p.updated_at, m.min_size, m.tick,
                   {_LATEST_MID} AS mark
            FROM positions p LEFT JOIN markets m ON m.condition_id = p.condition_id
            WHERE {" AND ".join(where)} ORDER BY p.cost DESC LIMIT 500""",
        {"mode": mode, "cid": condition_id, "strategy": strategy, "venue": venue},
    )
    notes = [_note(where_held, size, m) for where_held, size, m in zip(frame["venue"], frame["size"],
                                                                       frame["min_size"], strict=True)]
    to_human(frame, "settled", "pending", "size", "cost", "realized", "fees", "mark", "min_size")
    frame["avg_price"] = (frame["cost"] / frame["size"]).where(frame["size"] != 0)
    frame["value"] = frame["mark"] * frame["size"]
    frame["unrealized"] = frame["value"] - frame["cost"]
    frame["note"] = notes
    return to_utc(frame, "updated_at")


def _note(venue: str, size: int, min_size: float | None) -> str:
    """What the desk does with a position it cannot treat as a plain lot (sizes in micro-units)."""
    policy = POLICIES.get(venue)  # (a venue no longer registered: its rows shown plainly)
    if policy is not None and (whole := policy.whole_contract) and size % whole:
        return FRACTIONAL.format(residue=f"{(abs(size) % whole) / whole:g}", venue=policy.label)
    if min_size is not None and min_size == min_size and 0 < size < min_size:  # (min_size == min_size: not NaN)
        return DUST.format(minimum=f"{min_size / 1e6:g}")
    return ""


# A position below its market's minimum order (engine/trading/exits/selling.py says the same to an exit).
DUST = ("dust: below the market's minimum order of {minimum}, it cannot be sold on its own; held to resolution, "
        "merged with its complement where held, or sold with the next lot")
# A Kalshi position that is not a whole number of contracts: another trader filled part of a contract
# (Kalshi counts to 0.01 since 2026). Kalshi takes orders in hundredths, so an exit sells it whole.
FRACTIONAL = ("fractional residue: {residue} of a contract beyond whole contracts (another trader filled part of "
              "one); sold with the rest where {venue} bids for it, otherwise held to settlement")


_NAMES: BindParameter[Any] = bindparam("names", expanding=True)  # `strategy IN :names`, one parameter per name


@dataclass(frozen=True)
class StrategiesPnl:
    """Some strategies' figures on one ledger, pUSD: realized (before fees), unrealized at the last
    recorded mid (cost where none), fees."""

    realized: float
    unrealized: float
    fees: float

    @property
    def total(self) -> float:
        return self.realized + self.unrealized - self.fees


def strategies_pnl(db: Database, mode: str, names: list[str], *, venue: str) -> StrategiesPnl:
    """The named strategies' own figures on the `mode` ledger of `venue` (their part of it, not the whole ledger's)."""
    if not names:
        return StrategiesPnl(0.0, 0.0, 0.0)
    with db.read() as conn:
        realized, fees = conn.execute(
            text("""SELECT COALESCE(SUM(realized), 0), COALESCE(SUM(fees), 0) FROM positions
                    WHERE mode = :mode AND venue = :venue AND strategy IN :names""").bindparams(_NAMES),
            {"mode": mode, "venue": venue, "names": list(names)}).one()
    held = positions(db, mode, venue=venue)
    held = held[held["strategy"].isin(names)]
    return StrategiesPnl(realized / MICRO, float(held["unrealized"].fillna(0.0).sum()), fees / MICRO)


def strategy_pnl(db: Database, mode: str) -> pd.DataFrame:
    """Per strategy from `positions`: realized, fees, open cost (pUSD) and open positions."""
    frame = _frame(
        db,
        """SELECT strategy, SUM(realized) AS realized, SUM(fees) AS fees,
                  SUM(CASE WHEN settled + pending != 0 THEN cost ELSE 0 END) AS open_cost,
                  SUM(settled + pending != 0) AS open_positions
           FROM positions WHERE mode = :mode GROUP BY strategy""",
        {"mode": mode},
    )
    return to_human(frame, "realized", "fees", "open_cost")


# -- risk usage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskUsage:
    """Usage of each limit now, in the limits' units (pUSD, count, per minute, %)."""

    total_exposure: float
    by_market: pd.DataFrame  # condition_id, question, exposure
    by_strategy: pd.DataFrame  # strategy, exposure
    by_event: pd.DataFrame  # event, question (one of its markets), markets, exposure
    open_orders: int
    orders_last_minute: int
    daily_pnl: float | None
    drawdown_pct: float | None
    equity: float | None
    peak_equity: float | None

    @staticmethod
    def top(frame: pd.DataFrame) -> float:
        return float(frame["exposure"].max()) if not frame.empty else 0.0


def _exposure_rows(db: Database, mode: str) -> pd.DataFrame:
    """Cost of held positions plus open BUY orders' notional, as the risk gate measures it."""
    return _frame(
        db,
        """SELECT p.strategy, p.condition_id, COALESCE(NULLIF(m.neg_risk_market_id, ''),
                  p.condition_id) AS event,
                  m.question, p.cost AS amount
           FROM positions p LEFT JOIN markets m ON m.condition_id = p.condition_id
           WHERE p.mode = :mode AND p.settled + p.pending > 0
           UNION ALL
           SELECT o.strategy, o.condition_id, COALESCE(NULLIF(m.neg_risk_market_id, ''), o.condition_id),
                  m.question, o.price * (o.size - o.filled) / 1000000
           FROM orders o LEFT JOIN markets m ON m.condition_id = o.condition_id
           WHERE o.mode = :mode AND o.status_rank < :open AND o.side = 'BUY' AND o.size > o.filled""",
        {"mode": mode, "open": OPEN_RANK},
    )


def _by(rows: pd.DataFrame, *keys: str) -> pd.DataFrame:
    grouped = rows.groupby(list(keys), dropna=False, as_index=False)["amount"].sum()
    grouped["exposure"] = grouped.pop("amount") / MICRO
    return grouped.sort_values("exposure", ascending=False, ignore_index=True)


def _by_event(rows: pd.DataFrame) -> pd.DataFrame:
    """Per event (neg-risk group, or the market itself), named after one of its markets."""
    grouped = rows.groupby("event", as_index=False).agg(
        amount=("amount", "sum"), question=("question", "first"), markets=("condition_id", "nunique")
    )
    grouped["exposure"] = grouped.pop("amount") / MICRO
    many = grouped["markets"] > 1
    grouped.loc[many, "question"] = (
        grouped.loc[many, "question"] + " (+" + (grouped.loc[many, "markets"] - 1).astype(str) + " more)"
    )
    return grouped.sort_values("exposure", ascending=False, ignore_index=True)


def risk_usage(db: Database, mode: str, *, now: int | None = None) -> RiskUsage:
    now = now_ms() if now is None else now
    rows = _exposure_rows(db, mode)
    rows["question"] = rows["question"].fillna("")
    with db.read() as conn:
        state = conn.execute(text("SELECT mode, peak_equity FROM engine_state WHERE id = 1")).one()
        # The desk's peak is its mode's; paper on a live desk is the paper ledger's, with a peak of its own.
        ledger = ledger_risk_store.read(conn, desk_venue(), "paper").peak_equity if mode == "paper" else None
    pnl = pnl_today(db, mode, now=now)
    equity = pnl.equity if pnl else None
    stored = state.peak_equity if state.mode == mode else ledger
    peak = stored / MICRO if stored is not None else None
    if equity is not None:
        peak = max(peak or equity, equity)
    drawdown = (peak - equity) / peak * 100 if peak and equity is not None and peak > 0 else None
    rate = _scalar(
        db,
        "SELECT COUNT(*) FROM orders WHERE created_at >= :since AND +mode = :mode",  # time index
        {"since": now - 60_000, "mode": mode},
    )
    return RiskUsage(
        total_exposure=float(rows["amount"].sum()) / MICRO,
        by_market=_by(rows, "condition_id", "question"),
        by_strategy=_by(rows, "strategy"),
        by_event=_by_event(rows),
        open_orders=open_order_count(db, mode),
        orders_last_minute=int(rate),
        daily_pnl=pnl.total if pnl else None,
        drawdown_pct=drawdown,
        equity=equity,
        peak_equity=peak,
    )


def decisions(
    db: Database,
    *,
    mode: str | None = None,
    strategy: str | None = None,
    condition_id: str | None = None,
    reason: str | None = None,
    since_ms: int | None = None,
    limit: int = 300,
) -> pd.DataFrame:
    """The risk gate's trims and refusals, newest first (price: probability, sizes: shares).
    `mode` keeps one ledger's decisions (paper and live never mix); None means both."""
    where, params = ["1 = 1"], dict[str, Any](limit=limit)
    filters = (("d.mode", mode), ("strategy", strategy), ("d.condition_id", condition_id), ("reason", reason))
    for column, value in filters:
        if value:
            key = column.split(".")[-1]
            where.append(f"{column} = :{key}")
            params[key] = value
    if since_ms is not None:
        where.append("at >= :since")
        params["since"] = since_ms
    frame = _frame(
        db,
        f"""SELECT d.at, d.mode, d.strategy, d.condition_id, COALESCE(m.question, {KALSHI_TITLE.format(a="d")})
                   AS question, d.side, d.price, d.requested,
                   d.approved,
                   d.action, d.reason, d.detail
            FROM decisions d LEFT JOIN markets m ON m.condition_id = d.condition_id
            WHERE {" AND ".join(where)} ORDER BY d.at DESC LIMIT :limit""",
        params,
    )
    # The decisions log keeps no venue: its market's id says which (none for a desk-wide note).
    frame["venue"] = frame["condition_id"].map(lambda c: venue_of(c) if isinstance(c, str) and c else None)
    return to_utc(to_human(named_columns(db, frame, "detail"), "price", "requested", "approved"), "at")


def decision_facets(db: Database, mode: str | None = None) -> dict[str, list[str]]:
    """Distinct reasons seen in the decisions log (of `mode`, or all) and the strategies (for the filters)."""
    with db.read() as conn:
        reasons = [
            r
            for (r,) in conn.execute(
                text("SELECT DISTINCT reason FROM decisions WHERE :mode IS NULL OR mode = :mode ORDER BY reason"),
                {"mode": mode},
            )
        ]
        names = [r for (r,) in conn.execute(text("SELECT name FROM strategies WHERE deleted_at IS NULL ORDER BY name"))]
    return {"reasons": reasons, "strategies": names}
