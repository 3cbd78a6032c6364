"""Parameter sweeps: the space and its checks, a fixed seed gives the same trials, the
train/test split re-runs the best trials on the held-out period only, the study lives in its
own file and a killed sweep (a real process group, SIGKILL) resumes to its trial count, its
worker running below the sweep's priority."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.settings import load_settings
from contracts.sweep_spec import SweepError, SweepSpec, parse_space
from engine.backtest.runner import BacktestSpec, run_sync
from engine.backtest.sweep import counted, objective_value, open_study, ranked_trials, run_sweep, sweeps_url
from engine.backtest.sweep_storage import GRACE_ENV, GRACE_S, HEARTBEAT_S, grace_s, heartbeat_s
from tests.helpers import run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
BASE = {"max_spread": 0.5, "refresh_threshold": 0.0}
# Enough recorded events for trials that differ and a sweep that can be killed between trials; each
# trial backtests all of them, deciding on events (the default), so more only costs the suite time.
EVENTS = 4_000
SHORT_GRACE_S = 6  # the grace here (GRACE_S in production); heartbeats every 2 s


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], int, int]:
    path = tmp_path_factory.mktemp("sweep") / "trader.db"
    markets, start, end = write_recording(path, markets=2, events=EVENTS, events_per_decision=20)
    return path, markets, start, end


def _spec(recording: tuple[Path, list[str], int, int], **changes: object) -> SweepSpec:
    _, markets, start, end = recording
    fields: dict = {"name": "mm", "kind": "market_making", "space": parse_space(SPACE, "market_making"),
                    "from_ms": start, "to_ms": end, "base_params": BASE, "markets": tuple(markets), "trials": 5,
                    "objective": "return", "seed": 11}
    fields.update(changes)
    return SweepSpec(**fields)


def _env(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv("TRADER_DB", str(path))
    monkeypatch.setenv("TRADER_ENV_FILE", os.devnull)


@pytest.mark.parametrize("space, message", [
    ('{"half_spread": [0.01', "not valid JSON"),
    ({"nope": [1, 2]}, "has no param 'nope'"),
    ({"half_spread": [0.05, 0.01]}, "must be below high"),
    ({"half_spread": [0.01, 0.9]}, "half_spread = 0.9 must be at most 0.5"),
    ({"size": [1.5, 4, "int"]}, "whole-number ends"),
    ({"half_spread": [0.01, 0.05, "cubic"]}, '"int" or "log"'),
    ({"fair_value": {"choices": ["mid", "psychic"]}}, "fair_value = 'psychic'"),
    ([], "a JSON object of params"),
])
def test_a_bad_space_is_refused_with_the_field_named(space: object, message: str) -> None:
    with pytest.raises(SweepError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_space(space, "market_making")  # type: ignore[arg-type]  # bad spaces, on purpose


def test_the_grid_covers_each_range() -> None:
    space = parse_space({"half_spread": [0.01, 0.05], "size": [10, 12, "int"],
                         "fair_value": {"choices": ["mid", "microprice"]}}, "market_making")
    assert space["half_spread"].grid() == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert space["size"].grid() == [10, 11, 12] and space["fair_value"].grid() == ["mid", "microprice"]


def test_the_split_holds_out_the_end_of_the_range() -> None:
    spec = SweepSpec("s", "market_making", parse_space(SPACE, "market_making"), 1_000, 11_000, train_fraction=0.7)
    assert spec.train_range == (1_000, 8_000) and spec.test_range == (8_001, 11_000)
    assert SweepSpec("s", "market_making", {}, 1_000, 11_000).test_range is None


def test_train_and_test_shares_name_the_same_split_and_exclude_each_other() -> None:
    from engine.cli.errors import CliError
    from engine.cli.sweep import spec_from_args
    from engine.main import build_parser

    start = 1_760_000_000_000
    common = ["sweep", "--strategy", "market_making", "--space", json.dumps(SPACE), "--from", str(start),
              "--to", str(start + 10_000)]
    specs = [spec_from_args(build_parser().parse_args(common + extra))
             for extra in (["--split", "0.7"], ["--train", "0.7"], ["--test", "0.3"])]
    assert {s.train_fraction for s in specs} == {0.7} and len({s.name for s in specs}) == 1
    assert specs[0].test_range == (start + 7_001, start + 10_000)
    with pytest.raises(SystemExit):
        build_parser().parse_args(common + ["--train", "0.7", "--test", "0.3"])
    for share in ("0.95", "nan"):
        with pytest.raises(CliError, match="--test: the held-out share must be between 0.1 and 0.9"):
            spec_from_args(build_parser().parse_args(common + ["--test", share]))


def test_a_fixed_seed_gives_the_same_trials_and_the_study_has_its_own_file(
        recording: tuple[Path, list[str], int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recording[0]
    _env(monkeypatch, path)
    runs = []
    for n in (1, 2):  # two runs of a few trials: the same trials, in the same order
        url = f"sqlite:///{tmp_path / f'study{n}.db'}"
        run_sweep(_spec(recording, trials=3), url, path, jobs=1, work_root=tmp_path / f"w{n}")
        study = open_study(_spec(recording, trials=3), url)
        runs.append([(t.number, t.user_attrs["params"], t.value) for t in study.trials])
    assert runs[0] == runs[1] and len(runs[0]) == 3
    assert len({json.dumps(p, sort_keys=True) for _, p, _ in runs[0]}) > 1  # it searched, not one point
    assert len({v for _, _, v in runs[0]}) > 1  # and the trials really differ
    # Each trial keeps what its time went on: every trial replays the same rows, and decides.
    replayed = [t.user_attrs["replayed"] for t in study.trials]
    assert len({r["events"] for r in replayed}) == 1 and replayed[0]["events"] >= EVENTS
    assert all(r["decisions"] > 0 for r in replayed)
    # A different seed searches elsewhere.
    url = f"sqlite:///{tmp_path / 'study3.db'}"
    run_sweep(_spec(recording, seed=12, trials=3), url, path, jobs=1, work_root=tmp_path / "w3")
    assert [t.user_attrs["params"] for t in open_study(_spec(recording, seed=12, trials=3), url).trials] != \
        [p for _, p, _ in runs[0]]
    # The default storage is a file of its own beside the trading database.
    assert sweeps_url(path) == f"sqlite:///{path.with_name('trader-sweeps.db')}"


def test_the_best_trials_are_re_run_on_the_held_out_period_only(
        recording: tuple[Path, list[str], int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recording[0]
    _env(monkeypatch, path)
    spec = _spec(recording, train_fraction=0.6, top=2, trials=3)  # the best two of three
    url = f"sqlite:///{tmp_path / 'split.db'}"
    report = run_sweep(spec, url, path, jobs=2, work_root=tmp_path / "w")
    ranked = ranked_trials(open_study(spec, url))
    assert [h["number"] for h in report.held_out] == [t["number"] for t in ranked[:2]]
    for held in report.held_out:
        # The stored test score is the same backtest over the held-out period, not the training one.
        assert spec.test_range is not None
        test_from, test_to = spec.test_range
        again = run_sync(BacktestSpec("market_making", {**BASE, **held["params"]}, test_from, test_to,
                                      spec.markets, spec.seed), path, load_settings(), work_dir=tmp_path / "check")
        assert held["test"] == objective_value(again.metrics, "return")[0]
        # How sure its held-out PnL is: the same backtest's interval and p-value (the same seed, the same draws).
        assert (held["test_pnl_low"], held["test_pnl_high"], held["test_pnl_p"]) == (
            again.metrics.pnl_low, again.metrics.pnl_high, again.metrics.pnl_p_value)
        assert held["test_pnl"] == pytest.approx(again.metrics.end_equity - again.metrics.start_equity)
        assert held["train"] == next(t["value"] for t in ranked if t["number"] == held["number"])
        first = again.curve[0][0]
        assert first > spec.split_ms  # the held-out run saw no training data
    # A second run finds everything done: no trial and no held-out re-run again.
    again_report = run_sweep(spec, url, path, jobs=2, work_root=tmp_path / "w")
    assert again_report.held_out == report.held_out and counted(open_study(spec, url)) == report.trials


def test_resuming_with_other_settings_is_refused(recording: tuple[Path, list[str], int, int], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    open_study(_spec(recording), url)
    open_study(_spec(recording, trials=9), url)  # more trials: the same sweep, resumed
    with pytest.raises(SweepError, match="already exists with other settings"):
        open_study(_spec(recording, objective="sharpe"), url)


def _sweep_cli(path: Path, trials: int) -> list[str]:
    _, markets, start, end = json.loads((path.parent / "meta.json").read_text())
    return [sys.executable, "-m", "engine", "sweep", "--strategy", "market_making", "--space", json.dumps(SPACE),
            "--params", json.dumps(BASE), "--trials", str(trials), "--jobs", "1", "--objective", "return",
            "--from", str(start), "--to", str(end), "--markets", ",".join(markets), "--seed", "5",
            "--name", "resumable"]


def _complete(study_file: Path) -> int:
    """Complete trials, read straight from the file (no schema creation racing the sweep's)."""
    try:
        with sqlite3.connect(f"file:{study_file}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_a_sweep_killed_midway_resumes_to_its_trial_count(tmp_path: Path) -> None:
    path = tmp_path / "trader.db"
    markets, start, end = write_recording(path, markets=2, events=EVENTS, events_per_decision=20)
    (tmp_path / "meta.json").write_text(json.dumps([str(path), markets, start, end]))
    # The killed worker's trial is failed and retried once its heartbeat is the grace old (6 s here, not 30 s).
    env = {**os.environ, "TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull, GRACE_ENV: str(SHORT_GRACE_S)}
    url = sweeps_url(path)
    spec = SweepSpec("resumable", "market_making", parse_space(SPACE, "market_making"), start, end, BASE,
                     tuple(sorted(markets)), trials=6, objective="return", seed=5)
    first = subprocess.Popen(_sweep_cli(path, 6), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if _complete(Path(url.split("///")[1])) >= 3:
                break
            time.sleep(0.2)
        assert first.poll() is None, "the sweep ended before it could be killed"
        # Its worker runs below the sweep's priority: a live engine on the machine comes first.
        workers = _children(first.pid)
        assert len(workers) == 1
        assert os.getpriority(os.PRIO_PROCESS, workers[0]) == os.getpriority(os.PRIO_PROCESS, first.pid) + 10
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the sweep and its worker, mid-trial
        first.wait(timeout=30)
    before = {t.number: t.value for t in open_study(spec, url).trials if t.value is not None}
    assert 3 <= len(before) < 6
    done = subprocess.run(_sweep_cli(path, 6), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["trials"] == 6
    after = {t.number: t.value for t in open_study(spec, url).trials if t.value is not None}
    assert len(after) == 6 and all(after[n] == v for n, v in before.items())  # nothing finished was lost


def test_the_grace_is_grace_s_unless_overridden_and_the_heartbeat_fits_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GRACE_ENV, raising=False)
    assert grace_s() == GRACE_S and heartbeat_s(GRACE_S) == HEARTBEAT_S
    monkeypatch.setenv(GRACE_ENV, "6")
    assert grace_s() == 6 and heartbeat_s(6) == 2  # three heartbeats a grace
    for bad in ("soon", "2", "-5", "4.5", ""):
        monkeypatch.setenv(GRACE_ENV, bad)
        with pytest.raises(SweepError, match=GRACE_ENV):
            grace_s()


@pytest.mark.slow
def test_a_trial_abandoned_before_its_first_heartbeat_does_not_hold_the_sweep_for_ever(
        recording: tuple[Path, list[str], int, int], tmp_path: Path) -> None:
    """A worker killed between creating its trial and the trial's first heartbeat leaves it
    RUNNING with no params: Optuna's heartbeat check never fails it. The sweep's last trial must
    not wait for it for ever: once it has stayed so for the grace period it is failed, and
    another trial takes its place. The grace period is shortened from GRACE_S (30 s) by the
    sweeps' env override, so the wait is watched ending without half a minute of idling."""
    path, markets, start, end = recording
    url = f"sqlite:///{tmp_path / 'abandoned.db'}"
    spec = _spec(recording, name="abandoned", trials=2, seed=5)  # one trial beside it, then the last waits
    with pytest.warns(UserWarning, match="Heartbeat"):  # Optuna's: a trial asked for outside optimize
        open_study(spec, url).ask()  # created, then its process "dies": no heartbeat, no params
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "engine", "sweep", "--name", "abandoned", "--strategy",
                           "market_making", "--space", json.dumps(SPACE), "--params", json.dumps(BASE), "--trials", "2",
                           "--jobs", "1", "--objective", "return", "--seed", "5",
                           "--from", str(start), "--to", str(end),
                           "--markets", ",".join(markets), "--storage", url], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull,
                               GRACE_ENV: str(SHORT_GRACE_S)}, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["trials"] == 2 and time.monotonic() - began >= SHORT_GRACE_S
    states = [t.state.name for t in open_study(spec, url).trials]
    assert states[0] == "FAIL" and states.count("COMPLETE") == 2 and "RUNNING" not in states


def test_the_cli_refuses_bad_input_without_a_traceback(recording: tuple[Path, list[str], int, int],
                                                       tmp_path: Path) -> None:
    path, _, start, end = recording
    env = {"TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull}
    result = run_cli(["sweep", "--strategy", "market_making", "--space", '{"size": [50, 10, "int"]}',
                      "--from", str(start), "--to", str(end)], env=env)
    assert result.returncode == 1 and "size: low (50) must be below high (10)" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(["sweep", "--strategy", "market_making", "--space", json.dumps(SPACE), "--from",
                      str(end + 10**9), "--to", str(end + 2 * 10**9)], env=env)
    assert result.returncode == 1 and "no recorded data" in result.stderr


def test_the_cli_refuses_deep_json_and_more_workers_than_the_machine_takes(
        recording: tuple[Path, list[str], int, int]) -> None:
    path, _, start, end = recording
    env = {"TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull}
    deep = "[" * 10_000 + "]" * 10_000
    for extra, message in ((["--space", f'{{"size": {deep}}}'], "space is nested too deeply (at most 4 levels)"),
                           (["--space", json.dumps(SPACE), "--params", f'{{"size": {deep}}}'],
                            "--params is nested too deeply (at most 32 levels)"),
                           (["--space", json.dumps(SPACE), "--jobs", "100000"], "--jobs 100000: at most "),
                           (["--space", json.dumps(SPACE), "--jobs", "0"], "--jobs: at least 1 worker")):
        result = run_cli(["sweep", "--strategy", "market_making", "--from", str(start), "--to", str(end), *extra],
                         env=env)
        assert result.returncode == 1 and message in result.stderr, result.stderr[-2000:]
        assert "Traceback" not in result.stderr


def test_no_more_workers_start_than_trials_are_left(
        recording: tuple[Path, list[str], int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = recording[0]
    _env(monkeypatch, path)
    url = f"sqlite:///{tmp_path / 'one.db'}"
    report = run_sweep(_spec(recording, trials=1), url, path, jobs=2, work_root=tmp_path / "w")
    assert report.trials == 1 and counted(open_study(_spec(recording, trials=1), url)) == 1
    own = tmp_path / "w" / f"process-{os.getpid()}"  # this sweep's folder: another's never shares it
    assert sorted(p.name for p in own.iterdir() if p.name.startswith("worker")) == ["worker-0", "worker-0.log"]


def test_a_storage_url_with_a_password_never_goes_on_the_command_line(
        recording: tuple[Path, list[str], int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, start, end = recording
    env = {"TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull}
    result = run_cli(["sweep", "--strategy", "market_making", "--space", json.dumps(SPACE), "--from", str(start),
                      "--to", str(end), "--storage", "postgresql://sweeper:hunter2@db.internal/sweeps"], env=env)
    assert result.returncode == 1 and "SWEEP_STORAGE" in result.stderr and "hunter2" not in result.stderr
    # From the environment (or .env) it is the default storage, and printed masked.
    from storage.research.sweep_queries import shown_url, sweeps_storage

    env_file = tmp_path / "desk.env"
    env_file.write_text("SWEEP_STORAGE=postgresql://sweeper:hunter2@db.internal/sweeps\n")
    monkeypatch.setenv("TRADER_ENV_FILE", str(env_file))
    url = sweeps_storage(ROOT, path)
    assert url == "postgresql://sweeper:hunter2@db.internal/sweeps"
    assert shown_url(url) == "postgresql://sweeper:***@db.internal/sweeps"


def test_a_dead_workers_trial_is_failed_and_tried_again_once(tmp_path: Path) -> None:
    """A worker that dies mid-trial stops its heartbeat: once the heartbeat is GRACE_S old the
    trial is failed and queued again with the same params, and a retry that dies too is not
    queued again (a trial that kills its worker must not hold the sweep for ever). The
    heartbeat is aged in the study file rather than waited for."""
    import optuna

    from engine.backtest.sweep import suggest

    url = f"sqlite:///{tmp_path / 'dead.db'}"
    spec = SweepSpec("dead", "market_making", parse_space(SPACE, "market_making"), 0, 1, BASE, ("c1",), trials=3,
                     objective="return", seed=5)
    study = open_study(spec, url)

    def start_and_die() -> optuna.trial.Trial:
        with pytest.warns(UserWarning, match="Heartbeat"):  # Optuna's: a trial asked for outside optimize
            trial = study.ask()
        suggest(trial, spec.space)
        study._storage.record_heartbeat(trial._trial_id)  # type: ignore[attr-defined]  # RDBStorage's, not declared on BaseStorage
        with sqlite3.connect(tmp_path / "dead.db") as conn:  # its worker is gone: the heartbeat ages
            conn.execute("UPDATE trial_heartbeats SET heartbeat = '2000-01-01 00:00:00.000000'")
        optuna.storages.fail_stale_trials(study)
        return trial

    first = start_and_die()
    trials = study.get_trials(deepcopy=False)
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"]
    assert trials[1].params == trials[0].params and trials[0].params  # the same point, tried again
    retry = start_and_die()
    assert retry.number == 1 and retry.params == first.params
    assert [t.state.name for t in study.get_trials(deepcopy=False)] == ["FAIL", "FAIL"]  # once, not for ever


def test_each_sweep_process_works_in_its_own_folder_and_a_dead_ones_is_removed(tmp_path: Path) -> None:
    """Two sweeps of one study on one machine share the study's work folder: each worker's backtest
    database is replaced at every trial, so they must not share a worker folder (one would delete the
    other's database mid-trial). A folder left by a process that has ended is removed by the next."""
    from engine.backtest.sweep import own_work_dir

    root = tmp_path / "study"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    (root / f"process-{dead.pid}" / "worker-0").mkdir(parents=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (root / f"process-{alive.pid}" / "worker-0").mkdir(parents=True)
        own = own_work_dir(root)
        assert own == root / f"process-{os.getpid()}" and own.is_dir()
        assert sorted(p.name for p in root.iterdir()) == sorted([own.name, f"process-{alive.pid}"])
    finally:
        alive.kill()
        alive.wait(timeout=30)
