"""Limits of one strategy, next to the global ones: its capital, its own loss limits, and the
exits it takes on its positions. Stored per strategy in `strategy_limits` (versioned, edited
on the Strategies page, audited); a missing row means the default below, mostly "off".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from contracts.limits import LimitError, Limits, LimitSpec, parse_value


def _d(value: str) -> Decimal:
    return Decimal(value)


STRATEGY_LIMITS: tuple[LimitSpec, ...] = (
    LimitSpec("allocation", "Allocation", "pUSD", _d("0"), _d("0"), _d("100000000"), "resize",
              "Capital this strategy may use: its sizing reads this (plus its own PnL) instead of the whole "
              "wallet, and its exposure is capped at it. 0: no allocation (the wallet, and the global "
              "per-strategy exposure limit)."),
    LimitSpec("max_daily_loss", "Max daily loss", "pUSD", _d("0"), _d("0"), _d("10000000"), "state",
              "This strategy's loss since 00:00 UTC (realized + unrealized, fees included). Hit: this strategy "
              "REDUCING (only risk-reducing orders) with an alert, until 00:00 UTC or the limit is raised. 0: off."),
    LimitSpec("max_drawdown", "Max drawdown", "percent", _d("0"), _d("0"), _d("100"), "state",
              "Fall of this strategy's equity (allocation + its PnL) from its peak. Hit: this strategy HALTED "
              "(its orders cancelled) with an alert, until equity is back within the limit or the limit is "
              "raised. Needs an allocation. 0: off."),
    LimitSpec("stop_loss_move", "Stop loss (price)", "probability", _d("0"), _d("0"), _d("1"), "exit",
              "Sell a position when its mark falls this far below its average entry price (e.g. 0.10). 0: off."),
    LimitSpec("stop_loss_pnl", "Stop loss (PnL)", "pUSD", _d("0"), _d("0"), _d("10000000"), "exit",
              "Sell a position when its unrealized loss reaches this. 0: off."),
    LimitSpec("take_profit_move", "Take profit (price)", "probability", _d("0"), _d("0"), _d("1"), "exit",
              "Sell a position when its mark rises this far above its average entry price. 0: off."),
    LimitSpec("take_profit_pnl", "Take profit (PnL)", "pUSD", _d("0"), _d("0"), _d("10000000"), "exit",
              "Sell a position when its unrealized gain reaches this. 0: off."),
    LimitSpec("trailing_stop", "Trailing stop", "probability", _d("0"), _d("0"), _d("1"), "exit",
              "Sell a position once its best bid falls this far below the highest best bid seen since it was "
              "bought (e.g. 0.05): the stop follows the bid up, never down, and fires on fresh two-sided books "
              "only. 0: off."),
    LimitSpec("exit_cooldown", "Exit cooldown", "seconds", _d("600"), _d("0"), _d("86400"), "deny",
              "After a stop loss or take profit, the strategy places no new risk in that market for this long "
              "(so it does not buy straight back)."),
    LimitSpec("max_order_age", "Max order age", "seconds", _d("0"), _d("0"), _d("604800"), "deny",
              "Resting orders of this strategy older than this are cancelled (the strategy quotes afresh). "
              "0: off."),
    LimitSpec("priority", "Priority", "count", _d("0"), _d("0"), _d("1000"), "deny",
              "When two strategies want opposite sides of one market at prices that would trade with each "
              "other, the higher priority's quote goes and the other's waits (SELF_TRADE); equal priorities: the "
              "strategy whose name sorts first. No quote ever crosses an order the desk already rests."),
)
BY_NAME: Mapping[str, LimitSpec] = {spec.name: spec for spec in STRATEGY_LIMITS}
DEFAULTS = Limits({spec.name: spec.default for spec in STRATEGY_LIMITS})


def checked(rows: Iterable[tuple[str, str, str]]) -> tuple[dict[str, Limits], list[str], dict[str, str]]:
    """From the stored (strategy, name, value) rows: every strategy's limits (defaults filled
    in), what does not validate, and the strategies with a value that does not validate (name ->
    why). Such a strategy must not trade: its limit would fall back to a default that is off for
    all but the cooldown, widening what the operator set (the trading core disables it). An
    unknown limit name is reported and ignored."""
    values: dict[str, dict[str, Decimal]] = {}
    problems: list[str] = []
    invalid: dict[str, str] = {}
    for strategy, name, raw in rows:
        spec = BY_NAME.get(name)
        if spec is None:
            problems.append(f"strategy {strategy}: unknown limit {name!r} ignored")
            continue
        try:
            values.setdefault(strategy, {})[name] = parse_value(spec, raw)
        except LimitError as exc:
            why = f"limit {name}: stored {str(raw)[:40]!r} is invalid ({exc})"
            problems.append(f"strategy {strategy}: {why}; the strategy is disabled until it is fixed "
                            "(Strategies page)")
            invalid[strategy] = why if strategy not in invalid else f"{invalid[strategy]}; {why}"
    return {s: Limits({**DEFAULTS.values, **v}) for s, v in values.items()}, problems, invalid


def of(limits: Mapping[str, Limits], strategy: str) -> Limits:
    return limits.get(strategy, DEFAULTS)
