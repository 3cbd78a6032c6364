"""The momentum kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/momentum.py's."""

from __future__ import annotations

from contracts.params import Errors, Params, ParamSpec, ParamType, StrategyKind


def check(params: Params) -> Errors:
    """The EMAs' periods in order, and the z-score band's exit inside its entry."""
    errors: Errors = {}
    if params["fast_seconds"] >= params["slow_seconds"]:
        errors["fast_seconds"] = "must be shorter than slow_seconds"
    if params["exit_z"] >= params["entry_z"]:
        errors["exit_z"] = "must be below entry_z"
    return errors


MOMENTUM = StrategyKind(
    kind="momentum",
    title="Momentum / mean reversion",
    description=(
        "Follows (momentum) or fades (mean_reversion) moves of the YES mid using time-decayed "
        "EMAs or an EWMA z-score, holding a fixed position in the signal's direction via "
        "immediate takes."
    ),
    params_schema=(
        ParamSpec("mode", ParamType.CHOICE, "momentum", "Follow the trend or fade deviations.",
                  choices=("momentum", "mean_reversion")),
        ParamSpec("position_size", ParamType.SHARES, 20, "Shares held while a signal is on.",
                  minimum=1, maximum=1_000_000),
        ParamSpec("fast_seconds", ParamType.SECONDS, 60, "Momentum: fast EMA time constant.",
                  minimum=1, maximum=7 * 86_400),
        ParamSpec("slow_seconds", ParamType.SECONDS, 600, "Momentum: slow EMA time constant.",
                  minimum=2, maximum=30 * 86_400),
        ParamSpec("threshold", ParamType.PROBABILITY, 0.005, "Momentum: fast minus slow must "
                  "exceed this to flip the signal.", minimum=0, maximum=0.5, step=0.001),
        ParamSpec("lookback_seconds", ParamType.SECONDS, 900, "Mean reversion: time constant of "
                  "the EWMA mean and variance.", minimum=1, maximum=30 * 86_400),
        ParamSpec("entry_z", ParamType.DECIMAL, 2.0, "Mean reversion: enter beyond this z-score.",
                  minimum=0.1, maximum=10, unit="σ", step=0.1),
        ParamSpec("exit_z", ParamType.DECIMAL, 0.5, "Mean reversion: go flat inside this z-score.",
                  minimum=0, maximum=10, unit="σ", step=0.1),
        ParamSpec("warmup_seconds", ParamType.SECONDS, 600, "Observe a market this long before "
                  "trading it.", minimum=0, maximum=30 * 86_400),
    ),
    check=check,
)
