"""Backtest reads (re-exported by storage.dashboard_queries.status_queries): past runs and their results, and which
markets have data to replay in a range.

Same conventions as the other read modules: human units (pUSD, shares, probabilities), UTC
timestamps in frames, every list bounded. A run's results are written by the backtest
process as JSON (storage/research/backtest_runs.py): `metrics` a flat object, `equity_curve` a list of
[t_ms, equity_usdc, exposure_usdc] (at most 2,000 points), `trades` a list of fills and
`orders` a list of orders in micro-units (at most 5,000 each); malformed JSON reads as "no
results" rather than an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from sqlalchemy import text

from contracts.jsonsafe import read_stored
from storage.sqlite.db import Database
from storage.sqlite.frames import MICRO, to_utc
from storage.sqlite.frames import frame as _frame
from storage.sqlite.sql import in_list

DataSource = Literal["recorded", "history"]
CURVE_COLUMNS = ["at", "equity", "exposure", "peak", "drawdown_pct"]
TRADE_COLUMNS = [
    "at",
    "condition_id",
    "token_id",
    "question",
    "outcome",
    "side",
    "price",
    "size",
    "value",
    "fee",
    "liquidity",
    "status",
]

ORDER_COLUMNS = ["start", "end", "condition_id", "token_id", "question", "outcome", "side", "price", "size",
                 "filled", "tif", "status"]


# A run's trades and equity curve are written by the backtest itself and can be large; the
# depth bound is what matters here.
RUN_FIELD_BYTES = 1 << 30


def _json_or(raw: str | None, default: Any) -> Any:
    if not raw:
        return default
    value, problem = read_stored(raw, max_bytes=RUN_FIELD_BYTES, what="a stored run field")
    return default if problem else value


# -- the runs list --------------------------------------------------------------------------------


def _metric(name: str) -> str:
    return f"CASE WHEN json_valid(metrics) THEN json_extract(metrics, '$.{name}') END AS {name}"


def backtest_runs(db: Database, *, status: str | None = None, limit: int = 200) -> pd.DataFrame:
    """Newest first: id, name, status, kind, source, market_count, from_at, to_at (UTC), seed,
    progress_pct, events, total_return (fraction), trades, end_equity (pUSD), created_at,
    finished_at (UTC), pid, error."""
    data = _frame(
        db,
        f"""SELECT id, name, status, strategy_kind AS kind, source,
                   CASE WHEN json_valid(markets) THEN json_array_length(markets) END AS market_count,
                   from_at, to_at, seed, progress / 10.0 AS progress_pct, events,
                   {_metric("total_return")}, {_metric("trades")}, {_metric("end_equity")},
                   created_at, finished_at, pid, error
            FROM strategy_runs {"WHERE status = :status" if status else ""}
            ORDER BY id DESC LIMIT :limit""",
        {"status": status, "limit": limit},
    )
    return to_utc(data, "from_at", "to_at", "created_at", "finished_at")


@dataclass(frozen=True)
class RunProgress:
    """A run still marked 'running': what the progress panel shows (times in epoch ms)."""

    id: int
    name: str
    progress: int  # permille
    events: int
    pid: int | None
    created_at: int


def running_backtests(db: Database, *, limit: int = 50) -> list[RunProgress]:
    with db.read() as conn:
        rows = conn.execute(
            text("""SELECT id, name, progress, events, pid, created_at FROM strategy_runs
                    WHERE status = 'running' ORDER BY id DESC LIMIT :n"""),
            {"n": limit},
        ).all()
    return [RunProgress(*row) for row in rows]


# -- one run ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BacktestRun:
    """One run with its decoded spec and results. Times in epoch ms; `metrics` as written by
    the engine (None until done); `curve` and `trades` are display frames (see their builders)."""

    id: int
    name: str
    status: str
    kind: str
    params: dict[str, Any]
    markets: list[str]
    from_at: int
    to_at: int
    seed: int
    source: str
    progress: int
    events: int
    created_at: int
    finished_at: int | None
    pid: int | None
    error: str | None
    metrics: dict[str, Any] | None
    curve: pd.DataFrame = field(repr=False)
    trades: pd.DataFrame = field(repr=False)
    orders: pd.DataFrame = field(repr=False)


def curve_frame(points: Any) -> pd.DataFrame:
    """[[t_ms, equity, exposure], ...] -> at (UTC), equity, exposure (pUSD), peak (pUSD), and
    drawdown_pct (% below the running peak, >= 0)."""
    rows = [p[:3] for p in points if isinstance(p, list) and len(p) >= 3] if isinstance(points, list) else []
    data = pd.DataFrame(rows, columns=["at", "equity", "exposure"]).astype(
        {"at": "int64", "equity": "float64", "exposure": "float64"}
    )
    data["peak"] = data["equity"].cummax()
    peak = data["peak"].where(data["peak"] > 0)
    data["drawdown_pct"] = ((data["peak"] - data["equity"]) / peak * 100).fillna(0.0)
    return to_utc(data, "at")[CURVE_COLUMNS]


def trades_frame(fills: Any, questions: dict[str, str]) -> pd.DataFrame:
    """Fills (micro-units) -> at (UTC), market, outcome, side, price (probability), size
    (shares), value and fee (pUSD), liquidity, status; in match order."""
    rows = [f for f in fills if isinstance(f, dict)] if isinstance(fills, list) else []
    data = pd.DataFrame(
        rows,
        columns=[
            "matched_at",
            "condition_id",
            "token_id",
            "outcome",
            "side",
            "price",
            "size",
            "fee",
            "liquidity",
            "status",
        ],
    )
    data = data.rename(columns={"matched_at": "at"})
    for column in ("price", "size", "fee"):
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64") / MICRO
    data["value"] = data["price"] * data["size"]
    data["question"] = data["condition_id"].map(lambda cid: questions.get(cid, cid))
    data["at"] = pd.to_numeric(data["at"], errors="coerce")
    return to_utc(data, "at")[TRADE_COLUMNS]


def orders_frame(orders: Any, questions: dict[str, str]) -> pd.DataFrame:
    """Orders (micro-units, as the run stored them) -> start and end (UTC; end NaT when the run
    ended with it still working, or for runs stored before orders had a close time), market,
    outcome, side, price (probability), size and filled (shares), tif, status; by placement."""
    rows = [o for o in orders if isinstance(o, dict)] if isinstance(orders, list) else []
    data = pd.DataFrame(rows, columns=["created_at", "closed_at", "condition_id", "token_id", "outcome", "side",
                                       "price", "size", "filled", "tif", "status"])
    data = data.rename(columns={"created_at": "start", "closed_at": "end"})
    for column in ("price", "size", "filled"):
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64") / MICRO
    for column in ("start", "end"):
        data[column] = pd.to_numeric(data[column], errors="coerce")
    data["question"] = data["condition_id"].map(lambda cid: questions.get(cid, cid))
    return to_utc(data, "start", "end")[ORDER_COLUMNS]


def market_questions(db: Database, condition_ids: list[str]) -> dict[str, str]:
    if not condition_ids:
        return {}
    names, params = in_list("c", condition_ids)
    with db.read() as conn:
        rows = conn.execute(
            text(f"SELECT condition_id, question FROM markets WHERE condition_id IN {names}"), params
        ).all()
    return {cid: question for cid, question in rows}


def backtest_run(db: Database, run_id: int) -> BacktestRun | None:
    with db.read() as conn:
        row = (
            conn.execute(text("SELECT * FROM strategy_runs WHERE id = :id"), {"id": run_id})
            .mappings()
            .first()
        )
    if row is None:
        return None
    markets = [m for m in _json_or(row["markets"], []) if isinstance(m, str)]
    fills = _json_or(row["trades"], [])
    traded = sorted(
        {cid for f in fills if isinstance(f, dict) and isinstance(cid := f.get("condition_id"), str)}
        - set(markets)
    )
    metrics = _json_or(row["metrics"], None)
    questions = market_questions(db, [*markets, *traded])
    return BacktestRun(
        id=row["id"],
        name=row["name"],
        status=row["status"],
        kind=row["strategy_kind"],
        params=_json_or(row["params"], {}),
        markets=markets,
        from_at=row["from_at"],
        to_at=row["to_at"],
        seed=row["seed"],
        source=row["source"],
        progress=row["progress"],
        events=row["events"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        pid=row["pid"],
        error=row["error"],
        metrics=metrics if isinstance(metrics, dict) else None,
        curve=curve_frame(_json_or(row["equity_curve"], [])),
        trades=trades_frame(fills, questions),
        orders=orders_frame(_json_or(row["orders"], []), questions),
    )


# -- data to replay -----------------------------------------------------------------------------


# Events per market in [from, to]: recorded ticks of both tokens (book, change, trade), or
# imported price points of the YES token (what the history replay reads). Each count is a range
# seek on ticks(token_id, at) / price_history(token_id, at).
def _ticks(token: str, what: str) -> str:
    return f"(SELECT {what} FROM ticks t WHERE t.token_id = m.{token} AND t.at BETWEEN :f AND :t)"


def _points(what: str) -> str:
    return f"(SELECT {what} FROM price_history p WHERE p.token_id = m.yes_token AND p.at BETWEEN :f AND :t)"


_COUNTS = {
    "recorded": f"{_ticks('yes_token', 'COUNT(*)')} + {_ticks('no_token', 'COUNT(*)')}",
    "history": _points("COUNT(*)"),
}
_HAS_DATA = {
    "recorded": f"EXISTS {_ticks('yes_token', '1')} OR EXISTS {_ticks('no_token', '1')}",
    "history": f"EXISTS {_points('1')}",
}


def backtest_market_choices(
    db: Database,
    source: DataSource,
    from_ms: int,
    to_ms: int,
    *,
    include: tuple[str, ...] = (),
    limit: int = 300,
) -> pd.DataFrame:
    """Markets with data in [from, to] (most events first), plus any ids in `include` even
    without data (so a picked market whose data left the range stays visible, with 0):
    condition_id, question, events."""
    names, include_params = in_list("i", include)
    return _frame(
        db,
        f"""SELECT condition_id, question, {_COUNTS[source]} AS events FROM markets m
            WHERE condition_id IN {names} OR {_HAS_DATA[source]}
            ORDER BY events DESC, question LIMIT :n""",
        {"f": from_ms, "t": to_ms, "n": limit, **include_params},
    )


def backtest_event_counts(
    db: Database, source: DataSource, from_ms: int, to_ms: int, condition_ids: list[str]
) -> dict[str, int]:
    """Events in [from, to] for each named market that is known (unknown ids are left out)."""
    if not condition_ids:
        return {}
    names, params = in_list("c", condition_ids)
    with db.read() as conn:
        rows = conn.execute(
            text(f"SELECT condition_id, {_COUNTS[source]} FROM markets m WHERE condition_id IN {names}"),
            {"f": from_ms, "t": to_ms, **params},
        ).all()
    return {cid: int(n) for cid, n in rows}


def backtest_data_bounds(db: Database, source: DataSource) -> tuple[int, int] | None:
    """First and last time (epoch ms) of recorded ticks or imported history, or None."""
    table = "ticks" if source == "recorded" else "price_history"
    with db.read() as conn:
        # Two subqueries: SQLite answers a lone MIN or MAX with one index seek, both together with a scan.
        first, last = conn.execute(
            text(f"SELECT (SELECT MIN(at) FROM {table}), (SELECT MAX(at) FROM {table})")
        ).one()
    return None if first is None else (int(first), int(last))


def market_min_sizes(db: Database, condition_ids: list[str]) -> dict[str, float]:
    """The venue's minimum order size (shares) of each named, known market."""
    if not condition_ids:
        return {}
    names, params = in_list("c", condition_ids)
    with db.read() as conn:
        rows = conn.execute(text(f"SELECT condition_id, min_size FROM markets WHERE condition_id IN {names}"),
                            params).all()
    return {cid: size / MICRO for cid, size in rows}
