"""The value_betting kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema and cross-field checks. Its decisions are engine/strategies/value_betting.py's."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

# The least confidence a fair value needs before it is acted on: the T-Bot seed's floor. Strategies stored
# before the param existed keep what they did (storage/sqlite/migrations/m0096_value_betting_floor.py gives
# them 0: no floor).
DEFAULT_MIN_CONFIDENCE = 0.6


def min_confidence() -> ParamSpec:
    """The floor value betting and the ensemble share."""
    return ParamSpec("min_confidence", ParamType.PROBABILITY, DEFAULT_MIN_CONFIDENCE, "Act on a fair value only when "
                     "its source's confidence is at least this (the operator's counts as certain; a source that "
                     "states none is below any floor above 0; 0: act on every fair value). The reference price "
                     "states none and is not floored.", label="Minimum confidence", minimum=0, maximum=1,
                     step=0.05)

VALUE_BETTING = StrategyKind(
    kind="value_betting",
    title="Value betting",
    description=(
        "Buys YES below, or NO above, a fair probability (the operator's or an external signal's, "
        "or the market's reference price: a paired market's mid on Kalshi) by at least an "
        "edge, sized by fractional Kelly on the strategy's cash and capped per position and "
        "per order; takes at the touch or rests limit orders."
    ),
    params_schema=(
        ParamSpec("edge", ParamType.PROBABILITY, 0.03, "Required distance between the fair value "
                  "and the price paid (after taker fees).", minimum=0, maximum=0.5, step=0.005),
        ParamSpec("kelly_fraction", ParamType.DECIMAL, 0.25, "Share of the full Kelly stake to "
                  "bet (0.25 = quarter Kelly).", minimum=0, maximum=1, unit="× Kelly", step=0.05),
        ParamSpec("max_position", ParamType.PUSD, 100, "Most pUSD in one market's position.",
                  minimum=0, maximum=10_000_000),
        ParamSpec("max_order", ParamType.SHARES, 50, "Most shares in one order.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("order_style", ParamType.CHOICE, "take", "'take': FAK at the best price when "
                  "the edge is there; 'limit': rest GTC orders at fair ± edge.",
                  choices=("take", "limit")),
        ParamSpec("fair_source", ParamType.CHOICE, "signal", "'signal': the fair value set on the "
                  "Markets page or by an external signal; 'reference': the market's reference price "
                  "(the mid of the Kalshi market paired with it by hand, or the reference feed); "
                  "without one the market is not traded.", choices=("signal", "reference")),
        min_confidence(),
    ),
)
