"""Market making with and without the controls that read its fills (toxicity from its own
markouts, pulls on a sweep or jump), side by side on the simulator's default market, which has
informed takers: first a paper run (the real simulator and engine processes, the variants
trading the same markets at once, each its own strategy), then a backtest of each variant on
the session that run recorded. Prints, per variant: fills, markouts at 10 s and 60 s (pUSD and
bps of the fills' notional) and PnL.

    python bench/mm_toxicity.py [--minutes 15] [--seed 42] [--keep DIR]

Everything talks to 127.0.0.1 only; the desk's files live in a temporary folder (or --keep DIR,
to look at the run on the dashboard afterwards: TRADER_DB=DIR/trader.db).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import ROOT

from storage.desk.config import Change, create_strategy, save_risk_limits
from storage.research.seed_data import seed_running_strategy
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

MARKETS = {"filter": {"max_markets": 4, "sort": "liquidity"}}
PLAIN = {"size": 20, "half_spread": 0.02, "max_inventory": 100, "refresh_threshold": 0.015}
VARIANTS: dict[str, dict[str, Any]] = {
    "mm-plain": PLAIN,
    "mm-toxicity": {**PLAIN, "toxicity_control": True},
    "mm-toxicity-pulls": {**PLAIN, "toxicity_control": True, "pull_move": 0.03},
}
# Room for three makers in the same markets: the comparison is of the strategies, not of the limits.
LIMITS = {"max_total_exposure": "100000", "max_market_exposure": "100000", "max_strategy_exposure": "100000",
          "max_event_exposure": "100000", "max_correlated_exposure": "100000", "max_open_orders": "1000",
          "max_order_rate": "2000", "max_daily_loss": "100000", "max_drawdown": "100"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"gave up waiting for {what} after {timeout:.0f} s")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def seed(db_path: Path) -> None:
    migrate(db_path)
    db = Database(db_path)
    names = list(VARIANTS)
    seed_running_strategy(db, name=names[0], kind="market_making", params=VARIANTS[names[0]], markets=MARKETS,
                          now=now_ms(), actor="bench")
    for name in names[1:]:
        create_strategy(db, name=name, kind="market_making", params=VARIANTS[name], markets=MARKETS, enabled=True,
                        actor="bench")
    # The bench lifts the caps past the paper account on purpose (its variants must not bind on them): confirmed.
    save_risk_limits(db, {k: Change(v, None) for k, v in LIMITS.items()}, actor="bench", confirmed=set(LIMITS))
    db.dispose()


def paper_run(folder: Path, minutes: float, seed_value: int) -> tuple[int, int, dict[str, str]]:
    """Run the simulator and a paper engine for `minutes`; returns the span traded and the env."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLY_", "DASHBOARD_", "TRADER_"))}
    env.update(TRADER_DB=str(folder / "trader.db"), TRADER_ENV_FILE=str(folder / "bench.env"),
               DATA_SOURCE="simulator", SIMULATOR_PORT=str(port), SIMULATOR_SEED=str(seed_value),
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    seed(folder / "trader.db")
    logs = [open(folder / "simulator.log", "ab"), open(folder / "engine.log", "ab")]
    simulator = subprocess.Popen([sys.executable, "-m", "simulator"], cwd=ROOT, env=env, stdout=logs[0],
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    engine = None
    try:
        wait_for(lambda: listening(port), 60, "the simulator")
        engine = subprocess.Popen([sys.executable, "-m", "engine", "run"], cwd=ROOT, env=env, stdout=logs[1],
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        start = now_ms()
        end = start + int(minutes * 60_000)
        while now_ms() < end:
            if engine.poll() is not None:
                raise SystemExit(f"the engine exited ({engine.returncode}); see {folder / 'engine.log'}")
            time.sleep(min(30.0, max(0.0, (end - now_ms()) / 1000)))
            print(f"  paper run: {(now_ms() - start) / 60_000:.1f} of {minutes:g} min, "
                  f"{fill_count(folder / 'trader.db')} fills", file=sys.stderr, flush=True)
        return start, now_ms(), env
    finally:
        for process in (engine, simulator):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs:
            log.close()


def fill_count(db_path: Path) -> int:
    db = Database(db_path)
    try:
        with db.read() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM fills").scalar() or 0)
    finally:
        db.dispose()


def paper_figures(db_path: Path) -> dict[str, dict[str, Any]]:
    """Per strategy: fills, markouts (the desk's own job, completed from the recording) and PnL
    (realized less fees plus what is held at the last recorded mid)."""
    from engine.analytics.markout_job import MarkoutJob

    db = Database(db_path)
    try:
        while MarkoutJob(db).run(now_ms()):
            pass
        with db.read() as conn:
            marks = conn.exec_driver_sql(
                """SELECT strategy, horizon, SUM(markout), SUM(notional) FROM fill_markouts
                   WHERE markout IS NOT NULL AND horizon IN ('10s', '60s') GROUP BY strategy, horizon""").fetchall()
            counted = conn.exec_driver_sql("SELECT strategy, COUNT(*) FROM fills GROUP BY strategy").fetchall()
            fills: dict[str, int] = dict(counted)
            pnl: dict[str, int] = dict(conn.exec_driver_sql(
                """SELECT p.strategy, SUM(p.realized - p.fees + (p.settled + p.pending) *
                          COALESCE((SELECT t.mid FROM ticks t WHERE t.token_id = p.token_id AND t.mid IS NOT NULL
                                    ORDER BY t.at DESC LIMIT 1), 0) / 1000000 - p.cost)
                   FROM positions p WHERE p.mode = 'paper' GROUP BY p.strategy""").fetchall())
    finally:
        db.dispose()
    out: dict[str, dict[str, Any]] = {name: {"fills": fills.get(name, 0), "pnl": (pnl.get(name) or 0) / 1e6}
                                      for name in VARIANTS}
    for strategy, horizon, total, notional in marks:
        if strategy in out:
            out[strategy][f"markout_{horizon}_usdc"] = total / 1e6
            out[strategy][f"markout_{horizon}_bps"] = total * 10_000 / notional if notional else None
    return out


def backtest_figures(env: dict[str, str], start: int, end: int) -> dict[str, dict[str, Any]]:
    out = {}
    for name, params in VARIANTS.items():
        done = subprocess.run([sys.executable, "-m", "engine", "backtest", "--strategy", "market_making",
                               "--params", json.dumps(params), "--from", str(start), "--to", str(end),
                               "--name", f"bench {name}"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"backtest of {name} failed:\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout)
        out[name] = {"fills": result["fills"], "pnl": result["end_equity"] - result["start_equity"],
                     **{k: result[k] for k in ("markout_10s_usdc", "markout_10s_bps", "markout_60s_usdc",
                                               "markout_60s_bps")}}
    return out


def show(title: str, figures: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'variant':<20}{'fills':>7}{'markout 10 s':>22}{'markout 60 s':>22}{'PnL':>10}")

    def mark(row: dict[str, Any], horizon: str) -> str:
        usdc, bps = row.get(f"markout_{horizon}_usdc"), row.get(f"markout_{horizon}_bps")
        return "-" if usdc is None else f"{usdc:+.2f} ({bps:+.0f} bps)"

    for name, row in figures.items():
        print(f"{name:<20}{row['fills']:>7}{mark(row, '10s'):>22}{mark(row, '60s'):>22}{row['pnl']:>+10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=15.0, help="minutes of paper trading (real time)")
    parser.add_argument("--seed", type=int, default=42, help="the simulator's seed")
    parser.add_argument("--keep", type=Path, help="keep the desk's files in this (new or empty) folder")
    args = parser.parse_args()
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
    with tempfile.TemporaryDirectory(prefix="mm-toxicity-") as scratch:
        folder = args.keep or Path(scratch)
        print(f"paper run: {args.minutes:g} min on the simulator's default market (seed {args.seed}); "
              f"variants: {', '.join(VARIANTS)}", file=sys.stderr, flush=True)
        start, end, env = paper_run(folder, args.minutes, args.seed)
        show(f"paper run, {args.minutes:g} min, seed {args.seed}", paper_figures(folder / "trader.db"))
        show("backtest of the session the paper run recorded", backtest_figures(env, start, end))


if __name__ == "__main__":
    main()
