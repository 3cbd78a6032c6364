"""The breakout kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema. Its decisions are engine/strategies/breakout.py's."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

BREAKOUT = StrategyKind(
    kind="breakout",
    title="Breakout",
    description=(
        "Buys `size` YES when the mid breaks above its high over the last `window_s` by `margin`, or sells (buys "
        "NO) when it breaks below the low, with fill-and-kill orders at the touch; it holds until the "
        "strategy's exits (stop-loss, take-profit) or the opposite breakout."
    ),
    params_schema=(
        ParamSpec("window_s", ParamType.SECONDS, 1800, "The window whose high and low a breakout passes (it trades "
                  "only after watching a market this long).", label="Window", minimum=60, maximum=86_400),
        ParamSpec("margin", ParamType.PROBABILITY, 0.01, "How far beyond the high (or low) the mid must go.",
                  minimum=0, maximum=0.5, step=0.005),
        ParamSpec("size", ParamType.SHARES, 20, "Shares held after a breakout.", minimum=1, maximum=1_000_000),
        ParamSpec("direction", ParamType.CHOICE, "both", "Trade breakouts up (buy), down (sell) or both.",
                  choices=("both", "up", "down")),
        ParamSpec("max_spread", ParamType.PROBABILITY, 0.05, "A mid whose book is wider than this is neither "
                  "watched nor traded (a wide book's mid jumps without a trade).", minimum=0, maximum=1,
                  step=0.01),
    ),
)
