"""Parameter sweeps: Optuna searches a strategy's params, each trial a backtest (the same
trading core as live) over the training period, in worker processes.

- The study lives in its own SQLite file beside the trading database (`sweeps_url`), never in
  it: the engine never waits on a sweep's writes. A PostgreSQL server instead lets several
  machines work on one study (SWEEP_STORAGE in each one's .env, the same command on each);
  other SQLAlchemy URLs work but their first use is not serialized (sweep_storage).
- Workers are separate processes (sweep_processes: forked from the sweep, or `python -c` on
  `worker_main`), one per core by default, bounded by the machine's cores and memory
  (contracts.sweep_workers), never more than the trials left; each asks the
  study for a trial, backtests it and reports the objective, until the study has its number of
  finished trials: exactly that number, whatever the number of workers and machines (a trial
  starts only while fewer than that many are finished, running or queued ahead of it), and no
  parameter set twice (a trial whose params another trial holds is skipped: see
  sweep_sampler). A killed sweep resumes: running the same spec again counts the trials
  already finished; a trial left running by a dead worker is failed once its heartbeat is
  stale and tried again with the same params.
- With a train/test split, the best trials are re-run on the held-out period afterwards and
  both scores kept in the study (user attrs `test:<trial number>`), to expose overfitting.
- Deterministic with one worker and a fixed seed (each trial is sampled from the seed and its
  number, and the paper venue is seeded); several workers interleave trials in whatever order
  they finish.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.metrics import pnl_columns
from contracts.sweep_spec import Dimension, SweepError, SweepSpec, check_spec
from engine.backtest.sweep_storage import first_use_lock, grace_s, rdb_storage
from storage.research.sweep_queries import sweeps_url as sweeps_url  # one rule for the engine and the dashboard

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

    from contracts.metrics import Metrics
    from engine.backtest.runner import BacktestResult
    from engine.backtest.sweep_processes import Worker
    from engine.backtest.sweep_sampler import SweepSampler

POLL_S = 1.0
WAIT_S = 0.2  # how often a worker with nothing to start looks again (others run the last trials)
MAX_DUPLICATES = 100  # duplicates drawn in a row before a worker gives up on the space
Progress = Callable[[int, int], None]


def _optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # an undefined trial is a result, not a warning
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def _sampler(spec: SweepSpec) -> SweepSampler:
    from engine.backtest.sweep_sampler import SweepSampler

    _optuna()
    return SweepSampler(spec.space, spec.seed, grid=spec.sampler == "grid")


def open_study(spec: SweepSpec, url: str, *, sampler: SweepSampler | None = None) -> optuna.Study:
    """The spec's study (created on first use, by one process at a time). A study of that name
    with another spec is an error: a resume must search the same space on the same data."""
    optuna = _optuna()
    check_spec(spec)
    with first_use_lock(url):
        study = optuna.create_study(study_name=spec.name, storage=rdb_storage(url), direction="maximize",
                                    sampler=sampler or _sampler(spec), load_if_exists=True)
        stored = study.user_attrs.get("spec")
        if stored is None:
            study.set_user_attr("spec", spec.as_dict())
            return study
    previous = SweepSpec.from_dict(stored)
    if previous.identity() != spec.identity():
        raise SweepError(f"a sweep named {spec.name!r} already exists with other settings; "
                         "use another --name (or the same settings to resume it)")
    if previous.trials != spec.trials:
        study.set_user_attr("spec", spec.as_dict())
    return study


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
    of the grid's period scaled to a day; return per day over max drawdown (Calmar's shape); the
    fills' 60 s markout per day (pUSD: what the fills earned, or paid, against the mid a minute
    later: a strategy that trades a lot and earns the spread scores high, one picked off low)."""
    days = metrics.span_ms / DAY_MS
    if days <= 0:
        return None, "the run has no span (fewer than two decisions)"
    if objective == "return":
        return metrics.total_return / days, ""
    if objective == "markout":
        if metrics.markout_60s_usdc is None:
            return None, "markout undefined: no fill with a 60 s markout (no trading?)"
        return metrics.markout_60s_usdc / days, ""
    if objective == "sharpe":
        if metrics.sharpe_per_period is None:
            return None, "Sharpe undefined: returns never varied (no trading?)"
        return metrics.sharpe_per_period * math.sqrt(DAY_MS / metrics.period_ms), ""
    if not metrics.max_drawdown:
        return None, "Calmar undefined: no drawdown"
    return metrics.total_return / days / metrics.max_drawdown, ""


def backtest_params(spec: SweepSpec, params: dict[str, Any], window: tuple[int, int], main_db: Path,
                    work_dir: Path) -> Metrics:
    return backtest_result(spec, params, window, main_db, work_dir).metrics


def backtest_result(spec: SweepSpec, params: dict[str, Any], window: tuple[int, int], main_db: Path,
                    work_dir: Path) -> BacktestResult:
    from contracts.settings import load_settings
    from engine.backtest.runner import BacktestSpec, run_sync

    run = BacktestSpec(spec.kind, {**spec.base_params, **params}, window[0], window[1], spec.markets, spec.seed,
                       spec.source)
    return run_sync(run, main_db, load_settings(), work_dir=work_dir)


def walk_forward_value(spec: SweepSpec, trial: optuna.Trial, result: BacktestResult) -> tuple[float | None, str]:
    """A walk-forward trial's in-sample score (what the sampler maximizes), its window scores and its
    held-out returns' statistics kept on the trial (engine/backtest/sweep_oos.py)."""
    from engine.backtest import sweep_oos

    cuts = sweep_oos.windows(spec.from_ms, spec.to_ms, spec.walk_forward)
    scores = [objective_value(sweep_oos.window_metrics(result.curve, w), spec.objective)[0] for w in cuts]
    in_sample, held_out = sweep_oos.trial_scores(scores)
    trial.set_user_attr("windows", scores)
    trial.set_user_attr("in_sample", in_sample)
    trial.set_user_attr("held_out", held_out)
    trial.set_user_attr("oos", sweep_oos.return_stats(sweep_oos.held_out_returns(result.curve, cuts[1:])))
    return in_sample, "" if in_sample is not None else "undefined on every tuning window (no trading?)"


class TrialUndefined(Exception):
    """The objective has no value for this trial (the trial fails, with the reason)."""


def why_skip(trials: Sequence[FrozenTrial], number: int, key: str, wanted: int) -> str:
    """Why trial `number`, about to backtest the params `key`, must not ("" if it may): the
    sweep has its trials without it, or another trial holds the same params.

    Called after the trial's key is stored, on a fresh read of every trial. Trial numbers are
    handed out under a lock, so every trial numbered below this one is visible: of any two
    trials that both run, the later saw the earlier holding its place, so no more than `wanted`
    run. Of two trials with the same params, whichever read last sees the other's key."""
    from engine.backtest.sweep_sampler import held_keys, holds

    if sum(1 for t in trials if t.number < number and holds(t)) >= wanted:
        return f"the sweep has its {wanted} trials"
    other = held_keys(trials, besides=number).get(key)
    return "" if other is None else f"duplicate of trial {other}: the same params"


class _Objective:
    """One trial: its params (checked against every other trial's first), the backtest, the
    objective; counts the duplicates drawn in a row."""

    def __init__(self, spec: SweepSpec, main_db: Path, work_dir: Path, sampler: SweepSampler) -> None:
        self.spec, self.main_db, self.work_dir, self.sampler = spec, main_db, work_dir, sampler
        self.duplicates_in_a_row = 0

    def __call__(self, trial: optuna.Trial) -> float:
        from engine.backtest.sweep_sampler import params_key

        _claim(trial)
        params = suggest(trial, self.spec.space)
        key = params_key(params)
        trial.set_user_attr("params", params)
        trial.set_user_attr("key", key)
        skip = why_skip(trial.study.get_trials(deepcopy=False), trial.number, key, self.spec.trials)
        if skip.startswith("duplicate"):
            self.duplicates_in_a_row += 1
            self.sampler.next_untried()
        if skip:
            trial.set_user_attr("skipped", skip)
            raise _optuna().TrialPruned(skip)
        self.duplicates_in_a_row = 0
        began = time.perf_counter()
        try:
            result = backtest_result(self.spec, params, self.spec.train_range, self.main_db, self.work_dir)
        except Exception as exc:  # the trial fails (Optuna logs it); its row on the page says why too
            trial.set_user_attr("error", f"its backtest failed: {type(exc).__name__}: {exc}"[:500])
            raise
        trial.set_user_attr("backtest_s", round(time.perf_counter() - began, 3))
        # What the time went on: a trial's cost is its decisions (timed passes and decisions on events).
        trial.set_user_attr("replayed", {"events": result.events, "decisions": result.decisions})
        trial.set_user_attr("metrics", result.metrics.as_dict())
        trial.set_user_attr("resolutions", result.history.get("resolutions") or {})  # how its markets ended
        value, why = (walk_forward_value(self.spec, trial, result) if self.spec.walk_forward
                      else objective_value(result.metrics, self.spec.objective))
        if value is None or not math.isfinite(value):
            trial.set_user_attr("undefined", why or "not a finite number")
            raise TrialUndefined(why)
        return value


def _claim(trial: optuna.Trial) -> None:
    """Marks the trial as this worker's, after writing its first heartbeat (rather than when
    Optuna's heartbeat thread gets to it, which a loaded machine delays): a running trial whose
    mark names it always has a heartbeat, so if its worker dies Optuna's stale check fails it and
    queues it again; a running trial without the mark is one whose worker died before this point,
    which `_fail_abandoned` fails. The mark holds the trial's own number because a retried trial
    inherits the failed one's attributes."""
    # What Optuna's heartbeat thread calls; the study's storage is an RDBStorage (a heartbeat one), which
    # BaseStorage does not declare.
    trial.study._storage.record_heartbeat(trial._trial_id)  # type: ignore[attr-defined]  # see above
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")  # which machine and process ran it
    trial.set_user_attr("claimed", trial.number)


def counted(study: optuna.Study) -> int:
    """Trials that count toward the total: finished (complete, or failed with a reason)."""
    return _counted(study.get_trials(deepcopy=False))


def _counted(trials: Sequence[FrozenTrial]) -> int:
    return sum(1 for t in trials if counts(t))


def counts(trial: FrozenTrial) -> bool:
    """Whether a trial counts toward the total asked: complete, or failed with a reason (its score
    undefined); a crash does not, and is run again."""
    from optuna.trial import TrialState

    return trial.state is TrialState.COMPLETE or (trial.state is TrialState.FAIL and "undefined" in trial.user_attrs)


# -- workers ---------------------------------------------------------------------------


def work(spec: SweepSpec, url: str, main_db: Path, work_dir: Path) -> None:
    """A worker's loop: a trial at a time until the study has `spec.trials` counted ones (or its
    parent, the sweep, is gone). While the last trials are all running elsewhere it waits for
    them instead of starting more: one may die, and its retry must run."""
    optuna = _optuna()
    from optuna.trial import TrialState

    sampler = _sampler(spec)
    study = open_study(spec, url, sampler=sampler)
    objective = _Objective(spec, main_db, work_dir, sampler)
    parent = os.getppid()
    unclaimed_since: dict[int, float] = {}
    grace = grace_s()
    while os.getppid() == parent:
        trials = study.get_trials(deepcopy=False)
        done = _counted(trials)
        if done >= spec.trials:
            return
        queued = any(t.state is TrialState.WAITING for t in trials)
        if not queued and done + sum(1 for t in trials if t.state is TrialState.RUNNING) >= spec.trials:
            optuna.storages.fail_stale_trials(study)  # a dead worker's trial is queued again once stale
            _fail_abandoned(study, trials, unclaimed_since, grace)
            time.sleep(WAIT_S)
            continue
        study.optimize(objective, n_trials=1, catch=(TrialUndefined,), gc_after_trial=False)
        if objective.duplicates_in_a_row >= MAX_DUPLICATES:
            raise SweepError(f"{MAX_DUPLICATES} parameter sets in a row were already tried: the space is (nearly) "
                             "exhausted; ask for fewer trials or widen it")


def _fail_abandoned(study: optuna.Study, trials: Sequence[FrozenTrial], unclaimed_since: dict[int, float],
                    grace: float) -> None:
    """Fails a running trial that no worker claimed (`_claim`) once it has stayed so for `grace` (GRACE_S)
    (as this worker saw it: no clock is compared across machines). Its worker died between
    creating it and its first heartbeat, so Optuna's heartbeat check never fails it, and the
    sweep would wait for it for ever. A live worker claims its trial within milliseconds."""
    from optuna.trial import TrialState

    now = time.monotonic()
    unclaimed = {t.number for t in trials if t.state is TrialState.RUNNING and t.user_attrs.get("claimed") != t.number}
    for number in set(unclaimed_since) - unclaimed:
        del unclaimed_since[number]
    for number in unclaimed:
        if now - unclaimed_since.setdefault(number, now) >= grace:
            study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
            del unclaimed_since[number]


def worker_main(spec: dict[str, Any], url: str, main_db: str, work_dir: str) -> None:
    """A worker process's entry (engine.backtest.sweep_processes starts it)."""
    work(SweepSpec.from_dict(spec), url, Path(main_db), Path(work_dir))


def _start_worker(spec: SweepSpec, url: str, main_db: Path, work_dir: Path, log: Path) -> Worker:
    from engine.backtest import sweep_processes

    work_dir.mkdir(parents=True, exist_ok=True)
    return sweep_processes.start(worker_main, (spec.as_dict(), url, str(main_db), str(work_dir)), log,
                                 {"TRADER_DB": str(main_db)})


@dataclass
class SweepReport:
    name: str
    trials: int
    best: dict[str, Any] | None
    held_out: list[dict[str, Any]]
    url: str
    out_of_sample: dict[str, Any] | None = None  # a walk-forward sweep's verdict (sweep_oos.summary)


def run_sweep(spec: SweepSpec, url: str, main_db: Path, *, jobs: int, work_root: Path,
              progress: Progress | None = None) -> SweepReport:
    """Run (or resume) the sweep with `jobs` worker processes; then the held-out re-runs."""
    study = open_study(spec, url)
    study.set_user_attr("pid", os.getpid())  # the dashboard tells a running sweep by it
    work = own_work_dir(work_root)
    try:
        if counted(study) < spec.trials:
            _run_workers(study, spec, url, main_db, jobs, work, progress)
        if progress is not None:
            progress(min(counted(study), spec.trials), spec.trials)
        held = held_out(study, spec, main_db, work / "test")
        verdict = out_of_sample(study) if spec.walk_forward else None
    finally:
        study.set_user_attr("pid", None)
    return SweepReport(spec.name, counted(study), best_trial(study), held, url, verdict)


def out_of_sample(study: optuna.Study) -> dict[str, Any]:
    """A walk-forward sweep's verdict over its complete trials, kept in the study (the Sweep tab and
    the report read it)."""
    from engine.backtest import sweep_oos

    optuna = _optuna()
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    verdict = sweep_oos.summary([{"number": t.number, "params": t.user_attrs.get("params", t.params),
                                  "windows": t.user_attrs.get("windows", []), "oos": t.user_attrs.get("oos", {})}
                                 for t in done if t.user_attrs.get("windows")])
    study.set_user_attr("out_of_sample", verdict)
    return verdict


def own_work_dir(work_root: Path) -> Path:
    """This sweep process's scratch folder under the study's. Two sweeps of one study on one machine
    share `work_root`; each worker's backtest database lives in its folder and is replaced at every
    trial, so a shared folder let one sweep's worker delete (or half-read) the other's. The folder
    stays after the sweep (its workers' logs); the next sweep of the study removes those whose
    process has ended."""
    work_root.mkdir(parents=True, exist_ok=True)
    for folder in work_root.glob("process-*"):
        pid = folder.name.removeprefix("process-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    work = work_root / f"process-{os.getpid()}"
    work.mkdir(exist_ok=True)
    return work


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True


def _run_workers(study: optuna.Study, spec: SweepSpec, url: str, main_db: Path, jobs: int, work_root: Path,
                 progress: Progress | None) -> None:
    count = max(1, min(jobs, spec.trials - counted(study)))  # more workers than trials left would idle
    workers = [_start_worker(spec, url, main_db, work_root / f"worker-{i}", work_root / f"worker-{i}.log")
               for i in range(count)]
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
        train, test = trial["value"], found["value"]
        results.append({"number": trial["number"], "params": trial["params"], "train": train, "test": test,
                        "test_undefined": found.get("undefined", ""),
                        **pnl_columns(found.get("metrics") or {}, prefix="test_"),
                        "overstates_by": None if train is None or test is None else train - test})
    return results
