"""What a front end writes when it asks for research work: a backtest, a sweep or a PMXT import,
each a request with its audit row, written here and nowhere else (docs/ARCHITECTURE.md, "Who
writes what"). The work itself is done by the process the request starts (`python -m engine
backtest --run-id N`, `sweep`, `import-history --pmxt`), which writes its own rows: a backtest's
run row from then on (backtest_runs.py), a sweep's study (its own file), an import's session.

The dashboard's launches call these before starting the process; the CLI's `backtest` asks for
its run the same way. A request is audited in the transaction that writes it, so there is never
a run row nobody asked for nor an audit row for a run that was not created.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from storage.desk.audit import write_audit
from storage.research import backtest_runs
from storage.sqlite.db import Database, now_ms

if TYPE_CHECKING:
    from contracts.backtest_spec import BacktestSpec
    from contracts.sweep_spec import SweepSpec


def request_backtest(db: Database, spec: BacktestSpec, name: str, *, actor: str) -> int:
    """The run row (status 'running', what `backtest --run-id` runs) and its `backtest.launch`
    audit row, in one transaction; returns the run's id."""
    with db.write() as conn:
        run_id = int(conn.execute(
            text("""INSERT INTO strategy_runs (name, created_at, status, strategy_kind, params, markets, from_at,
                        to_at, seed, source, latency, capital, limits) VALUES (:name, :now, 'running', :kind, :params,
                        :markets, :f, :t, :seed, :source, :latency, :capital, :limits) RETURNING id"""),
            {"name": name, "now": now_ms(), "kind": spec.kind, "params": json.dumps(spec.params, sort_keys=True),
             "markets": json.dumps(list(spec.markets)), "f": spec.from_ms, "t": spec.to_ms, "seed": spec.seed,
             "source": spec.source, "latency": spec.latency, "capital": spec.capital,
             "limits": json.dumps(spec.limits, sort_keys=True) if spec.limits else None},
        ).scalar_one())
        write_audit(conn, actor=actor, action="backtest.launch", entity=f"backtest_run:{run_id}", before=None,
                    after={"name": name, **asdict(spec)})
    return run_id


def backtest_not_started(db: Database, run_id: int, why: str) -> None:
    """A requested run whose process could not be started: failed, with why (never left 'running'
    with no process)."""
    backtest_runs.fail(db, run_id, f"could not start the backtest process: {why}")


def request_sweep(db: Database, spec: SweepSpec, jobs: int, *, actor: str) -> None:
    """The `sweep.launch` audit row of a sweep about to start with `jobs` workers (the sweep's
    process keeps its study apart, in the sweeps file: nothing else is written here)."""
    with db.write() as conn:
        write_audit(conn, actor=actor, action="sweep.launch", entity=f"sweep:{spec.name}", before=None,
                    after={**spec.as_dict(), "jobs": jobs})


def request_pmxt_import(db: Database, *, path: str, markets: list[str], name: str | None, actor: str) -> None:
    """The `session.pmxt_import` audit row of an import of the PMXT archive at `path` about to start
    (the import audits the session it writes, `session.import`, itself)."""
    with db.write() as conn:
        write_audit(conn, actor=actor, action="session.pmxt_import", entity=f"pmxt:{Path(path).name}", before=None,
                    after={"path": path, "markets": markets, "name": name})
