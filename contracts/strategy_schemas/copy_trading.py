"""The copy_trading kind as the dashboard, the CLI and the engine all check it: title, description,
parameter schema. Its decisions are engine/strategies/copy_trading.py's."""

from __future__ import annotations

from contracts.params import ParamSpec, ParamType, StrategyKind

COPY_TRADING = StrategyKind(
    kind="copy_trading",
    title="Copy trading",
    description=(
        "Copies the public trades of the wallets the desk follows (Strategies page, Followed wallets) in "
        "this strategy's markets: a delay after each, scaled and capped, as a fill-and-kill within a "
        "slippage of their price, through the risk gate like every order."
    ),
    params_schema=(
        ParamSpec("scale", ParamType.DECIMAL, 0.1, "Shares per share they traded (0.1: a tenth of their size).",
                  minimum=0.01, maximum=10, unit="×", step=0.01),
        ParamSpec("delay_s", ParamType.SECONDS, 5, "Wait this long after their trade before copying it.",
                  label="Delay", minimum=0, maximum=3600),
        ParamSpec("max_shares", ParamType.SHARES, 50, "Most shares in one copied trade.", minimum=1,
                  maximum=1_000_000),
        ParamSpec("slippage", ParamType.PROBABILITY, 0.02, "Pay at most this much worse than their price; "
                  "a book that moved further is not chased.", minimum=0, maximum=0.2, step=0.005),
        ParamSpec("max_age_s", ParamType.SECONDS, 120, "A trade older than this (seen late, or after a "
                  "restart) is not copied.", label="Max age", minimum=10, maximum=3600),
        ParamSpec("sells", ParamType.CHOICE, "close", "'close': copy their sells only as sales of what this "
                  "strategy holds; 'mirror': sell as they do, going short (buying the other outcome) when "
                  "nothing is held.", choices=("close", "mirror")),
    ),
)
