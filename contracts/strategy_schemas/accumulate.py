"""The accumulate kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/accumulate.py's."""

from __future__ import annotations

from contracts.params import Errors, Params, ParamSpec, ParamType, StrategyKind


def check(params: Params) -> Errors:
    if params["size"] > params["target_shares"]:
        return {"size": "must not exceed target_shares (a slice larger than the whole)"}
    return {}


ACCUMULATE = StrategyKind(
    kind="accumulate",
    title="Accumulate to a target (DCA)",
    description=(
        "Builds a position of `target_shares` of one outcome in slices: one fill-and-kill of `size` at the best "
        "price every `interval_s`, only while that price is at or under `price_cap`, until the target is held. "
        "As an iceberg (`how`: iceberg) it rests a bid of `size` at `price_cap` instead, the next slice at the "
        "same price as soon as the shown one fills. It never sells."
    ),
    params_schema=(
        ParamSpec("outcome", ParamType.CHOICE, "YES", "The outcome to accumulate.", choices=("YES", "NO")),
        ParamSpec("target_shares", ParamType.SHARES, 100, "Shares of that outcome to hold in the end (what it "
                  "already holds counts).", label="Target", minimum=1, maximum=10_000_000),
        ParamSpec("size", ParamType.SHARES, 10, "Shares in each slice (less when the touch is thinner or the "
                  "target nearer).", label="Slice size", minimum=1, maximum=1_000_000),
        ParamSpec("interval_s", ParamType.SECONDS, 300, "Time between two slices.", label="Interval", minimum=1,
                  maximum=7 * 86_400),
        ParamSpec("price_cap", ParamType.PROBABILITY, 0.6, "Most paid per share of the outcome: no slice while the "
                  "best price is above it.", minimum=0.001, maximum=0.999, step=0.01),
        ParamSpec("how", ParamType.CHOICE, "take", "take: a fill-and-kill at the touch every interval; iceberg: a "
                  "resting bid at the price cap showing one slice at a time, refilled as each fills (the interval "
                  "unused; the risk gate measures the whole rest with each slice).", label="How",
                  choices=("take", "iceberg")),
    ),
    check=check,
)
