"""The market_making kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/market_making.py's."""

from __future__ import annotations

from contracts.params import Errors, Params, ParamSpec, ParamType, StrategyKind

FAIR_SOURCES = ("mid", "microprice", "reference")


TOXICITY_HORIZONS = ("1s", "10s", "60s")  # the desk's markout horizons (engine/analytics/markouts.py)


def check(params: Params) -> Errors:
    """Several levels must sit further apart than the refresh threshold; toxicity must start
    to count below where it stops the quotes."""
    errors: Errors = {}
    if params["levels"] > 1 and params["level_spacing"] <= params["refresh_threshold"]:
        errors["level_spacing"] = ("must exceed the refresh threshold when quoting several levels "
                                   "(otherwise one level's order could be kept for another's)")
    if params["toxicity_halt"] <= params["toxicity_min"]:
        errors["toxicity_halt"] = "must exceed the toxicity at which widening starts (toxicity_min)"
    return errors


MARKET_MAKING = StrategyKind(
    kind="market_making",
    title="Market making",
    description=(
        "Rests a post-only bid and ask around a fair value (mid, microprice or an external "
        "reference), skewed against inventory, capped in inventory, and kept in place while "
        "close enough to the target to hold queue position."
    ),
    params_schema=(
        ParamSpec("fair_value", ParamType.CHOICE, "mid", "Where the fair price comes from. "
                  "'reference' needs an external feed; without it the market is not quoted.",
                  choices=FAIR_SOURCES),
        ParamSpec("half_spread", ParamType.PROBABILITY, 0.02, "Distance of each quote from the "
                  "(skewed) fair value, before rounding outward to the tick.",
                  minimum=0, maximum=0.5, step=0.001),
        ParamSpec("size", ParamType.SHARES, 10, "Shares on each side.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("skew_per_share", ParamType.PROBABILITY, 0.0002, "Price shift of both quotes "
                  "per share of net YES held (against the position).", minimum=0,
                  maximum=0.01, unit="probability per share", step=0.0001),
        ParamSpec("refresh_threshold", ParamType.PROBABILITY, 0.005, "Keep a working quote "
                  "(and its queue position) while it is this close to the new target.",
                  minimum=0, maximum=0.1, step=0.001),
        ParamSpec("max_inventory", ParamType.SHARES, 100, "Stop quoting the side that would take "
                  "|net YES| beyond this.", minimum=0, maximum=10_000_000),
        ParamSpec("max_spread", ParamType.PROBABILITY, 0.1, "Stay out of markets whose spread is "
                  "wider than this.", minimum=0, maximum=1, step=0.01),
        ParamSpec("levels", ParamType.INT, 1, "Orders on each side: 1 quotes the touch of the band only; "
                  "N quotes N levels, each further from fair value.", minimum=1, maximum=10, unit="levels"),
        ParamSpec("level_spacing", ParamType.PROBABILITY, 0.01, "Extra distance of each further level from "
                  "the one before (rounded outward, at least a tick). Must exceed the refresh threshold.",
                  minimum=0, maximum=0.2, step=0.001),
        ParamSpec("level_size_multiplier", ParamType.DECIMAL, 1.0, "Size of each further level relative "
                  "to the one before (1: equal sizes; 2: doubling outward).", minimum=0.1, maximum=10,
                  unit="×", step=0.1),
        ParamSpec("regime_control", ParamType.BOOL, False, "Choose the parameters below by the reference "
                  "feed's regime: calm, fast (volatile) or stale. Needs the reference price feed (Settings)."),
        ParamSpec("regime_window_s", ParamType.SECONDS, 60, "Window over which the reference's realised "
                  "volatility is measured.", minimum=5, maximum=3600),
        ParamSpec("fast_volatility", ParamType.PROBABILITY, 0.02, "Realised volatility of the reference "
                  "over the window at or above which the regime is fast.", minimum=0.0001, maximum=1,
                  step=0.001),
        ParamSpec("stale_after_s", ParamType.SECONDS, 10, "A reference price older than this makes the "
                  "regime stale.", minimum=1, maximum=3600),
        ParamSpec("fast_half_spread", ParamType.PROBABILITY, 0.04, "Half-spread while the reference "
                  "moves fast.", minimum=0, maximum=0.5, step=0.001),
        ParamSpec("fast_size", ParamType.SHARES, 5, "Size of the first level while the reference moves "
                  "fast (0: quote nothing).", minimum=0, maximum=1_000_000),
        ParamSpec("stale_half_spread", ParamType.PROBABILITY, 0.05, "Half-spread while the reference is "
                  "stale.", minimum=0, maximum=0.5, step=0.001),
        ParamSpec("stale_size", ParamType.SHARES, 0, "Size of the first level while the reference is "
                  "stale (0: quote nothing).", minimum=0, maximum=1_000_000),
        ParamSpec("reward_qualify", ParamType.BOOL, False, "In markets with a liquidity-reward program, quote "
                  "inside its max spread (half-spread capped a tick inside it) and at least its min size, so "
                  "the quotes score for the daily pool."),
        ParamSpec("min_reward_per_risk", ParamType.DECIMAL, 0.0, "Stay out of markets whose reward program pays "
                  "less than this a day per pUSD a min-size two-sided quote ties up (0: quote every market, "
                  "with or without a program).", minimum=0, maximum=10, unit="pUSD/day per pUSD", step=0.001),
        ParamSpec("reward_top_markets", ParamType.INT, 0, "Quote only this many of the strategy's markets: "
                  "those paying the most reward per unit of risk (0: all of them).", minimum=0, maximum=1000,
                  unit="markets"),
        ParamSpec("toxicity_control", ParamType.BOOL, False, "Read the strategy's own recent markouts in each "
                  "market: the more its fills were picked off (the mid moving against them), the wider its "
                  "half-spread and the smaller its size, back to normal as that fades."),
        ParamSpec("toxicity_horizon", ParamType.CHOICE, "10s", "Markout horizon the toxicity is read at: how "
                  "long after a fill the mid is compared with its price.", choices=TOXICITY_HORIZONS),
        ParamSpec("toxicity_half_life_s", ParamType.SECONDS, 300, "A markout's weight halves every this many "
                  "seconds: how fast the quotes come back once fills stop being toxic.", minimum=10,
                  maximum=86_400),
        ParamSpec("toxicity_min", ParamType.PROBABILITY, 0.002, "Toxicity (mean adverse move per share) below "
                  "which nothing changes: the noise floor.", minimum=0, maximum=0.5, step=0.001),
        ParamSpec("toxicity_widen", ParamType.DECIMAL, 1.0, "Extra half-spread per unit of toxicity (1: a "
                  "0.01 mean adverse move widens each side by 0.01).", minimum=0, maximum=20, unit="×",
                  step=0.1),
        ParamSpec("toxicity_halt", ParamType.PROBABILITY, 0.03, "Toxicity at which the size reaches zero (it "
                  "shrinks linearly toward it): the market is not quoted until it fades.", minimum=0.001,
                  maximum=0.5, step=0.001),
        ParamSpec("pull_move", ParamType.PROBABILITY, 0.0, "Pull the quotes when the best bid falls, the best "
                  "ask rises, the mid or the reference moves by at least this within the pull window (0: "
                  "never). Keep it above the distance of the desk's own quotes from the touch.", minimum=0,
                  maximum=0.5, step=0.005),
        ParamSpec("pull_window_s", ParamType.SECONDS, 5, "Window a sweep or jump is measured over.", minimum=1,
                  maximum=300),
        ParamSpec("pull_cooldown_s", ParamType.SECONDS, 30, "How long the quotes stay pulled after the last "
                  "sweep or jump.", minimum=1, maximum=3600),
        ParamSpec("stop_before_end_s", ParamType.SECONDS, 0, "Quote nothing this long before the market's end "
                  "(the close of a short up/down window: its last seconds belong to whoever sees the price "
                  "first); 0: quote to the end.", minimum=0, maximum=86_400),
        ParamSpec("reduce_only_before_end_s", ParamType.SECONDS, 0, "Within this long of the market's end date, "
                  "quote only the side that reduces the position (nothing when flat; 0: never).", minimum=0,
                  maximum=30 * 86_400),
    ),
    check=check,
)
