"""Launching a sweep from the dashboard as a detached `python -m engine sweep ...`, and using a
trial's params. Pure (no streamlit), so the page stays thin and this is testable on its own.

The launch is asked for and audited through storage/research/launch_requests.py (`sweep.launch`);
the sweep process owns its study (Optuna, in the sweeps file beside the trading database) and
writes nothing in the trading database. "Use these
params" goes through storage.desk.config.save_strategy: the strategies table, an audit row and a
reload_config command, exactly like an edit on the Strategies page.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.child_env import without_secrets
from pages.widgets.backtest_launch import child_alive, keep_child, log_dir
from storage.desk.config import Saved, save_strategy
from storage.research.launch_requests import request_sweep
from storage.sqlite.db import Database

if TYPE_CHECKING:
    from contracts.sweep_spec import SweepSpec

@dataclass(frozen=True)
class LaunchedSweep:
    name: str
    pid: int
    log_path: Path


def sweep_log_path(root: Path, name: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "sweep"
    return log_dir(root) / f"sweep-{slug}.log"


def sweep_args(spec: SweepSpec, jobs: int) -> list[str]:
    """The `python -m engine sweep` arguments that run (or resume) exactly this spec."""
    args = ["sweep", "--name", spec.name, "--strategy", spec.kind, "--space", json.dumps(spec.as_dict()["space"]),
            "--params", json.dumps(spec.base_params), "--trials", str(spec.trials), "--jobs", str(jobs),
            "--objective", spec.objective, "--sampler", spec.sampler, "--from", str(spec.from_ms), "--to",
            str(spec.to_ms), "--seed", str(spec.seed), "--source", spec.source, "--top", str(spec.top)]
    if spec.markets:
        args += ["--markets", ",".join(spec.markets)]
    if spec.train_fraction is not None:
        args += ["--split", str(spec.train_fraction)]
    return args


def launch_sweep(db: Database, spec: SweepSpec, jobs: int, *, root: Path, actor: str) -> LaunchedSweep:
    """Ask for the sweep (its audit row) and start its process; returns at once. OSError when the
    process cannot be started (the audit row says it was asked for)."""
    request_sweep(db, spec, jobs, actor=actor)
    path = sweep_log_path(root, spec.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = without_secrets({"TRADER_DB": str(db.path)})  # a secret never reaches a child
    with open(path, "ab") as log:  # a resumed sweep appends to its log
        child = subprocess.Popen([sys.executable, "-m", "engine", *sweep_args(spec, jobs)], cwd=root, env=env,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
    keep_child(child)
    return LaunchedSweep(spec.name, child.pid, path)


def sweep_alive(pid: int | None) -> bool:
    """Whether a sweep's process (the pid its study recorded) is still running."""
    return pid is not None and child_alive(pid, b"sweep")


def ran_with(kind: str, base: dict[str, Any], trial: dict[str, Any]) -> dict[str, Any]:
    """Every parameter a trial's backtest ran with: the sweep's fixed ones, the trial's searched
    ones on top, the kind's defaults for the rest (as the backtest read them)."""
    from contracts.strategy_kinds import validate_params

    clean, errors = validate_params(kind, {**base, **trial})
    return clean if not errors else {**base, **trial}


def merged_params(current: dict[str, Any], trial: dict[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """(the strategy's params with the trial's on top, what changes: name -> (before, after))."""
    merged = {**current, **trial}
    return merged, {k: (current.get(k), v) for k, v in trial.items() if current.get(k) != v}


def use_params(db: Database, *, strategy: str, version: int, kind: str, current: dict[str, Any],
               markets: Any, trial: dict[str, Any], actor: str) -> Saved:
    """Save a trial's params into a configured strategy through the audited path (validated
    first: storage.desk.config.ConfigError on bad params, StaleVersion when it changed meanwhile)."""
    from contracts.strategy_kinds import validate_params
    from storage.desk.config import ConfigError

    merged, _ = merged_params(current, trial)
    clean, errors = validate_params(kind, merged)
    if errors:
        raise ConfigError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    return save_strategy(db, name=strategy, version=version, params=clean, markets=markets, actor=actor)
