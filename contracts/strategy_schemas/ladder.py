"""The ladder kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema. Its decisions are engine/strategies/ladder.py's."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

CENTERS = ("mid", "fixed", "signal", "reference")

LADDER = StrategyKind(
    kind="ladder",
    title="Ladder (grid) of quotes",
    description=(
        "Rests N post-only bids below and N asks above a centre (the mid, a fixed price, the fair value or the "
        "reference price), one every `spacing`, and leaves them in place (a grid: a fill on one side is sold or "
        "bought back a level or more away) until the centre moves by `recenter_move`; capped in inventory."
    ),
    params_schema=(
        ParamSpec("center", ParamType.CHOICE, "mid", "What the ladder is centred on: the YES mid, the fixed price "
                  "below, the fair value (Markets page or an outside signal) or the reference price. Without it "
                  "the market is not quoted.", choices=CENTERS),
        ParamSpec("center_price", ParamType.PROBABILITY, 0.5, "The centre when `center` is fixed.",
                  label="Fixed centre", minimum=0.01, maximum=0.99, step=0.01),
        ParamSpec("recenter_move", ParamType.PROBABILITY, 0.02, "The ladder stays where it was placed until its "
                  "centre has moved this far (0: it follows every move, like a market maker).", minimum=0,
                  maximum=0.5, step=0.005),
        ParamSpec("levels", ParamType.INT, 3, "Orders on each side.", minimum=1, maximum=20, unit="levels"),
        ParamSpec("spacing", ParamType.PROBABILITY, 0.01, "Distance between levels; the first sits this far from "
                  "the centre (rounded outward to the tick, each level at least a tick beyond the one before).",
                  minimum=0.001, maximum=0.2, step=0.001),
        ParamSpec("size", ParamType.SHARES, 10, "Shares at the first level of each side.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("size_multiplier", ParamType.DECIMAL, 1.0, "Size of each further level relative to the one "
                  "before (1: equal sizes; 1.5: growing outward).", minimum=0.1, maximum=10, unit="×", step=0.1),
        ParamSpec("max_inventory", ParamType.SHARES, 100, "Levels that would take |net YES| beyond this are not "
                  "placed (nearest first).", minimum=0, maximum=10_000_000),
        ParamSpec("sides", ParamType.CHOICE, "both", "Quote both sides, or only the bids (buy) or the asks (sell).",
                  choices=("both", "buy", "sell")),
    ),
)
