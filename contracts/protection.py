"""What switches protection off: a limit value that turns a breaker off, that a breaker can never
reach, or that is at least everything the account holds, so it can never bind.

One judgement for every front end (the Risk page, a strategy's limits, the assistant's MCP tool) and
for the one writer of limits, storage/desk/config.py, which refuses a change that switches protection
off unless the operator confirms it, and audits that confirmation. Pure: the caller passes the
account's equity as the desk knows it (storage/desk/limit_guard.py reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Scope = Literal["desk", "strategy"]  # contracts/limits.py's limits, or contracts/strategy_limits.py's


@dataclass(frozen=True)
class Rule:
    """How one limit stops protecting. `off`: what 0 means, said when it is set (None: 0 is not off).
    `never_at`: a value from which its breaker can never act, and `never`: why. `whole_account`:
    what a money limit at or above the account's equity fails to do."""

    off: str | None = None
    never_at: Decimal | None = None
    never: str = ""
    whole_account: str | None = None


_PEAK = "a fall of 100 % from the peak is the whole account"
_CAP = "it can never bind"

DESK: Mapping[str, Rule] = {
    "max_daily_loss": Rule(off="0 turns the daily-loss breaker off",
                           whole_account="the account cannot lose that much in a day, so the daily-loss breaker "
                                         "would never trip"),
    "max_drawdown": Rule(off="0 turns the drawdown breaker off", never_at=Decimal(100),
                         never=f"{_PEAK}: the drawdown breaker would never trip"),
    "kill_switch_drawdown": Rule(off="0 turns the kill switch off", never_at=Decimal(100),
                                 never=f"{_PEAK}: the kill switch would never trip"),
    "error_rate_breaker": Rule(off="0 turns the error-rate breaker off"),
    "volatility_reduce": Rule(off="0 turns the volatility breaker off"),
    "volatility_halt": Rule(off="0: a volatility spike never halts trading"),
    "correlation_spike": Rule(off="0 turns the correlation-spike breaker off"),
    "correlation_threshold": Rule(off="0 makes no correlated groups, so the per-group exposure cap is off"),
    **{name: Rule(whole_account=_CAP) for name in ("max_total_exposure", "max_market_exposure",
                                                   "max_strategy_exposure", "max_event_exposure",
                                                   "max_correlated_exposure")},
}
STRATEGY: Mapping[str, Rule] = {
    "allocation": Rule(off="0 means no allocation: it sizes from, and may use, the whole wallet",
                       whole_account="the allocation caps nothing"),
    "max_daily_loss": Rule(off="0 turns its daily-loss breaker off",
                           whole_account="it cannot lose that much in a day, so its daily-loss breaker would never "
                                         "trip"),
    "max_drawdown": Rule(off="0 turns its drawdown breaker off", never_at=Decimal(100),
                         never=f"{_PEAK}: its drawdown breaker would never trip"),
    "stop_loss_move": Rule(off="0 turns its stop loss (price) off", never_at=Decimal(1),
                           never="a mark can never fall a whole 1 below its entry: the stop loss would never fire"),
    "stop_loss_pnl": Rule(off="0 turns its stop loss (PnL) off",
                          whole_account="a position cannot lose that much: the stop loss would never fire"),
    "trailing_stop": Rule(off="0 turns its trailing stop off", never_at=Decimal(1),
                          never="a bid can never fall a whole 1 below its highest: the trailing stop would never "
                                "fire"),
}
RULES: Mapping[Scope, Mapping[str, Rule]] = {"desk": DESK, "strategy": STRATEGY}


def money(value: Decimal) -> str:
    """pUSD as a person reads it: 9,000,000 or 10,000.50."""
    shown = f"{value:,.2f}"
    return shown[:-3] if shown.endswith(".00") else shown


def unprotective(scope: Scope, name: str, value: Decimal, equity: Decimal | None) -> str | None:
    """Why `value` of limit `name` protects nothing, in the operator's words; None when it protects.
    `equity`: the account's equity in pUSD (None: not known, so only values that are off by
    themselves are judged)."""
    rule = RULES[scope].get(name)
    if rule is None:
        return None
    if value == 0:
        return rule.off
    if rule.never_at is not None and value >= rule.never_at:
        return rule.never
    if rule.whole_account is not None and equity is not None and equity > 0 and value >= equity:
        return f"{money(value)} pUSD is at least the account's equity ({money(equity)} pUSD): {rule.whole_account}"
    return None


def loosening(scope: Scope, name: str, old: Decimal | None, new: Decimal, equity: Decimal | None) -> str | None:
    """Why changing limit `name` from `old` (the value in force: the stored one or the default; None
    when the stored one does not validate) to `new` switches protection off: `new` protects nothing
    and `old` did. None: the change needs no confirmation (it protects, or nothing did before)."""
    why = unprotective(scope, name, new, equity)
    if why is None or (old is not None and unprotective(scope, name, old, equity) is not None):
        return None
    return why
