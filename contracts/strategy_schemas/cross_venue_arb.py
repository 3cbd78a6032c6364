"""The cross_venue_arb kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema. Its decisions are engine/strategies/cross_venue_arb.py's; its legs are placed and
kept even by engine/trading/passes/cross_arbs.py."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

CROSS_VENUE_ARB = StrategyKind(
    kind="cross_venue_arb",
    title="Cross-venue arbitrage",
    description=(
        "For each market you paired with Kalshi by hand, buys one side here and the side that pays when it "
        "loses on Kalshi when both asks plus both venues' taker fees cost less than 1 minus a margin, as deep "
        "as both books and each venue's capital allow; a leg that fills short is unwound."
    ),
    params_schema=(
        ParamSpec("margin", ParamType.PROBABILITY, 0.02, "Least profit kept per pair of shares after both "
                  "venues' fees (the pair's resolutions may still differ: keep it above zero).",
                  minimum=0, maximum=0.5, step=0.001),
        ParamSpec("max_size", ParamType.SHARES, 20, "Most pairs bought at once (whole Kalshi contracts).",
                  minimum=1, maximum=100_000),
        ParamSpec("max_capital", ParamType.PUSD, 100, "Most one leg may spend at once, on each venue.",
                  minimum=1, maximum=1_000_000, unit="USD per leg", step=1),
    ),
)
