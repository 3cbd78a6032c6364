"""How a sweep's trials pick their params, so that no parameter set is tried twice by any
worker on any machine, and a fixed seed still gives the same trials with one worker.

- Each trial is sampled afresh from its own seed, derived from the spec's seed and the trial's
  number (which the storage hands out once per study, under a lock): two workers, or two
  machines, never share a random stream, and a resumed sweep does not replay the first trials'
  draws. (A sampler seeded once per worker, `seed + worker index`, repeats itself across
  machines: each machine has a worker 0.)
- TPE (Optuna's) with `constant_liar`, Optuna's own remedy for parallel workers: a trial still
  running counts as a poor result, so a concurrent worker looks elsewhere.
- A grid, or a trial after a duplicate (TPE converging on a point already tried), takes a
  parameter set no other trial holds, at random (seeded). Optuna's GridSampler is not used: with
  several workers it may hand two of them the same point, and it counts a point as visited once a
  trial on it is pruned, which the sweep does to a trial it skips.

The sweep (engine/backtest/sweep.py) still checks every trial against the others before it runs
(`held_keys`, `params_key`): two workers can draw the same point at the same moment.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.trial import TrialState

from contracts.sweep_spec import Dimension

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.study import Study
    from optuna.trial import FrozenTrial

RANDOM_DRAWS = 64  # draws for an untried point before listing them all
LISTABLE = 100_000  # spaces up to this many points are listed when the draws keep missing
HOLDING = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)


def params_key(params: dict[str, Any]) -> str:
    """One parameter set, as a trial backtests it, in a form that compares."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def holds(trial: FrozenTrial) -> bool:
    """Whether a trial has (or will have) tried its params: finished with a score or with an
    undefined one, running, or queued. A pruned (skipped) trial or one whose worker died did not."""
    return trial.state in HOLDING or (trial.state is TrialState.FAIL and "undefined" in trial.user_attrs)


def held_keys(trials: Sequence[FrozenTrial], *, besides: int | None = None) -> dict[str, int]:
    """The parameter sets held by trials (other than trial number `besides`): key -> trial number."""
    return {t.user_attrs["key"]: t.number for t in trials
            if t.number != besides and "key" in t.user_attrs and holds(t)}


def trial_seed(seed: int, number: int) -> int:
    return int.from_bytes(hashlib.sha256(f"sweep:{seed}:{number}".encode()).digest()[:4], "big")


def untried_point(space: dict[str, Dimension], held: set[str], rng: random.Random, *, grid: bool) -> dict[str, Any]:
    """A parameter set (of the grid, or of all the space's values) that no key in `held` names,
    drawn at random; when the space is that full, any point (the sweep's check then skips it)."""
    axes = [(name, d.grid() if grid else None, d) for name, d in space.items()]
    sizes = [len(values) if values is not None else d.count() for _, values, d in axes]
    total = 1
    for size in sizes:
        total *= size

    def point(index: int) -> dict[str, Any]:
        params = {}
        for (name, values, d), size in zip(axes, sizes, strict=True):
            index, at = divmod(index, size)
            params[name] = values[at] if values is not None else d.value(at)
        return params

    for _ in range(RANDOM_DRAWS):
        candidate = point(rng.randrange(total))
        if params_key(candidate) not in held:
            return candidate
    if total <= LISTABLE:
        free = [i for i in range(total) if params_key(point(i)) not in held]
        if free:
            return point(rng.choice(free))
    return point(rng.randrange(total))


class SweepSampler(BaseSampler):
    """Per trial: TPE, or an untried point (grid, or after a duplicate); see the module doc."""

    def __init__(self, space: dict[str, Dimension], seed: int, *, grid: bool = False) -> None:
        self._space = space
        self._seed = seed
        self._grid = grid
        self._after_duplicate = False
        self._inner: BaseSampler | None = None
        self._point: dict[str, Any] | None = None

    def next_untried(self) -> None:
        """The next trial takes an untried point instead of TPE's (its proposal was a duplicate)."""
        self._after_duplicate = True

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        seed = trial_seed(self._seed, trial.number)
        self._inner, self._point = None, None
        if trial.params or "fixed_params" in trial.system_attrs:  # a retried or queued trial: its params are set
            self._inner = RandomSampler(seed=seed)
        elif self._grid or self._after_duplicate:
            trials = study.get_trials(deepcopy=False)
            self._point = untried_point(self._space, set(held_keys(trials, besides=trial.number)),
                                        random.Random(seed), grid=self._grid)
            self._after_duplicate = False
        else:
            self._inner = TPESampler(seed=seed, constant_liar=True)
        if self._inner is not None:
            self._inner.before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return {} if self._inner is None else self._inner.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {} if self._inner is None else self._inner.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        if self._point is not None:
            return self._point[param_name]
        assert self._inner is not None
        return self._inner.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        if self._inner is not None:
            self._inner.after_trial(study, trial, state, values)
        self._inner, self._point = None, None

