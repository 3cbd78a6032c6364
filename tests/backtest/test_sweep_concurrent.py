"""Several sweep processes on one study, as several machines run them: started at the same
moment on a fresh study, on a shared SQLite file and on a real PostgreSQL server (the pinned
driver, SQLAlchemy's default for a `postgresql://` URL, the password only in the environment).
None crashes creating the tables, the study ends with exactly the trials asked for, and no
parameter set is backtested twice, although every process has the same seed and the space is
small enough for TPE to propose repeats."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import optuna
import pytest

from engine.backtest.sweep_storage import GRACE_ENV
from tests.helpers import ROOT
from tests.pg import MISSING, Server, server_bin, throwaway_postgres

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

SPACE = {"half_spread": [0.005, 0.008], "size": [5, 8, "int"]}  # 16 parameter sets
TRIALS = 12
NAME = "shared"
DEAD_TRIAL_GRACE_S = 9  # a killed sweep's trial is failed this long after its last heartbeat (GRACE_S live)
Recording = tuple[Path, list[str], int, int]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    path = tmp_path_factory.mktemp("shared-sweep") / "trader.db"
    markets, start, end = write_recording(path, markets=2, events=4_000, events_per_decision=20)
    return path, markets, start, end


def _machine(recording: Recording, home: Path, env_lines: str) -> dict[str, str]:
    """A machine's own copy of the recording and its own .env; the environment it runs in."""
    home.mkdir()
    shutil.copy(recording[0], home / "trader.db")
    (home / ".env").write_text(env_lines)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADER_", "SWEEP_"))}
    return {**env, "TRADER_DB": str(home / "trader.db"), "TRADER_ENV_FILE": str(home / ".env")}


def _sweep_args(recording: Recording, extra: list[str]) -> list[str]:
    _, markets, start, end = recording
    return [sys.executable, "-m", "engine", "sweep", "--name", NAME, "--strategy", "market_making",
            "--space", json.dumps(SPACE), "--params", json.dumps({"max_spread": 0.5, "refresh_threshold": 0.0}),
            "--trials", str(TRIALS), "--jobs", "1", "--objective", "return", "--seed", "7", "--from", str(start),
            "--to", str(end), "--markets", ",".join(markets), *extra]


def _all_at_once(commands: list[tuple[list[str], dict[str, str]]]) -> list[subprocess.CompletedProcess[str]]:
    """Starts every command before waiting for any; each bounded."""
    started = [subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True) for args, env in commands]
    done = []
    try:
        for proc in started:
            out, err = proc.communicate(timeout=300)
            done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=30)
    return done


def _check_study(url: str, runs: list[subprocess.CompletedProcess[str]]) -> list[optuna.trial.FrozenTrial]:
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
        assert "Traceback" not in run.stderr
        assert json.loads(run.stdout)["trials"] == TRIALS
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    trials = optuna.load_study(study_name=NAME, storage=url).get_trials(deepcopy=False)
    complete = [t for t in trials if t.state is optuna.trial.TrialState.COMPLETE]
    assert len(complete) == TRIALS  # exactly the trials asked for, not one more
    # A skipped trial never ran a backtest. (A trial failed because its process died may have: killed
    # after its backtest stored its metrics, before the trial was told complete.)
    backtested = [t for t in trials if "metrics" in t.user_attrs and t.state is not optuna.trial.TrialState.FAIL]
    assert len(backtested) == TRIALS
    keys = [json.dumps(t.user_attrs["params"], sort_keys=True) for t in backtested]
    assert len(set(keys)) == TRIALS, sorted(keys)  # no parameter set twice
    assert not [t for t in trials if t.state is optuna.trial.TrialState.RUNNING]
    return trials


def test_three_processes_started_together_on_one_sqlite_study_file(recording: Recording, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared-sweeps.db'}"
    machines = [_machine(recording, tmp_path / f"machine-{i}", "") for i in range(3)]
    runs = _all_at_once([(_sweep_args(recording, ["--storage", url]), env) for env in machines])
    _check_study(url, runs)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    bin_dir = server_bin()
    if bin_dir is None:
        pytest.skip(MISSING)
    with throwaway_postgres(bin_dir) as server:
        yield server


def test_two_machines_started_together_on_a_postgresql_study(recording: Recording, postgres: Server,
                                                              tmp_path: Path) -> None:
    from storage.research.sweep_queries import sweep_view

    url = postgres.url()  # postgresql://: SQLAlchemy's default driver for it, psycopg 3, pinned in requirements.txt
    machines = [_machine(recording, tmp_path / f"machine-{i}", f"SWEEP_STORAGE={url}\n") for i in range(2)]
    runs = _all_at_once([(_sweep_args(recording, []), env) for env in machines])
    _check_study(url, runs)
    for run in runs:  # the password stays in the environment: printed masked, never whole
        assert json.loads(run.stdout)["storage"] == postgres.url(password=False).replace("sweeper@", "sweeper:***@")
        assert postgres.password not in run.stdout + run.stderr
    view = sweep_view(url, NAME)  # the dashboard's Sweep tab reads the same server
    assert view is not None and view.done == TRIALS and view.best is not None


def _states(study_file: Path) -> list[str]:
    """The trials' states, read straight from the study's file: a look costs a query, not an Optuna
    storage opened (and its schema checked) every 50 ms."""
    try:
        with closing(sqlite3.connect(f"file:{study_file}?mode=ro", uri=True, timeout=5)) as conn:
            return [state for (state,) in conn.execute("SELECT state FROM trials")]
    except sqlite3.Error:  # the file or its tables do not exist yet
        return []


def test_a_sweep_survives_the_death_of_another_on_its_study(recording: Recording, tmp_path: Path) -> None:
    """Two sweeps on one machine share one SQLite study (and so the study's work folder beside the
    database); one is SIGKILLed (its whole process group) while it runs a trial. The survivor
    finishes the trials asked for and exits 0; the dead one's trial is failed after the heartbeat's
    grace, never left RUNNING."""
    import signal
    import time

    url = f"sqlite:///{tmp_path / 'shared-sweeps.db'}"
    # The grace shortened from GRACE_S (30 s; heartbeats every 3 s instead of 10): the survivor waits it out.
    machine = {**_machine(recording, tmp_path / "machine", ""), GRACE_ENV: str(DEAD_TRIAL_GRACE_S)}
    procs = [subprocess.Popen(_sweep_args(recording, ["--storage", url]), cwd=ROOT, env=machine,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
             for _ in range(2)]
    victim, survivor = procs
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it mid-sweep: once the study has begun to fill
            states = _states(tmp_path / "shared-sweeps.db")
            if states.count("COMPLETE") >= 2 and "RUNNING" in states:
                break
            time.sleep(0.05)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        out, err = survivor.communicate(timeout=300)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait(timeout=30)
    assert survivor.returncode == 0, err[-3000:]
    _check_study(url, [subprocess.CompletedProcess(survivor.args, 0, out, err)])
