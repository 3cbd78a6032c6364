"""`strategy_runs` in the main database: a run's parameters, progress and results.

A run's row is created by its request (launch_requests.py: the dashboard's launch, the CLI's
`backtest`); from then on the backtest process is the only writer of it (short NORMAL-sync
transactions), and the dashboard reads it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text

from contracts.backtest_spec import BacktestSpec
from storage.sqlite.db import Database, now_ms

MAX_CURVE_POINTS = 2_000
MAX_TRADES = 5_000
MAX_ORDERS = 5_000


class RunMetrics(Protocol):
    @property
    def drawdown_peak_at(self) -> int | None: ...
    @property
    def drawdown_trough_at(self) -> int | None: ...

    def as_dict(self) -> dict[str, Any]: ...


class RunResult(Protocol):
    """What a finished run stores (engine/backtest/runner.py's BacktestResult has it); read-only
    members, so a result holding narrower types (its own Metrics) still is one."""

    @property
    def metrics(self) -> RunMetrics: ...
    @property
    def curve(self) -> Sequence[tuple[int, float]]: ...
    @property
    def exposure(self) -> Sequence[tuple[int, float]]: ...
    @property
    def fills(self) -> list[dict[str, Any]]: ...
    @property
    def orders(self) -> list[dict[str, Any]]: ...
    @property
    def events(self) -> int: ...
    @property
    def decisions(self) -> int: ...
    @property
    def markets(self) -> list[str]: ...
    @property
    def refusals(self) -> dict[str, Any]: ...
    @property
    def latency(self) -> dict[str, Any]: ...
    @property
    def calibration(self) -> dict[str, Any]: ...
    @property
    def history(self) -> dict[str, Any]: ...


def load_spec(db: Database, run_id: int) -> BacktestSpec:
    with db.read() as conn:
        row = conn.execute(text("SELECT * FROM strategy_runs WHERE id = :id"), {"id": run_id}).mappings().first()
    if row is None:
        raise KeyError(f"no backtest run {run_id}")
    return BacktestSpec(kind=row["strategy_kind"], params=json.loads(row["params"]), from_ms=row["from_at"],
                        to_ms=row["to_at"], markets=tuple(json.loads(row["markets"])), seed=row["seed"],
                        source=row["source"], latency=row["latency"], capital=row["capital"],
                        limits=json.loads(row["limits"] or "{}"))


def mark_started(db: Database, run_id: int) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE strategy_runs SET pid = :pid, status = 'running' WHERE id = :id"),
                     {"pid": os.getpid(), "id": run_id})


def set_progress(db: Database, run_id: int, done: int, total: int) -> None:
    permille = 1000 if total <= 0 else min(1000, done * 1000 // total)
    with db.write() as conn:
        conn.execute(text("UPDATE strategy_runs SET progress = :p, events = :e WHERE id = :id"),
                     {"p": permille, "e": done, "id": run_id})


def _thin(points: Sequence[tuple[int, float]], limit: int,
          keep: tuple[int | None, ...] = ()) -> Sequence[tuple[int, float]]:
    """At most about `limit` points, evenly spaced, always with the last one and the points at
    the times in `keep` (the max drawdown's peak and trough: a chart of the stored curve then
    shows the drawdown the metrics report)."""
    if len(points) <= limit:
        return points
    step = len(points) / limit
    chosen = {int(i * step) for i in range(limit)} | {len(points) - 1}
    wanted = {t for t in keep if t is not None}
    chosen |= {i for i, (t, _) in enumerate(points) if t in wanted}
    return [points[i] for i in sorted(chosen)]


def finish(db: Database, run_id: int, result: RunResult) -> None:
    curve = _thin(result.curve, MAX_CURVE_POINTS,
                  (result.metrics.drawdown_peak_at, result.metrics.drawdown_trough_at))
    exposure = dict(result.exposure)  # same times as the curve: every kept point finds its exposure
    with db.write() as conn:
        conn.execute(
            text("""UPDATE strategy_runs SET status = 'done', finished_at = :now, progress = 1000, events = :events,
                        metrics = :metrics, equity_curve = :curve, trades = :trades, orders = :orders,
                        markets = :markets, error = NULL WHERE id = :id"""),
            {"now": now_ms(), "events": result.events, "id": run_id,
             "metrics": json.dumps({**result.metrics.as_dict(), "decisions": result.decisions,
                                    "refusals": result.refusals, "latency": result.latency,
                                    "calibration": result.calibration, "history": result.history}),
             "curve": json.dumps([[t, round(e, 6), round(exposure.get(t, 0.0), 6)] for t, e in curve]),
             "trades": json.dumps(result.fills[:MAX_TRADES]), "orders": json.dumps(result.orders[:MAX_ORDERS]),
             "markets": json.dumps(result.markets)},
        )


def fail(db: Database, run_id: int, error: str) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE strategy_runs SET status = 'failed', finished_at = :now, error = :e WHERE id = :id"),
                     {"now": now_ms(), "e": error[:2000], "id": run_id})


def work_dir_for(db_path: Path, run_id: int) -> Path:
    """A run's scratch folder, next to the database it belongs to (runs of two databases
    never share one)."""
    path = db_path.parent / "backtests" / str(run_id)
    path.mkdir(parents=True, exist_ok=True)
    return path
