"""Which trials a sweep runs, as pure logic: a trial is skipped when the sweep already has its
trials ahead of it or when another trial holds its params; an untried point is found while one
is left; a space that cannot give the trials asked for without repeating is refused up front;
`--jobs` is bounded by the machine's cores and memory."""

from __future__ import annotations

import random
from typing import Any

import pytest
from optuna.trial import FrozenTrial, TrialState, create_trial

from contracts.sweep_spec import SweepError, SweepSpec, check_spec, distinct_sets, parse_space
from contracts.sweep_workers import WORKER_MB, check_jobs, worker_budget
from engine.backtest.sweep import why_skip
from engine.backtest.sweep_sampler import params_key, trial_seed, untried_point


def _trial(number: int, state: TrialState, params: dict[str, Any], **attrs: Any) -> FrozenTrial:
    trial = create_trial(state=state, value=1.0 if state is TrialState.COMPLETE else None,
                         user_attrs={"params": params, "key": params_key(params), **attrs})
    trial.number = number
    return trial


def _p(size: int) -> dict[str, Any]:
    return {"size": size}


def test_a_trial_runs_only_while_fewer_than_the_trials_asked_for_hold_places_ahead_of_it() -> None:
    finished = [_trial(0, TrialState.COMPLETE, _p(5)), _trial(1, TrialState.FAIL, _p(6), undefined="no trading")]
    me = params_key(_p(9))
    # Two finished (an undefined score counts), one running: a 4th place is free, a 3rd is not.
    ahead = [*finished, _trial(2, TrialState.RUNNING, _p(7))]
    assert why_skip(ahead, 3, me, wanted=4) == ""
    assert why_skip(ahead, 3, me, wanted=3) == "the sweep has its 3 trials"
    # A queued retry holds its place too; a trial that was skipped, or whose worker died, does not.
    assert why_skip([*finished, _trial(2, TrialState.WAITING, _p(7))], 3, me, wanted=3) != ""
    gone = [*finished, _trial(2, TrialState.PRUNED, _p(7)), _trial(3, TrialState.FAIL, _p(8))]
    assert why_skip(gone, 4, me, wanted=3) == ""
    # Trials behind it (higher numbers) never push it out: they saw it first.
    assert why_skip([*finished, _trial(5, TrialState.RUNNING, _p(7))], 3, me, wanted=3) == ""


def test_a_trial_whose_params_another_holds_is_skipped_whoever_came_first() -> None:
    key = params_key(_p(5))
    for state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING):
        for other in (0, 7):  # ahead of it or behind it: whichever of two claims read last yields
            assert why_skip([_trial(other, state, _p(5))], 3, key, wanted=50) == \
                f"duplicate of trial {other}: the same params"
    assert why_skip([_trial(0, TrialState.FAIL, _p(5), undefined="Sharpe undefined")], 3, key, wanted=50) != ""
    # A skipped trial, or one whose worker died, never tried them: they may run.
    assert why_skip([_trial(0, TrialState.PRUNED, _p(5)), _trial(1, TrialState.FAIL, _p(5))], 3, key,
                    wanted=50) == ""
    assert why_skip([_trial(3, TrialState.RUNNING, _p(5))], 3, key, wanted=50) == ""  # itself


def test_an_untried_point_is_found_while_one_is_left() -> None:
    space = parse_space({"half_spread": [0.01, 0.013], "size": [5, 8, "int"]}, "market_making")
    assert [d.count() for d in space.values()] == [4, 4]  # half_spread moves in its schema's 0.001 step
    held: set[str] = set()
    seen = []
    for n in range(16):
        point = untried_point(space, held, random.Random(trial_seed(1, n)), grid=False)
        held.add(params_key(point))
        seen.append(point)
    assert len(held) == 16  # every draw was new, the last ones found by listing what is left
    assert {p["half_spread"] for p in seen} == {0.01, 0.011, 0.012, 0.013} and {p["size"] for p in seen} == {5, 6, 7, 8}
    grid = parse_space({"half_spread": [0.01, 0.05], "size": [10, 12, "int"]}, "market_making")
    points = {params_key(untried_point(grid, set(), random.Random(n), grid=True)) for n in range(200)}
    assert points == {params_key({"half_spread": h, "size": n}) for h in (0.01, 0.02, 0.03, 0.04, 0.05)
                      for n in (10, 11, 12)}  # the grid's points and nothing else


def test_per_trial_seeds_differ_across_numbers_and_repeat_for_one() -> None:
    assert trial_seed(0, 1) == trial_seed(0, 1)
    assert len({trial_seed(0, n) for n in range(1000)}) == 1000 and trial_seed(0, 3) != trial_seed(1, 3)


def _spec(space: dict[str, Any], trials: int, sampler: str = "tpe", kind: str = "market_making") -> SweepSpec:
    return SweepSpec("s", kind, parse_space(space, kind), 1_000, 2_000, trials=trials,
                     sampler=sampler)  # type: ignore[arg-type]  # the sampler's name as a test parameter


def test_more_trials_than_distinct_parameter_sets_are_refused() -> None:
    small = {"size": [5, 40, "int"]}
    assert distinct_sets(_spec(small, 36)) == 36
    check_spec(_spec(small, 36))
    with pytest.raises(SweepError, match="the space holds 36 distinct parameter sets .* at most 36 trials"):
        check_spec(_spec(small, 37))
    with pytest.raises(SweepError, match="the grid has 25 points .* at most 25 trials"):
        check_spec(_spec({"half_spread": [0.01, 0.05], "size": [10, 50, "int"]}, 26, "grid"))
    wide = {"position_size": [1, 100, "int"], "fast_seconds": [1, 100, "int"], "slow_seconds": [2, 200, "int"],
            "threshold": [0.01, 0.05], "lookback_seconds": [1, 100, "int"], "entry_z": [0.5, 2.0],
            "exit_z": [0.1, 1.0], "warmup_seconds": [0, 100, "int"]}
    with pytest.raises(SweepError, match="a grid of more than 100,000 points"):
        check_spec(_spec(wide, 10, "grid", kind="momentum"))  # 5**8 points: refused before anything lists them
    check_spec(_spec(wide, 10, kind="momentum"))  # TPE samples the same space without listing it


def test_jobs_are_bounded_by_cores_and_memory() -> None:
    assert worker_budget(cores=2, memory_mb=20_000).most == 2
    assert worker_budget(cores=16, memory_mb=1_000).most == 1_000 * 3 // 4 // WORKER_MB == 3
    assert worker_budget(cores=4, memory_mb=100).most == 1  # one worker always: the sweep was asked for
    assert worker_budget(cores=4, memory_mb=None).most == 4  # memory unknown: cores alone
    small_vps = worker_budget(cores=2, memory_mb=900)
    assert check_jobs(2, small_vps) == ""
    assert check_jobs(12, small_vps) == ("--jobs 12: at most 2 workers on this machine (2 cores to use; 900 MB of "
                                         f"memory available and each worker needs up to {WORKER_MB} MB)")
    assert check_jobs(0, small_vps) == "--jobs: at least 1 worker"
    here = worker_budget()
    assert 1 <= here.most <= here.cores
