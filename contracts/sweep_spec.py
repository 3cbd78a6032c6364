"""What a parameter sweep searches: the space (parsed and checked against the strategy's
params schema), the objective, the sampler, the data and its train/test split. Pure: no
Optuna, no database, so the dashboard's form and the CLI check input the same way.

The space is a JSON object, one entry per param:
- `[low, high]`: a number between low and high (floats; a param with a step in its schema
  moves in that step);
- `[low, high, "int"]`: a whole number; `[low, high, "log"]`: a float on a log scale;
- `{"choices": [a, b, ...]}`: one of the values.
Params not in the space keep the base params' values (or the schema's defaults).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported where used: the CLI's parser imports this module for every command
    from contracts.params import ParamType

Objective = Literal["sharpe", "return", "calmar", "markout"]
Sampler = Literal["tpe", "grid"]
OBJECTIVES: tuple[str, ...] = ("sharpe", "return", "calmar", "markout")
SAMPLERS: tuple[str, ...] = ("tpe", "grid")
MAX_DIMENSIONS = 20
MAX_TRIALS = 100_000
GRID_POINTS = 5  # values per numeric range on a grid
SPACE_DEPTH = 4  # {"param": {"choices": [...]}} is 3 levels deep
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,79}$")


class SweepError(ValueError):
    """Bad sweep input; the message names the field and says what is wrong."""


@dataclass(frozen=True)
class Dimension:
    name: str
    scale: Literal["float", "int", "log", "choice"]
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def grid(self, points: int = GRID_POINTS) -> list[Any]:
        """The values a grid search tries."""
        if self.scale == "choice":
            return list(self.choices)
        if self.scale == "int":
            count = min(points, int(self.high - self.low) + 1)
            return sorted({round(self.low + i * (self.high - self.low) / max(1, count - 1)) for i in range(count)})
        if self.scale == "log":
            ratio = math.log(self.high / self.low)
            return [round(self.low * math.exp(ratio * i / (points - 1)), 6) for i in range(points)]
        return sorted({round(self.low + i * (self.high - self.low) / (points - 1), 6) for i in range(points)})

    def count(self) -> int:
        """How many distinct values a trial can give this param: the strategies take at most 6
        decimals (sweep.suggest rounds to them), so every range is finite."""
        if self.scale == "choice":
            return len(self.choices)
        if self.scale == "int":
            return int(self.high - self.low) + 1
        return int((self.high - self.low) / self._unit() + 1e-9) + 1

    def value(self, index: int) -> Any:
        """The index-th of those values (0 <= index < count()), as a trial would give it."""
        if self.scale == "choice":
            return self.choices[index]
        if self.scale == "int":
            return int(self.low) + index
        return min(round(self.low + index * self._unit(), 6), self.high)

    def _unit(self) -> float:
        return self.step or 1e-6


@dataclass(frozen=True)
class SweepSpec:
    """One sweep. Its study is named `name`; running the same spec again resumes it."""

    name: str
    kind: str
    space: dict[str, Dimension]
    from_ms: int
    to_ms: int
    base_params: dict[str, Any] = field(default_factory=dict)
    markets: tuple[str, ...] = ()
    trials: int = 50
    objective: Objective = "sharpe"
    sampler: Sampler = "tpe"
    seed: int = 0  # the sampler's and the paper venue's
    source: Literal["recorded", "history"] = "recorded"
    train_fraction: float | None = None  # None: no held-out period
    top: int = 3  # the best trials re-run on the held-out period
    walk_forward: int = 0  # folds (engine/backtest/sweep_oos.py); 0: none

    @property
    def split_ms(self) -> int:
        """Where training ends and the held-out (test) period begins."""
        if self.train_fraction is None:
            return self.to_ms
        return self.from_ms + int((self.to_ms - self.from_ms) * self.train_fraction)

    @property
    def train_range(self) -> tuple[int, int]:
        return self.from_ms, self.split_ms

    @property
    def test_range(self) -> tuple[int, int] | None:
        return None if self.train_fraction is None else (self.split_ms + 1, self.to_ms)

    def identity(self) -> dict[str, Any]:
        """What must match for a run to resume this study (the trial count may grow)."""
        data = self.as_dict()
        data.pop("trials")
        return data

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["space"] = {name: _dimension_json(d) for name, d in self.space.items()}
        data["markets"] = list(self.markets)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepSpec:
        fields = dict(data)
        fields["space"] = parse_space(fields["space"], fields["kind"])
        fields["markets"] = tuple(fields.get("markets", ()))
        return cls(**fields)


def _dimension_json(d: Dimension) -> Any:
    if d.scale == "choice":
        return {"choices": list(d.choices)}
    if d.scale == "float":
        return [d.low, d.high]
    return [d.low, d.high, d.scale]


def parse_space(raw: str | dict[str, Any], kind: str) -> dict[str, Dimension]:
    """The space, checked against `kind`'s params schema (each end of each range must be a
    legal value of its param); SweepError says what is wrong."""
    if isinstance(raw, str):
        from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded

        try:
            raw = loads_bounded(raw, max_bytes=CONFIG_BYTES, max_depth=SPACE_DEPTH, what="space")
        except JsonRefused as exc:
            raise SweepError(str(exc)) from None
    if not isinstance(raw, dict) or not raw:
        raise SweepError('space: a JSON object of params, e.g. {"half_spread": [0.01, 0.05], "size": [10, 50, "int"]}')
    if len(raw) > MAX_DIMENSIONS:
        raise SweepError(f"space: at most {MAX_DIMENSIONS} params")
    from contracts.strategy_kinds import registry, validate_params

    strategy_kind = registry().get(kind)
    if strategy_kind is None:
        raise SweepError(f"strategy: unknown kind {kind!r} (known: {', '.join(sorted(registry()))})")
    schema = {spec.name: spec for spec in strategy_kind.params_schema}
    space = {}
    for name, entry in raw.items():
        spec = schema.get(name)
        if spec is None:
            raise SweepError(f"space: {kind} has no param {name!r} (its params: {', '.join(schema)})")
        space[name] = _dimension(name, entry, spec.type, spec.step)
        for value in (space[name].grid(2) if space[name].scale != "choice" else space[name].choices):
            _, errors = validate_params(kind, {name: value})
            if name in errors:
                raise SweepError(f"space: {name} = {value!r} {errors[name]}")
    return space


def _dimension(name: str, entry: Any, ptype: ParamType, step: float | None) -> Dimension:
    if isinstance(entry, dict):
        choices = entry.get("choices")
        if set(entry) != {"choices"} or not isinstance(choices, list) or not choices or len(choices) > 100:
            raise SweepError(f'space: {name} must be [low, high], [low, high, "int"|"log"] or {{"choices": [...]}}')
        return Dimension(name, "choice", choices=tuple(choices))
    if not isinstance(entry, list) or len(entry) not in (2, 3):
        raise SweepError(f'space: {name} must be [low, high], [low, high, "int"|"log"] or {{"choices": [...]}}')
    low, high, *rest = entry
    scale = rest[0] if rest else ("int" if ptype.is_integral else "float")
    if scale not in ("int", "log", "float"):
        raise SweepError(f'space: {name}: the third item must be "int" or "log", not {scale!r}')
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in (low, high)):
        raise SweepError(f"space: {name}: low and high must be numbers")
    if not low < high:
        raise SweepError(f"space: {name}: low ({low}) must be below high ({high})")
    if scale == "int" and (low != int(low) or high != int(high)):
        raise SweepError(f"space: {name}: an int range needs whole-number ends")
    if scale == "log" and low <= 0:
        raise SweepError(f"space: {name}: a log range needs low > 0")
    if ptype.is_integral and scale != "int":
        raise SweepError(f'space: {name} is a whole number: use [low, high, "int"]')
    usable_step = step if scale == "float" and step and _fits(low, high, step) else None
    return Dimension(name, scale, float(low), float(high), usable_step)  # type: ignore[arg-type]  # scale is one of Dimension's literals, checked above


def _fits(low: float, high: float, step: float) -> bool:
    """Whether low and high are on the step's grid (Optuna's stepped range needs it)."""
    return all(abs(v / step - round(v / step)) < 1e-9 for v in (low, high))


def distinct_sets(spec: SweepSpec) -> int:
    """How many distinct parameter sets the spec's sampler can try: the grid's points, or every
    combination of the space's values."""
    total = 1
    for d in spec.space.values():
        total *= len(d.grid()) if spec.sampler == "grid" else d.count()
    return total


def check_spec(spec: SweepSpec) -> None:
    """Everything but the data: SweepError says what is wrong."""
    from contracts.strategy_kinds import validate_params

    if not NAME_PATTERN.match(spec.name):
        raise SweepError("name: 1-80 letters, digits, spaces or _ . : - (starting with a letter or digit)")
    _, errors = validate_params(spec.kind, spec.base_params)
    if errors:
        raise SweepError("params: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    if not 1 <= spec.trials <= MAX_TRIALS:
        raise SweepError(f"trials: between 1 and {MAX_TRIALS:,}")
    if spec.objective not in OBJECTIVES:
        raise SweepError(f"objective: one of {', '.join(OBJECTIVES)}")
    if spec.sampler not in SAMPLERS:
        raise SweepError(f"sampler: one of {', '.join(SAMPLERS)}")
    if spec.to_ms <= spec.from_ms:
        raise SweepError("range: the end must be after the start")
    if spec.train_fraction is not None and not 0.1 <= spec.train_fraction <= 0.9:
        raise SweepError("split: the training share must be between 0.1 and 0.9 (e.g. 0.7: the last 30 % is held out)")
    if not 1 <= spec.top <= 20:
        raise SweepError("top: between 1 and 20 trials re-run on the held-out period")
    _check_walk_forward(spec)
    _check_room(spec)


WALK_FORWARD_FOLDS = (2, 12)


def _check_walk_forward(spec: SweepSpec) -> None:
    if not spec.walk_forward:
        return
    low, high = WALK_FORWARD_FOLDS
    if not low <= spec.walk_forward <= high:
        raise SweepError(f"walk-forward: between {low} and {high} folds (the span is cut into folds + 1 windows)")
    if spec.train_fraction is not None:
        raise SweepError("walk-forward holds out a window after each tuning window: drop --split/--test")
    if spec.objective == "markout":
        raise SweepError("walk-forward scores each window from the equity curve: use sharpe, return or calmar "
                         "(the markout objective needs each window's fills)")


def _check_room(spec: SweepSpec) -> None:
    """No parameter set is tried twice, so the space must hold as many as the trials asked for
    (and a grid stays small enough to list)."""
    if spec.sampler == "grid":
        points = 1
        for d in spec.space.values():
            points *= len(d.grid())
            if points > MAX_TRIALS:
                raise SweepError(f"sampler: a grid of more than {MAX_TRIALS:,} points ({GRID_POINTS} values per "
                                 "numeric range); search fewer params, or use tpe")
        if spec.trials > points:
            raise SweepError(f"trials: the grid has {points:,} points and none is tried twice: ask for at most "
                             f"{points:,} trials")
        return
    sets = distinct_sets(spec)
    if spec.trials > sets:
        raise SweepError(f"trials: the space holds {sets:,} distinct parameter sets and none is tried twice: ask "
                         f"for at most {sets:,} trials, or widen the space")


def default_name(spec: SweepSpec) -> str:
    """A name from the settings (the trial count aside): the same command finds its study."""
    identity = {**spec.identity(), "name": "-"}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{spec.kind} {digest[:10]}"
