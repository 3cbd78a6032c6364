"""Sweep reads for the dashboard: the studies in the sweeps file, one study's trials, its
held-out scores and Optuna's parameter importance. Read only: a missing sweeps file reads as
"no sweeps" (it is never created here).

The sweeps file sits beside the trading database (`sweeps_url`), never inside it; the engine's
sweep command (engine/backtest/sweep.py) writes it through Optuna.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.metrics import PNL_COLUMNS, pnl_columns

if TYPE_CHECKING:  # imported where a frame is built: the sweep command and its workers never need pandas
    import pandas as pd

STATES = ("COMPLETE", "FAIL", "RUNNING", "WAITING", "PRUNED")


def sweeps_url(db_path: Path) -> str:
    """Where a desk's sweeps live: `<trading db stem>-sweeps.db` beside the trading database."""
    return f"sqlite:///{db_path.with_name(db_path.stem + '-sweeps.db').resolve()}"


def sweeps_storage(root: Path, db_path: Path) -> str:
    """The desk's study storage: SWEEP_STORAGE (in .env or the environment: a server URL may
    carry a password, so it never goes on a command line), else the file beside the database."""
    from contracts.settings import read_env

    return read_env(root).get("SWEEP_STORAGE") or sweeps_url(db_path)


def shown_url(url: str) -> str:
    """A storage URL fit to print: any password replaced."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        if ":" in credentials:
            return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"
    return url


def _file(url: str) -> Path | None:
    return Path(url.split("///", 1)[1]) if url.startswith("sqlite:///") else None


def _storage(url: str) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    sqlite_wait = {"connect_args": {"timeout": 5}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True,
                                      engine_kwargs=sqlite_wait)


def _exists(url: str) -> bool:
    """Whether there is a study storage to read: a server (assumed), or a sweeps file whose
    tables Optuna has created (a sweep starting right now may have created only the file)."""
    path = _file(url)
    if path is None:
        return True
    if not path.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as conn:
            # Optuna writes its version row once every table exists, then stamps its schema
            # revision. Until both are there a reader would write the missing one itself, racing
            # the sweep that is creating the file (a UNIQUE failure on alembic_version).
            return all(conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None
                       for table in ("version_info", "alembic_version"))
    except sqlite3.Error:
        return False


def _counts(trials: list[Any]) -> dict[str, int]:
    counts = dict.fromkeys(STATES, 0)
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    return counts


def _counted(trials: list[Any]) -> int:
    """Finished trials as the sweep counts them: complete, or failed with an undefined objective."""
    return sum(1 for t in trials
               if t.state.name == "COMPLETE" or (t.state.name == "FAIL" and "undefined" in t.user_attrs))


def sweep_list(url: str) -> pd.DataFrame:
    """One row per study, newest first: name, kind, objective, sampler, trials (wanted), done,
    running, failed, best, pid, started (UTC)."""
    import pandas as pd

    columns = ["name", "kind", "objective", "sampler", "trials", "done", "running", "failed", "best", "pid", "started"]
    if not _exists(url):
        return pd.DataFrame(columns=columns)
    import optuna

    storage = _storage(url)
    rows = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=True):
        spec = summary.user_attrs.get("spec", {})
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = study.get_trials(deepcopy=False)
        counts = _counts(trials)
        rows.append({"name": summary.study_name, "kind": spec.get("kind", "?"), "objective": spec.get("objective", "?"),
                     "sampler": spec.get("sampler", "?"), "trials": spec.get("trials", 0), "done": _counted(trials),
                     "running": counts["RUNNING"], "failed": counts["FAIL"],
                     "best": summary.best_trial.value if summary.best_trial is not None else None,
                     "pid": summary.user_attrs.get("pid"), "started": summary.datetime_start})
    frame = pd.DataFrame(rows, columns=columns)
    frame["started"] = pd.to_datetime(frame["started"], utc=True)
    return frame.sort_values("started", ascending=False, na_position="last").reset_index(drop=True)


@dataclass
class SweepView:
    name: str
    spec: dict[str, Any]
    trials: pd.DataFrame  # number, state, value, <param columns>, test, why
    params: list[str]
    done: int
    wanted: int
    held_out: pd.DataFrame  # number, train, test, <params>
    pid: int | None
    best: dict[str, Any] | None = None  # number, value, params
    complete_params: dict[int, dict[str, Any]] = field(default_factory=dict)  # trial -> params backtested
    out_of_sample: dict[str, Any] | None = None  # a walk-forward sweep's verdict (engine/backtest/sweep_oos.py)


def _why(state: str, attrs: dict[str, Any]) -> str:
    """Why a trial has no score, in the words its worker stored (engine/backtest/sweep.py)."""
    said = attrs.get("undefined") or attrs.get("skipped") or attrs.get("error")
    if said:
        return str(said)
    if state == "FAIL":
        return "its worker stopped before finishing it (crashed or killed): the sweep runs it again"
    if state == "PRUNED":
        return "skipped"
    return ""


def sweep_view(url: str, name: str) -> SweepView | None:
    if not _exists(url):
        return None
    import optuna
    import pandas as pd

    try:
        study = optuna.load_study(study_name=name, storage=_storage(url))
    except KeyError:
        return None
    spec = study.user_attrs.get("spec", {})
    names = list(spec.get("space", {}))
    attrs = study.user_attrs
    rows, complete = [], {}
    trials = study.get_trials(deepcopy=False)
    metrics: dict[int, dict[str, Any]] = {}
    ends: dict[int, dict[str, Any]] = {}  # how each trial's markets ended (engine/backtest/resolutions.py)
    for t in trials:
        used = t.user_attrs.get("params", t.params)
        test = attrs.get(f"test:{t.number}", {})
        held = test.get("value") if test else t.user_attrs.get("held_out")  # a re-run, or walk-forward's
        metrics[t.number] = t.user_attrs.get("metrics") or {}
        ends[t.number] = t.user_attrs.get("resolutions") or {}
        rows.append({"number": t.number, "state": t.state.name, "value": t.value,
                     **{p: used.get(p) for p in names}, "test": held, **pnl_columns(metrics[t.number]),
                     **pnl_columns(test.get("metrics") or {}, prefix="test_"),
                     "why": _why(t.state.name, t.user_attrs)})
        if t.state.name == "COMPLETE":
            complete[t.number] = used
    frame = pd.DataFrame(rows, columns=["number", "state", "value", *names, "test", *PNL_COLUMNS,
                                        *(f"test_{c}" for c in PNL_COLUMNS), "why"])
    ranked = frame[frame["state"] == "COMPLETE"].sort_values(["value", "number"], ascending=[False, True])
    best = None
    if not ranked.empty:
        top = ranked.iloc[0]
        best = {"number": int(top["number"]), "value": float(top["value"]), "params": complete[int(top["number"])],
                "metrics": metrics[int(top["number"])], "resolutions": ends[int(top["number"])]}
    held = frame[frame["test"].notna() | frame["number"].isin(_tested(attrs))]
    held_out = held[["number", "value", "test", *(f"test_{c}" for c in PNL_COLUMNS), *names]].rename(
        columns={"value": "train"})
    held_out = held_out.sort_values("train", ascending=False).reset_index(drop=True)
    return SweepView(name, spec, frame, names, _counted(trials), int(spec.get("trials", 0)), held_out,
                     attrs.get("pid"), best, complete, attrs.get("out_of_sample"))


def _tested(attrs: dict[str, Any]) -> list[int]:
    return [int(k.split(":", 1)[1]) for k in attrs if k.startswith("test:")]


def param_importance(url: str, name: str) -> dict[str, float]:
    """Optuna's parameter importance (fANOVA) over the complete trials; {} with fewer than two
    complete trials or when it cannot be computed (all values equal, one param value)."""
    if not _exists(url):
        return {}
    import optuna

    study = optuna.load_study(study_name=name, storage=_storage(url))
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2 or len({t.value for t in complete}) < 2:
        return {}
    try:
        found = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError):
        return {}
    return {k: float(v) for k, v in found.items() if v is not None and math.isfinite(v)}
