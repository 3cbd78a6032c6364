"""Parameter sweeps: Optuna searches a strategy's params, each trial a backtest (the same
trading core as live) over the training period, in worker processes.

- The study lives in its own SQLite file beside the trading database (`sweeps_url`), never in
  it: the engine never waits on a sweep's writes. Any SQLAlchemy URL works instead (a
  PostgreSQL or MySQL server lets several machines work on one study: run the same command
  with `--storage URL` on each).
- Workers are separate processes (`python -c` on `worker_main`), one per core by default;
  each asks the study for a trial, backtests it, reports the objective, until the study has
  its number of finished trials. A killed sweep resumes: running the same spec again counts
  the trials already finished; a trial left running by a dead worker is failed once its
  heartbeat is stale and tried again with the same params.
- With a train/test split, the best trials are re-run on the held-out period afterwards and
  both scores kept in the study (user attrs `test:<trial number>`), to expose overfitting.
- Deterministic with one worker and a fixed seed (the TPE sampler and the paper venue are
  seeded); several workers interleave trials in whatever order they finish.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.contracts.sweep_spec import Dimension, SweepError, SweepSpec, check_spec
from storage.sweep_queries import sweeps_url as sweeps_url  # one rule for the engine and the dashboard

if TYPE_CHECKING:
    import optuna

    from engine.contracts.metrics import Metrics

HEARTBEAT_S = 10
GRACE_S = 30
POLL_S = 1.0
Progress = Callable[[int, int], None]


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # an undefined trial is a result, not a warning
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def open_storage(url: str) -> optuna.storages.RDBStorage:
    optuna = _optuna()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        _wal(Path(url.split("///", 1)[1]))
        kwargs = {"connect_args": {"timeout": 60}}
    return optuna.storages.RDBStorage(
        url, engine_kwargs=kwargs, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))


def _wal(path: Path) -> None:
    """WAL for a study file (it stays set in the file): with the default rollback journal every
    reader (each worker's sampler reads all trials) blocks the other workers' writes, and
    SQLite's busy waits then cost the second worker much of its core."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(path, timeout=60)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


def _sampler(spec: SweepSpec, worker: int) -> Any:
    optuna = _optuna()
    if spec.sampler == "grid":
        return optuna.samplers.GridSampler({n: d.grid() for n, d in spec.space.items()}, seed=spec.seed + worker)
    return optuna.samplers.TPESampler(seed=spec.seed + worker)


def open_study(spec: SweepSpec, url: str, *, worker: int = 0) -> optuna.Study:
    """The spec's study (created on first use). A study of that name with another spec is an
    error: a resume must search the same space on the same data."""
    optuna = _optuna()
    check_spec(spec)
    study = optuna.create_study(study_name=spec.name, storage=open_storage(url), direction="maximize",
                                sampler=_sampler(spec, worker), load_if_exists=True)
    stored = study.user_attrs.get("spec")
    if stored is None:
        study.set_user_attr("spec", spec.as_dict())
    else:
        previous = SweepSpec.from_dict(stored)
        if previous.identity() != spec.identity():
            raise SweepError(f"a sweep named {spec.name!r} already exists with other settings; "
                             "use another --name (or the same settings to resume it)")
        if previous.trials != spec.trials:
            study.set_user_attr("spec", spec.as_dict())
    return study


def load_spec(url: str, name: str) -> SweepSpec:
    optuna = _optuna()
    study = optuna.load_study(study_name=name, storage=open_storage(url))
    return SweepSpec.from_dict(study.user_attrs["spec"])


# -- one trial -------------------------------------------------------------------------


def suggest(trial: optuna.Trial, space: dict[str, Dimension]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, d in space.items():
        if d.scale == "choice":
            params[name] = trial.suggest_categorical(name, list(d.choices))
        elif d.scale == "int":
            params[name] = trial.suggest_int(name, int(d.low), int(d.high))
        else:
            value = trial.suggest_float(name, d.low, d.high, log=d.scale == "log", step=d.step)
            params[name] = round(value, 6)  # the strategies take at most 6 decimals
    return params


DAY_MS = 86_400_000


def objective_value(metrics: Metrics, objective: str) -> tuple[float | None, str]:
    """(the score, "") or (None, why it is undefined). Scores are rates per day, so that the
    training and the held-out periods, of different lengths, compare: return per day; Sharpe
    of the grid's period scaled to a day; return per day over max drawdown (Calmar's shape)."""
    days = metrics.span_ms / DAY_MS
    if days <= 0:
        return None, "the run has no span (fewer than two decisions)"
    if objective == "return":
        return metrics.total_return / days, ""
    if objective == "sharpe":
        if metrics.sharpe_per_period is None:
            return None, "Sharpe undefined: returns never varied (no trading?)"
        return metrics.sharpe_per_period * math.sqrt(DAY_MS / metrics.period_ms), ""
    if not metrics.max_drawdown:
        return None, "Calmar undefined: no drawdown"
    return metrics.total_return / days / metrics.max_drawdown, ""


def backtest_params(spec: SweepSpec, params: dict[str, Any], window: tuple[int, int], main_db: Path,
                    work_dir: Path) -> Metrics:
    from engine.backtest.runner import BacktestSpec, run_sync
    from storage.settings import load_settings

    run = BacktestSpec(spec.kind, {**spec.base_params, **params}, window[0], window[1], spec.markets, spec.seed,
                       spec.source)
    return run_sync(run, main_db, load_settings(), work_dir=work_dir).metrics


class TrialUndefined(Exception):
    """The objective has no value for this trial (the trial fails, with the reason)."""


def _objective(spec: SweepSpec, main_db: Path, work_dir: Path) -> Callable[[optuna.Trial], float]:
    def run(trial: optuna.Trial) -> float:
        if counted(trial.study) >= spec.trials:  # another worker finished the sweep meanwhile
            trial.study.stop()
            raise _optuna().TrialPruned("the sweep has its trials")
        params = suggest(trial, spec.space)
        trial.set_user_attr("params", params)
        began = time.perf_counter()
        metrics = backtest_params(spec, params, spec.train_range, main_db, work_dir)
        trial.set_user_attr("backtest_s", round(time.perf_counter() - began, 3))
        trial.set_user_attr("metrics", metrics.as_dict())
        value, why = objective_value(metrics, spec.objective)
        if value is None or not math.isfinite(value):
            trial.set_user_attr("undefined", why or "not a finite number")
            raise TrialUndefined(why)
        return value

    return run


def counted(study: optuna.Study) -> int:
    """Trials that count toward the total: finished (complete, or failed with a reason)."""
    optuna = _optuna()
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return sum(1 for t in study.get_trials(deepcopy=False, states=states)
               if t.state is optuna.trial.TrialState.COMPLETE or "undefined" in t.user_attrs)


# -- workers ---------------------------------------------------------------------------


def work(spec: SweepSpec, url: str, main_db: Path, work_dir: Path, worker: int = 0) -> None:
    """A worker's loop: trials until the study has `spec.trials` counted ones (or its parent,
    the sweep, is gone)."""
    optuna = _optuna()
    study = open_study(spec, url, worker=worker)
    objective = _objective(spec, main_db, work_dir)
    parent = os.getppid()

    def enough(study: optuna.Study, trial: Any) -> None:
        if counted(study) >= spec.trials or os.getppid() != parent:
            study.stop()

    if counted(study) >= spec.trials:
        return
    study.optimize(objective, n_trials=spec.trials, callbacks=[enough], catch=(TrialUndefined,),
                   gc_after_trial=False)


def worker_main() -> None:
    """Entry of a worker process: argv[1] is a JSON object (spec, url, db, work dir, index)."""
    job = json.loads(sys.argv[1])
    work(SweepSpec.from_dict(job["spec"]), job["url"], Path(job["db"]), Path(job["work_dir"]), job["worker"])


def _start_worker(spec: SweepSpec, url: str, main_db: Path, work_dir: Path, worker: int, log: Path) -> subprocess.Popen[bytes]:
    work_dir.mkdir(parents=True, exist_ok=True)
    job = json.dumps({"spec": spec.as_dict(), "url": url, "db": str(main_db), "work_dir": str(work_dir),
                      "worker": worker})
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-c", "from engine.backtest.sweep import worker_main; worker_main()",
                                 job], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "TRADER_DB": str(main_db)})


@dataclass
class SweepReport:
    name: str
    trials: int
    best: dict[str, Any] | None
    held_out: list[dict[str, Any]]
    url: str


def run_sweep(spec: SweepSpec, url: str, main_db: Path, *, jobs: int, work_root: Path,
              progress: Progress | None = None) -> SweepReport:
    """Run (or resume) the sweep with `jobs` worker processes; then the held-out re-runs."""
    study = open_study(spec, url)
    study.set_user_attr("pid", os.getpid())  # the dashboard tells a running sweep by it
    try:
        work_root.mkdir(parents=True, exist_ok=True)
        if counted(study) < spec.trials:
            _run_workers(study, spec, url, main_db, jobs, work_root, progress)
        if progress is not None:
            progress(min(counted(study), spec.trials), spec.trials)
        held = held_out(study, spec, main_db, work_root / "test")
    finally:
        study.set_user_attr("pid", None)
    return SweepReport(spec.name, counted(study), best_trial(study), held, url)


def _run_workers(study: optuna.Study, spec: SweepSpec, url: str, main_db: Path, jobs: int, work_root: Path,
                 progress: Progress | None) -> None:
    workers = [_start_worker(spec, url, main_db, work_root / f"worker-{i}", i, work_root / f"worker-{i}.log")
               for i in range(max(1, jobs))]
    try:
        while running := [w for w in workers if w.poll() is None]:
            if progress is not None:
                progress(min(counted(study), spec.trials), spec.trials)
            with contextlib.suppress(subprocess.TimeoutExpired):
                running[0].wait(timeout=POLL_S)  # returns as that worker ends, not a poll period later
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            w.wait(timeout=30)
    failed = [i for i, w in enumerate(workers) if w.returncode]
    if failed and counted(study) < spec.trials:
        log = (work_root / f"worker-{failed[0]}.log").read_text(errors="replace")[-2000:]
        raise SweepError(f"worker {failed[0]} failed (exit {workers[failed[0]].returncode}); its log ends:\n{log}")


def best_trial(study: optuna.Study) -> dict[str, Any] | None:
    ranked = ranked_trials(study)
    return ranked[0] if ranked else None


def ranked_trials(study: optuna.Study) -> list[dict[str, Any]]:
    """Complete trials, best first: number, value, the params backtested and their metrics."""
    optuna = _optuna()
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    done.sort(key=lambda t: (-(t.value if t.value is not None else -math.inf), t.number))
    return [{"number": t.number, "value": t.value, "params": t.user_attrs.get("params", t.params),
             "metrics": t.user_attrs.get("metrics", {})} for t in done]


def held_out(study: optuna.Study, spec: SweepSpec, main_db: Path, work_dir: Path) -> list[dict[str, Any]]:
    """The best `spec.top` trials re-run on the held-out period (once each; kept in the study)."""
    window = spec.test_range
    if window is None:
        return []
    results = []
    for trial in ranked_trials(study)[:spec.top]:
        key = f"test:{trial['number']}"
        found = study.user_attrs.get(key)
        if found is None:
            metrics = backtest_params(spec, trial["params"], window, main_db, work_dir)
            value, why = objective_value(metrics, spec.objective)
            found = {"value": value, "undefined": why, "metrics": metrics.as_dict()}
            study.set_user_attr(key, found)
        results.append({"number": trial["number"], "params": trial["params"], "train": trial["value"],
                        "test": found["value"], "test_undefined": found.get("undefined", "")})
    return results
