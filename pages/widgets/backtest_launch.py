"""Launching a backtest as a detached process, and telling whether a run's process is alive.
Pure (no streamlit), so the page stays thin and this is testable on its own.

The dashboard only asks for the run (storage/research/launch_requests.py: the run row, status
'running', and its audit row); everything else about the run is written by `python -m engine
backtest --run-id N`, started here in its own session so a dashboard restart does not take it
down. Its output goes to <log dir>/backtest-N.log, next to the engine's log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from contracts.child_env import without_secrets
from contracts.strategy_fit import ORDER_SIZE_PARAMS
from pages.widgets.logtail import engine_log_path
from storage.research.launch_requests import backtest_not_started, request_backtest
from storage.sqlite.db import Database, now_ms

if TYPE_CHECKING:
    from contracts.backtest_spec import BacktestSpec

# engine.backtest.* imports the whole trading core (and the venue client): ~1.5 s the first time.
# It is imported when a run is launched, not when the page is opened.

# A launched process records its pid within a second or two; a dashboard-launched run with no
# pid after this long never started (its log says why).
START_GRACE_MS = 30_000
# The New backtest tab's Launch: its answer (flash near) and the run it launched, followed there.
LAUNCHED_HERE, LAUNCHED_RUN = "bt_launch", "bt_launched_run"
Liveness = Literal["alive", "starting", "dead", "unknown"]

# Our own children, to tell their liveness by their exit status (a dead child that is not
# reaped stays a zombie, which kill(pid, 0) would call alive). Each is reaped the moment it
# exits by a waiter thread of its own (keep_child), whether or not a page ever asks about it.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Launched:
    run_id: int
    pid: int
    log_path: Path


def log_dir(root: Path) -> Path:
    """Where backtest logs go: beside the engine's log (var/log unless ENGINE_LOG_FILE moves it)."""
    return engine_log_path(root).parent


def log_path(root: Path, run_id: int) -> Path:
    return log_dir(root) / f"backtest-{run_id}.log"


def make_spec(**fields: Any) -> BacktestSpec:
    """contracts.backtest_spec.BacktestSpec(**fields), imported on first use."""
    from contracts.backtest_spec import BacktestSpec

    return BacktestSpec(**fields)


def launch(db: Database, spec: BacktestSpec, name: str, *, root: Path, actor: str) -> Launched:
    """Ask for the run (its row and audit row) and start its process; returns at once (never waits
    for it).

    Raises OSError when the process cannot be started; the run is then marked failed, so no
    row is left 'running' without a process.
    """
    run_id = request_backtest(db, spec, name, actor=actor)
    path = log_path(root, run_id)
    # The child opens exactly this database even if the dashboard's TRADER_DB came from a
    # relative path or an env file read from another working directory.
    env = without_secrets({"TRADER_DB": str(db.path)})  # a secret never reaches a child
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as log:  # a run id is reused only with a new database: start afresh
            child = subprocess.Popen(
                [sys.executable, "-m", "engine", "backtest", "--run-id", str(run_id)],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    except OSError as exc:
        backtest_not_started(db, run_id, str(exc))
        raise
    keep_child(child)
    return Launched(run_id, child.pid, path)


def size_defaults(schema: Any, floor: float | None) -> dict[str, float]:
    """The order-size params of a kind's schema whose default is below `floor` (the largest
    minimum order size of the markets in play), raised to it: a new form must not start from a
    size every one of those markets refuses."""
    if floor is None:
        return {}
    return {spec.name: floor for spec in schema
            if spec.name in ORDER_SIZE_PARAMS and isinstance(spec.default, (int, float)) and spec.default < floor}


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a live backtest process (not exited, not a zombie, not a recycled pid)."""
    return child_alive(pid, b"backtest")


def keep_child(child: subprocess.Popen[bytes]) -> None:
    """Remember a process this dashboard started and reap it as soon as it exits: nothing else
    waits for it (a finished run's page never asks), and an unreaped child stays <defunct>."""
    _children[child.pid] = child
    threading.Thread(target=child.wait, name=f"reap-{child.pid}", daemon=True).start()


def child_alive(pid: int, marker: bytes) -> bool:
    """Whether `pid` (a backtest or a sweep, its command line holding `marker`) still runs: our
    own children by their exit status (reaped on the way), other processes by process_alive."""
    child = _children.get(pid)
    if child is not None:
        # poll() answers None while the reaper thread is inside wait() (it holds the waitpid
        # lock), also just after it reaped the child: the process table has the last word.
        if child.poll() is None and process_alive(pid, marker):
            return True
        del _children[pid]
        return False
    return process_alive(pid, marker)


def process_alive(pid: int, marker: bytes) -> bool:
    """Whether `pid` is a live process whose command line holds `marker` (not exited, not a
    zombie, not a pid recycled by another program)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OverflowError:
        return False
    return _is_our_process(pid, marker)


def _is_our_process(pid: int, marker: bytes) -> bool:
    """On Linux, rule out a zombie or a pid reused by another program; elsewhere trust kill(0)."""
    proc = Path("/proc")
    if not (proc / "self").exists():
        return True
    try:
        stat = (proc / str(pid) / "stat").read_text()
        cmdline = (proc / str(pid) / "cmdline").read_bytes()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state != ["Z"] and marker in cmdline


def liveness(pid: int | None, created_at: int, log: Path, *, now: int | None = None) -> Liveness:
    """For a run still marked 'running': is its process there?

    'starting': no pid yet, within the grace period; 'dead': its process is gone (or a
    dashboard-launched run never started); 'unknown': no pid and no log from us (a run started
    with `python -m engine backtest` elsewhere, which records no pid).
    """
    if pid is not None:
        return "alive" if pid_alive(pid) else "dead"
    now = now_ms() if now is None else now
    if now - created_at < START_GRACE_MS:
        return "starting"
    return "dead" if log.exists() else "unknown"
