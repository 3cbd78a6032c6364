"""The relative_value kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/relative_value.py's."""

from __future__ import annotations

from contracts.params import Errors, Params, ParamSpec, ParamType, StrategyKind

AGAINST = ("reference", "other_market")


def check(params: Params) -> Errors:
    if params["exit_z"] >= params["entry_z"]:
        return {"exit_z": "must be below entry_z"}
    return {}


RELATIVE_VALUE = StrategyKind(
    kind="relative_value",
    title="Pairs / relative value",
    description=(
        "Trades the spread between two prices of one question when it departs from its mean by `entry_z` "
        "standard deviations, back to flat inside `exit_z`: each market against its reference price (the mid of "
        "the Kalshi market paired with it by hand: only this venue's leg is traded), or its two markets on this "
        "venue against each other (both legs traded, each through the risk gate)."
    ),
    params_schema=(
        ParamSpec("against", ParamType.CHOICE, "reference", "'reference': each market against its reference price; "
                  "'other_market': its two markets (name exactly two) against each other.", choices=AGAINST),
        ParamSpec("relation", ParamType.CHOICE, "same", "Two markets: 'same' when their YES prices should move "
                  "together (spread A − B), 'inverse' when one's YES is the other's NO (spread A + B − 1).",
                  choices=("same", "inverse")),
        ParamSpec("size", ParamType.SHARES, 20, "Shares held on each leg while the spread is traded.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("lookback_s", ParamType.SECONDS, 900, "Time constant of the spread's moving mean and deviation.",
                  label="Lookback", minimum=10, maximum=30 * 86_400),
        ParamSpec("entry_z", ParamType.DECIMAL, 2.0, "Enter beyond this z-score.", minimum=0.1, maximum=10,
                  unit="σ", step=0.1),
        ParamSpec("exit_z", ParamType.DECIMAL, 0.5, "Go flat inside this z-score.", minimum=0, maximum=10,
                  unit="σ", step=0.1),
        ParamSpec("min_std", ParamType.PROBABILITY, 0.005, "Floor of the spread's deviation (a flat spread must not "
                  "turn a one-tick move into an extreme z-score).", minimum=0.0001, maximum=0.5, step=0.001),
        ParamSpec("warmup_s", ParamType.SECONDS, 600, "Watch the spread this long before trading it.",
                  label="Warm-up", minimum=0, maximum=30 * 86_400),
        ParamSpec("max_spread", ParamType.PROBABILITY, 0.1, "A leg whose book is wider than this is not priced "
                  "(its mid says little): the spread waits.", label="Max book spread", minimum=0, maximum=1,
                  step=0.01),
        ParamSpec("stale_after_s", ParamType.SECONDS, 60, "Against the reference: a reference price older than "
                  "this is not used.", minimum=1, maximum=3600),
    ),
    check=check,
)
