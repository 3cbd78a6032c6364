"""Market making with and without the controls that read its fills (toxicity from its own
markouts, pulls on a sweep or jump), side by side on the simulator's default market, which has
informed takers: first a paper run per seed (the real simulator and engine processes, the
variants trading the same markets at once, each its own strategy; the seeds' runs side by side),
then a backtest of each variant on the session each run recorded, on the same markets (MARKETS).
Prints, per run and pooled over the seeds, for each variant: fills, markouts at 10 s and 60 s
(pUSD, bps of the fills' notional) and PnL, each with its 95 % interval, and the PnL's p-value
against zero (a bootstrap over the fills: contracts/bootstrap.py says how).

    python bench/mm_toxicity.py [--minutes 15] [--seeds 42,7] [--keep DIR]
    python bench/mm_toxicity.py --figures DIR [DIR ...]   # the figures of kept runs, backtested again

Everything talks to 127.0.0.1 only; the desk's files live in a temporary folder (or --keep DIR:
one folder a seed, `DIR/seed-N`, to look at a run on the dashboard afterwards:
TRADER_DB=DIR/seed-N/trader.db).
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
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ROOT

from contracts.bootstrap import sum_intervals
from contracts.domain import MICRO, Side
from engine.analytics.markouts import FillPoint, markout, notional
from storage.desk.config import Change, create_strategy, save_risk_limits
from storage.research.seed_data import seed_running_strategy
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

# The variants trade the simulator's MARKETS most liquid open markets at the start, named, for the whole
# run, and each backtest trades those same markets. Not a filter ("the 4 most liquid"): the desk re-ranks
# a filter's markets at each discovery (every few minutes, as the simulator's books move), and the
# recorder keeps recording a market once traded, so a backtest of the session (which trades every market
# it names for the whole span) would also trade each market before and after the desk traded it: a
# 60-minute run with the filter filled 913 times in its backtests against 561 on paper, all but a few of
# the extra fills in markets the desk was not trading at the time.
MARKETS = 4
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
HORIZONS = ("10s", "60s")
SPAN_FILE = "span.json"  # a kept run's span and seed: what --figures backtests again


@dataclass
class Figures:
    """One variant's fills in one run (or pooled): each fill's share of the PnL (its markout to the
    token's last mid, less its fee) and its markouts (pUSD), the PnL the ledger shows."""

    pnl: float = 0.0
    shares: list[float] = field(default_factory=list)
    marks: dict[str, list[float]] = field(default_factory=lambda: {h: [] for h in HORIZONS})
    marked: dict[str, float] = field(default_factory=lambda: dict.fromkeys(HORIZONS, 0.0))  # notional with a mark
    counted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HORIZONS, 0))

    def add(self, fill: FillPoint, fee: int, end_mid: int | None, marks: dict[str, int | None]) -> None:
        self.shares.append(((0 if end_mid is None else markout(fill, end_mid)) - fee) / MICRO)
        for horizon in HORIZONS:
            value = marks.get(horizon)
            self.marks[horizon].append(0.0 if value is None else value / MICRO)
            if value is not None:
                self.counted[horizon] += 1
                self.marked[horizon] += notional(fill) / MICRO

    def pooled(self, other: Figures) -> Figures:
        both = Figures(self.pnl + other.pnl, self.shares + other.shares)
        for horizon in HORIZONS:
            both.marks[horizon] = self.marks[horizon] + other.marks[horizon]
            both.marked[horizon] = self.marked[horizon] + other.marked[horizon]
            both.counted[horizon] = self.counted[horizon] + other.counted[horizon]
        return both

    def row(self) -> dict[str, Any]:
        """Fills, PnL and markouts with their 95 % intervals (None under the bootstrap's minimum)."""
        offset = self.pnl - sum(self.shares)
        found = sum_intervals([self.shares, *(self.marks[h] for h in HORIZONS)],
                              offsets=[offset] + [0.0] * len(HORIZONS), seed=0)
        out: dict[str, Any] = {"fills": len(self.shares), "pnl": self.pnl, "pnl_interval": found[0]}
        for horizon, interval in zip(HORIZONS, found[1:], strict=True):
            total = sum(self.marks[horizon])
            out[horizon] = None if not self.counted[horizon] else {
                "usdc": total, "bps": total * 10_000 / self.marked[horizon] if self.marked[horizon] else None,
                "interval": interval}
        return out


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


def most_liquid(port: int, count: int) -> list[str]:
    """The simulator's `count` most liquid markets open for orders now (its Gamma listing), by condition id."""
    url = f"http://127.0.0.1:{port}/gamma/markets?closed=false&order=liquidityNum&ascending=false&limit=100"
    with urllib.request.urlopen(url, timeout=30) as answer:
        listed = json.load(answer)
    chosen = [str(m["conditionId"]) for m in listed if m.get("acceptingOrders")][:count]
    if len(chosen) < count:
        raise SystemExit(f"the simulator lists {len(chosen)} markets open for orders, not {count}")
    return chosen


def seed(db_path: Path, markets: list[str]) -> None:
    migrate(db_path)
    db = Database(db_path)
    names = list(VARIANTS)
    seed_running_strategy(db, name=names[0], kind="market_making", params=VARIANTS[names[0]], markets=markets,
                          now=now_ms(), actor="bench")
    for name in names[1:]:
        create_strategy(db, name=name, kind="market_making", params=VARIANTS[name], markets=markets, enabled=True,
                        actor="bench")
    # The bench lifts the caps past the paper account on purpose (its variants must not bind on them): confirmed.
    save_risk_limits(db, {k: Change(v, None) for k, v in LIMITS.items()}, actor="bench", confirmed=set(LIMITS))
    db.dispose()


def desk_env(folder: Path, port: int | None = None, seed_value: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POLY_", "DASHBOARD_", "TRADER_"))}
    env.update(TRADER_DB=str(folder / "trader.db"), TRADER_ENV_FILE=str(folder / "bench.env"),
               DATA_SOURCE="simulator", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    if port is not None and seed_value is not None:
        env.update(SIMULATOR_PORT=str(port), SIMULATOR_SEED=str(seed_value))
    return env


def paper_run(folder: Path, minutes: float, seed_value: int) -> None:
    """Run the simulator and a paper engine for `minutes`; the span traded goes into SPAN_FILE."""
    port = free_port()
    env = desk_env(folder, port, seed_value)
    logs = [open(folder / "simulator.log", "ab"), open(folder / "engine.log", "ab")]
    simulator = subprocess.Popen([sys.executable, "-m", "simulator"], cwd=ROOT, env=env, stdout=logs[0],
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    engine = None
    try:
        wait_for(lambda: listening(port), 60, "the simulator")
        seed(folder / "trader.db", most_liquid(port, MARKETS))
        engine = subprocess.Popen([sys.executable, "-m", "engine", "run"], cwd=ROOT, env=env, stdout=logs[1],
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        start = now_ms()
        end = start + int(minutes * 60_000)
        while now_ms() < end:
            if engine.poll() is not None:
                raise SystemExit(f"the engine exited ({engine.returncode}); see {folder / 'engine.log'}")
            time.sleep(min(30.0, max(0.0, (end - now_ms()) / 1000)))
            print(f"  seed {seed_value}: {(now_ms() - start) / 60_000:.1f} of {minutes:g} min, "
                  f"{fill_count(folder / 'trader.db')} fills", file=sys.stderr, flush=True)
        (folder / SPAN_FILE).write_text(json.dumps({"start": start, "end": now_ms(), "seed": seed_value,
                                                    "minutes": minutes}))
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


def end_mids(db: Database, until: int) -> dict[str, int]:
    """Each token's last recorded mid at or before `until`."""
    with db.read() as conn:
        return dict(conn.exec_driver_sql(
            """SELECT t.token_id, (SELECT mid FROM ticks x WHERE x.token_id = t.token_id AND x.at <= ? AND
                                    x.mid IS NOT NULL ORDER BY x.at DESC, x.id DESC LIMIT 1)
               FROM (SELECT DISTINCT token_id FROM fills) t""", (until,)).fetchall())


def paper_figures(db_path: Path, until: int) -> dict[str, Figures]:
    """Per strategy: its fills' shares and markouts (the desk's own job, completed from the
    recording) and its PnL (realized less fees plus what is held at the last recorded mid)."""
    from engine.analytics.markout_job import MarkoutJob

    db = Database(db_path)
    try:
        while MarkoutJob(db).run(now_ms()):
            pass
        mids = end_mids(db, until)
        with db.read() as conn:
            fills = conn.exec_driver_sql(
                """SELECT f.strategy, f.token_id, f.side, f.price, f.size, f.matched_at, f.fee,
                          (SELECT markout FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon = '10s'),
                          (SELECT markout FROM fill_markouts m WHERE m.fill_id = f.id AND m.horizon = '60s')
                   FROM fills f WHERE f.mode = 'paper' AND f.status != 'FAILED' ORDER BY f.matched_at, f.id"""
            ).fetchall()
            pnl: dict[str, int] = dict(conn.exec_driver_sql(
                """SELECT p.strategy, SUM(p.realized - p.fees + (p.settled + p.pending) *
                          COALESCE((SELECT t.mid FROM ticks t WHERE t.token_id = p.token_id AND t.mid IS NOT NULL
                                    ORDER BY t.at DESC LIMIT 1), 0) / 1000000 - p.cost)
                   FROM positions p WHERE p.mode = 'paper' GROUP BY p.strategy""").fetchall())
    finally:
        db.dispose()
    out = {name: Figures((pnl.get(name) or 0) / MICRO) for name in VARIANTS}
    for strategy, token, side, price, size, at, fee, ten, sixty in fills:
        if strategy in out:
            out[strategy].add(FillPoint(Side(side), price, size, at), fee, mids.get(token), {"10s": ten, "60s": sixty})
    return out


def backtest_figures(folder: Path, start: int, end: int) -> dict[str, Figures]:
    """Each variant backtested on the session the run recorded (`python -m engine backtest`); its
    fills read back from the run it stored."""
    out = {}
    env = desk_env(folder)
    traded = traded_markets(folder / "trader.db")
    for name, params in VARIANTS.items():
        named = traded.get(name)
        if named is None:
            print(f"warning: {name} in {folder} traded a market filter, whose markets the desk re-ranks as it "
                  "runs; its backtest trades every market recorded, for the whole span: its figures do not "
                  "compare with the paper run's", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, "-m", "engine", "backtest", "--strategy", "market_making",
                               "--params", json.dumps(params), "--from", str(start), "--to", str(end),
                               *(["--markets", ",".join(named)] if named else []),
                               "--name", f"bench {name}"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=6 * 3600)
        if done.returncode != 0:
            raise SystemExit(f"backtest of {name} in {folder} failed:\n{done.stderr[-2000:]}")
        result = json.loads(done.stdout)
        out[name] = stored_run(folder / "trader.db", int(result["run_id"]), float(result["pnl"]), end)
    return out


def traded_markets(db_path: Path) -> dict[str, list[str]]:
    """Each variant's markets as the run configured them, where it named them (runs kept before the
    variants named their markets traded a filter: absent)."""
    db = Database(db_path)
    try:
        with db.read() as conn:
            rows = conn.exec_driver_sql("SELECT name, markets FROM strategies").fetchall()
    finally:
        db.dispose()
    named = {str(name): json.loads(markets or "null") for name, markets in rows}
    return {name: [str(m) for m in markets] for name, markets in named.items() if isinstance(markets, list) and markets}


def stored_run(db_path: Path, run_id: int, pnl: float, until: int) -> Figures:
    db = Database(db_path)
    try:
        mids = end_mids(db, until)
        with db.read() as conn:
            (trades,) = conn.exec_driver_sql("SELECT trades FROM strategy_runs WHERE id = ?", (run_id,)).one()
    finally:
        db.dispose()
    figures = Figures(pnl)
    for row in json.loads(trades or "[]"):
        if row["status"] != "FAILED":
            figures.add(FillPoint(Side(row["side"]), row["price"], row["size"], row["matched_at"]), row["fee"],
                        mids.get(row["token_id"]), {h: row.get(f"markout_{h}") for h in HORIZONS})
    return figures


def _range(interval: Any) -> str:
    return "" if interval is None else f" [{interval.low:+.2f}, {interval.high:+.2f}]"


def show(title: str, figures: dict[str, Figures]) -> None:
    print(f"\n{title}")
    print(f"{'variant':<19}{'fills':>6}  {'markout 10 s (pUSD, 95 %)':<38}{'markout 60 s (pUSD, 95 %)':<38}"
          f"{'PnL (pUSD, 95 %)':<28}{'p':>6}")

    def mark(found: dict[str, Any] | None) -> str:
        if found is None:
            return "-"
        points = "" if found["bps"] is None else f" ({found['bps']:+.0f} bps)"
        return f"{found['usdc']:+.2f}{points}{_range(found['interval'])}"

    for name, each in figures.items():
        row = each.row()
        interval = row["pnl_interval"]
        p = "-" if interval is None else f"{interval.p_value:.3f}"
        print(f"{name:<19}{row['fills']:>6}  {mark(row['10s']):<38}{mark(row['60s']):<38}"
              f"{row['pnl']:+.2f}{_range(interval):<22}{p:>6}")


def pooled(runs: Iterable[dict[str, Figures]]) -> dict[str, Figures]:
    total = {name: Figures() for name in VARIANTS}
    for run in runs:
        for name in VARIANTS:
            total[name] = total[name].pooled(run[name])
    return total


def figures_of(folders: list[Path]) -> None:
    """Paper and backtest figures of each kept run, then pooled over them."""
    paper, replayed = [], []
    for folder in folders:
        span = json.loads((folder / SPAN_FILE).read_text())
        label = f"seed {span['seed']}, {span['minutes']:g} min"
        paper.append(paper_figures(folder / "trader.db", span["end"]))
        show(f"paper run, {label}", paper[-1])
        replayed.append(backtest_figures(folder, span["start"], span["end"]))
        show(f"backtest of the session it recorded ({label})", replayed[-1])
    if len(folders) > 1:
        show(f"paper runs pooled ({len(folders)} runs, every fill drawn together)", pooled(paper))
        show(f"backtests pooled ({len(folders)} runs)", pooled(replayed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=15.0, help="minutes of paper trading (real time)")
    parser.add_argument("--seeds", default="42", help="the simulator's seeds, comma-separated: one paper run each, "
                                                      "side by side")
    parser.add_argument("--keep", type=Path, help="keep the desk's files in this (new or empty) folder")
    parser.add_argument("--figures", type=Path, nargs="+", metavar="DIR",
                        help="no new run: the figures of runs kept before (each DIR/seed-N, or a folder of them)")
    args = parser.parse_args()
    if args.figures:
        folders = [p for d in args.figures for p in ([d] if (d / SPAN_FILE).exists() else sorted(d.glob("seed-*")))]
        if not folders or not all((f / SPAN_FILE).exists() for f in folders):
            parser.error("--figures: no kept run there (a run folder holds span.json)")
        figures_of(folders)
        return
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: whole numbers, comma-separated, not {args.seeds!r}")
    if not seeds or len(set(seeds)) != len(seeds):
        parser.error("--seeds: at least one, each once")
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            parser.error(f"--keep {args.keep}: the folder is not empty")
    with tempfile.TemporaryDirectory(prefix="mm-toxicity-") as scratch:
        root = args.keep or Path(scratch)
        folders = [root / f"seed-{s}" for s in seeds]
        for folder in folders:
            folder.mkdir()
        print(f"paper runs: {args.minutes:g} min on the simulator's default market, seeds {seeds} side by side; "
              f"variants: {', '.join(VARIANTS)}", file=sys.stderr, flush=True)
        with ThreadPoolExecutor(len(seeds)) as pool:
            list(pool.map(lambda pair: paper_run(pair[0], args.minutes, pair[1]), zip(folders, seeds, strict=True)))
        figures_of(folders)


if __name__ == "__main__":
    main()
