"""A desk with a day of trading and a dozen backtests, built from a real one.

The real desk (simulator, engine, its demo market maker) trades for a few minutes first, so every
table holds rows as the engine writes them; then the rows of the tables that grow with trading are
copied back in time, window after window, until they cover a day: the same orders, fills, ticks,
decisions, snapshots, markouts and candles, shifted by whole windows (and, with `strategies` > 1, as
that many strategies: the demo's history again under other names, as strategies that traded that day
and are off now). Working orders are not copied: the engine restarted on this desk finds only its own.
One real backtest of the last hours of those ticks (the CLI's, as the Backtest page launches it) is
run, and its row copied to make a dozen. Then the desk is started again as `make run` starts it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT

from contracts.passwords import hash_password
from tests.browser.cdp import free_port
from tests.browser.navigation import PASSWORD, healthy
from tests.helpers import isolated_env, run_cli, wait_until
from tests.supervisor_harness import Supervisor, relocated_conf

DAY_MS = 86_400_000
BACKTESTS = 12
BACKTEST_HOURS = 3
# Each table copied: the columns shifted in time; its id column; its text columns made unique per copy;
# its reference to another copied table (that table's id moves with the copy); the rows copied.
TIMES = ("at", "created_at", "submitted_at", "acked_at", "updated_at", "closed_at", "ending_at", "expires_at",
         "matched_at", "computed_at", "start_at", "first_at", "last_at")


@dataclass(frozen=True)
class Copied:
    table: str
    ids: str | None = None  # its integer id, moved on by the table's span at each copy
    unique: tuple[str, ...] = ()  # text made unique per copy
    refers: tuple[tuple[str, str], ...] = ()  # (column, table whose id it holds)
    where: str = "1 = 1"
    per_strategy: bool = True  # copied once per strategy name (False: market data, once)


COPIED = (
    Copied("orders", "id", ("client_id", "venue_order_id"), where="status_rank = 100"),
    Copied("fills", "id", ("trade_id",), (("order_id", "orders"),),
           where="order_id IN (SELECT id FROM orders WHERE status_rank = 100)"),
    Copied("fill_markouts", None, (), (("fill_id", "fills"),),
           where="fill_id IN (SELECT f.id FROM fills f JOIN orders o ON o.id = f.order_id WHERE o.status_rank = 100)"),
    Copied("decisions", "id"),
    Copied("portfolio_snapshots", "id", per_strategy=False),
    Copied("strategy_snapshots", "id"),
    Copied("ticks", "id", per_strategy=False),
    Copied("candles", None, per_strategy=False, where="width_ms = 60000"),
)


@dataclass(frozen=True)
class Desk:
    tmp: Path
    env: dict[str, str]
    port: int

    @property
    def db_path(self) -> Path:
        return Path(self.env["TRADER_DB"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def desk_in(tmp: Path) -> Desk:
    """The desk kept in `tmp` (its database, settings and logs), on free ports."""
    port = free_port()
    env = isolated_env(tmp, SIMULATOR_PORT=str(free_port()), STREAMLIT_SERVER_PORT=str(port),
                       DASHBOARD_PASSWORD_HASH=hash_password(PASSWORD), ENGINE_LOG_FILE=str(tmp / "var/log/engine.log"))
    return Desk(tmp, env, port)


def new_desk(tmp: Path) -> Desk:
    """A fresh desk as `make run` sets one up: `engine init`, the demo strategy, paper on the simulator."""
    desk = desk_in(tmp)
    init = run_cli(["init"], desk.env)
    if init.returncode != 0:
        raise SystemExit(f"engine init failed: {init.stderr}")
    return desk


@contextmanager
def running(desk: Desk, programs: set[str]) -> Iterator[Supervisor]:
    """The project's supervisord.conf running `programs` on the desk; their pids by `sup.wait_running`."""
    sup = Supervisor(relocated_conf(desk.tmp, programs), desk.env)
    try:
        for program in sorted(programs):
            sup.wait_running(program, timeout=120)
        if "dashboard" in programs:
            wait_until(lambda: healthy(desk.url), 120, 0.5, "the dashboard's /_stcore/health")
        yield sup
    finally:
        sup.shutdown()


def trade_for(desk: Desk, seconds: float) -> None:
    """The simulator and the engine trading the demo strategy for `seconds` (its fills, ticks, snapshots)."""
    with running(desk, {"simulator", "engine"}):
        time.sleep(seconds)


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info('{table}')")]


def _copy_rows(conn: sqlite3.Connection, spec: Copied, copies: int, span: int, steps: dict[str, int],
               names: list[str]) -> int:
    columns = _columns(conn, spec.table)
    per_name = names if spec.per_strategy and "strategy" in columns else [""]
    conn.execute("DROP TABLE IF EXISTS temp.real_rows")  # what the engine wrote: every copy is of these
    conn.execute(f"CREATE TEMP TABLE real_rows AS SELECT * FROM main.{spec.table} WHERE {spec.where}")
    made = 0
    for variant, name in enumerate(per_name):
        def value(column: str, n: str, variant: int = variant, name: str = name) -> str:
            copy = f"({n} * {len(per_name)} + {variant})"  # this copy's number among all of the table's
            if column == spec.ids:
                return f"{column} + {copy} * {steps[spec.table]}"
            if column in dict(spec.refers):
                return f"{column} + {copy} * {steps[dict(spec.refers)[column]]}"
            if column in spec.unique:
                return f"{column} || '-h' || {copy}"
            if column in TIMES:
                return f"{column} - {n} * {span}"
            if column == "strategy" and name:
                return f"'{name}'"
            return column

        # Copy 0 of the first name is the real row itself; every other (n, name) pair is a copy.
        sql = f"""WITH RECURSIVE k(n) AS (SELECT {0 if variant else 1} UNION ALL SELECT n + 1 FROM k WHERE n < {copies})
                  INSERT OR IGNORE INTO {spec.table} ({', '.join(columns)})
                  SELECT {', '.join(value(c, 'k.n') for c in columns)} FROM temp.real_rows, k
                  {'WHERE strategy = :base' if name else ''}"""
        before = conn.total_changes
        conn.execute(sql, {"base": names[0]} if name else {})
        made += conn.total_changes - before
    return made


def a_day_of_history(desk: Desk, *, strategies: int = 3) -> dict[str, int]:
    """Copy the real rows back in time until they cover a day (see the module's docstring)."""
    conn = sqlite3.connect(desk.db_path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        first, last = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
        span = max(60_000, (last - first) // 60_000 * 60_000 + 60_000)  # whole minutes: candles stay aligned
        copies = DAY_MS // span
        base = conn.execute("SELECT name FROM strategies ORDER BY id LIMIT 1").fetchone()[0]
        names = [base] + [f"{base}-{i}" for i in range(2, strategies + 1)]
        conn.execute("BEGIN")
        for name in names[1:]:  # the other names: strategies that traded that day and are off now
            columns = [c for c in _columns(conn, "strategies") if c != "id"]
            picked = ", ".join(f"'{name}'" if c == "name" else "0" if c == "enabled" else c for c in columns)
            conn.execute(f"INSERT INTO strategies ({', '.join(columns)}) SELECT {picked} FROM strategies "
                         "WHERE name = ?", (base,))
        steps = {spec.table: int(conn.execute(f"SELECT COALESCE(MAX({spec.ids}), 0) + 1 FROM {spec.table}")
                                 .fetchone()[0]) for spec in COPIED if spec.ids}
        made = {spec.table: _copy_rows(conn, spec, copies, span, steps, names) for spec in COPIED}
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        return made
    finally:
        conn.close()


def a_dozen_backtests(desk: Desk) -> None:
    """One real backtest of the demo strategy over the last hours of ticks, and its row copied to twelve."""
    conn = sqlite3.connect(desk.db_path)
    try:
        kind, params = conn.execute("SELECT kind, params FROM strategies ORDER BY id LIMIT 1").fetchone()
        last = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
    finally:
        conn.close()
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "engine", "backtest", "--strategy", kind, "--params", params, "--from",
         str(last - BACKTEST_HOURS * 3_600_000), "--to", str(last), "--name", "bench backtest 1"],
        cwd=ROOT, env=desk.env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"the backtest failed: {done.stderr[-2000:]}")
    print(f"  one real backtest of {BACKTEST_HOURS} h of ticks: {time.perf_counter() - began:.0f} s")
    conn = sqlite3.connect(desk.db_path, isolation_level=None)
    try:
        columns = [c for c in _columns(conn, "strategy_runs") if c != "id"]
        run_id = conn.execute("SELECT MAX(id) FROM strategy_runs").fetchone()[0]
        for i in range(2, BACKTESTS + 1):
            picked = ", ".join(f"'bench backtest {i}'" if c == "name" else f"created_at - {i * 3_600_000}"
                               if c == "created_at" else c for c in columns)
            conn.execute(f"INSERT INTO strategy_runs ({', '.join(columns)}) SELECT {picked} FROM strategy_runs "
                         "WHERE id = ?", (run_id,))
    finally:
        conn.close()


def build_day_desk(tmp: Path, *, trade_s: float, strategies: int) -> Desk:
    desk = new_desk(tmp)
    began = time.perf_counter()
    trade_for(desk, trade_s)
    made = a_day_of_history(desk, strategies=strategies)
    a_dozen_backtests(desk)
    size = desk.db_path.stat().st_size / 2**20
    print(f"built a desk with a day of trading in {time.perf_counter() - began:.0f} s ({size:,.0f} MiB): "
          + ", ".join(f"{n:,} {table}" for table, n in made.items()) + f", {BACKTESTS} backtests")
    return desk
