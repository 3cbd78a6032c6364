"""Risk limits: one catalogue with units, bounds, defaults and what each does when hit.

Values live in the `risk_limits` table (versioned, edited from the dashboard, audited);
missing rows get these defaults when the engine starts. Stored values are decimal strings
in the human unit shown here; the gate converts them to micro-units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from contracts.domain import MICRO, BadNumber, NotFinite, OutOfRange, read_decimal, shown_number

Unit = Literal["pUSD", "shares", "count", "percent", "probability", "seconds", "per minute", "flag", "ratio",
               "correlation"]
Action = Literal["resize", "deny", "state", "exit"]


@dataclass(frozen=True)
class LimitSpec:
    name: str
    title: str
    unit: Unit
    default: Decimal
    minimum: Decimal
    maximum: Decimal
    action: Action  # resize: trims an order to fit; deny: refuses it; state: moves the trading state
    help: str


def _d(value: str) -> Decimal:
    return Decimal(value)


LIMITS: tuple[LimitSpec, ...] = (
    LimitSpec("max_total_exposure", "Max total exposure", "pUSD", _d("1000"), _d("0"), _d("10000000"), "resize",
              "Cost of everything held plus open buy orders, across all strategies. New risk is trimmed to fit."),
    LimitSpec("max_market_exposure", "Max exposure per market", "pUSD", _d("200"), _d("0"), _d("10000000"), "resize",
              "The same, for one market (YES and NO together)."),
    LimitSpec("max_strategy_exposure", "Max exposure per strategy", "pUSD", _d("500"), _d("0"), _d("10000000"),
              "resize", "The same, for one strategy across its markets."),
    LimitSpec("max_event_exposure", "Max exposure per event", "pUSD", _d("300"), _d("0"), _d("10000000"), "resize",
              "The same, for all outcomes of one event (markets sharing a neg-risk group): they move together."),
    LimitSpec("max_open_orders", "Max open orders", "count", _d("60"), _d("0"), _d("10000"), "deny",
              "Working orders at once, all strategies. A quote beyond this is refused."),
    LimitSpec("max_order_size", "Max order size", "shares", _d("200"), _d("0"), _d("1000000"), "resize",
              "Shares in one order; larger quotes are trimmed."),
    LimitSpec("min_order_value", "Min order value", "pUSD", _d("1"), _d("0"), _d("100000"), "deny",
              "Orders worth less than this are refused (dust)."),
    LimitSpec("max_daily_loss", "Max daily loss", "pUSD", _d("100"), _d("0"), _d("10000000"), "state",
              "Loss since 00:00 UTC (realized + unrealized). Hit: REDUCING (only risk-reducing orders) and an "
              "alert; resets at the next 00:00 UTC."),
    LimitSpec("max_drawdown", "Max drawdown from peak", "percent", _d("10"), _d("0"), _d("100"), "state",
              "Fall of equity from its peak. Hit: REDUCING and an alert."),
    LimitSpec("kill_switch_drawdown", "Kill-switch drawdown", "percent", _d("20"), _d("0"), _d("100"), "state",
              "Fall of equity from its peak that trips the kill switch: cancel all, block, latch (re-arm to clear)."),
    LimitSpec("kill_flatten", "Flatten on kill switch", "flag", _d("0"), _d("0"), _d("1"), "state",
              "1: the kill switch also sells positions at the best acceptable price. 0: positions are kept."),
    LimitSpec("max_slippage", "Max slippage from mid", "probability", _d("0.05"), _d("0"), _d("1"), "deny",
              "A marketable order priced further than this from the mid is refused."),
    LimitSpec("max_order_rate", "Order-rate limit", "per minute", _d("120"), _d("0"), _d("100000"), "deny",
              "New orders per rolling minute, all strategies; further quotes are refused until it drops."),
    LimitSpec("max_data_age", "Stale data", "seconds", _d("10"), _d("0"), _d("3600"), "deny",
              "No new orders in a market whose book is older than this."),
    LimitSpec("error_rate_breaker", "Error-rate breaker", "count", _d("10"), _d("0"), _d("10000"), "state",
              "Venue errors and rejections in 5 minutes that halt trading (HALTED, alert)."),
    # The volatility-spike breaker (engine/risk/volatility.py), per market and desk-wide.
    LimitSpec("volatility_window", "Volatility window", "seconds", _d("60"), _d("1"), _d("3600"), "state",
              "Realised volatility of each market's mid is measured over this window."),
    LimitSpec("volatility_baseline", "Volatility baseline", "seconds", _d("1800"), _d("2"), _d("86400"), "state",
              "…against its own volatility over this longer history before the window (at least twice the "
              "window; a market is judged once watched for a third of it, and two windows)."),
    LimitSpec("volatility_reduce", "Volatility: reduce at", "ratio", _d("3"), _d("0"), _d("1000"), "state",
              "Window volatility this many times its baseline: no new risk in that market (REDUCING), and the "
              "whole desk REDUCING when the desk's pooled volatility gets there. 0: the breaker is off."),
    LimitSpec("volatility_halt", "Volatility: halt at", "ratio", _d("6"), _d("0"), _d("1000"), "state",
              "This many times its baseline: no new orders in that market (HALTED), or on the desk. 0: never halts."),
    LimitSpec("volatility_clear", "Volatility: clear at", "ratio", _d("1.5"), _d("0"), _d("1000"), "state",
              "A REDUCING state ends by itself once the ratio is back at or below this (a HALTED one steps down "
              "to REDUCING below the reduce ratio): below the reduce ratio, so it does not flap."),
    LimitSpec("volatility_floor", "Volatility baseline floor", "probability", _d("0.03"), _d("0"), _d("1"), "state",
              "The baseline is never taken below this move per window, so a market still for an hour does not "
              "trip on its first news: a 3-cent move a minute is a quiet prediction market's news, not a spike."),
    # Measured correlation of mids (engine/risk/correlation.py): correlated groups and the spike breaker.
    LimitSpec("max_correlated_exposure", "Max exposure per correlated group", "pUSD", _d("400"), _d("0"),
              _d("10000000"), "resize", "The same, for markets whose mids move together (measured correlation at "
              "or above the threshold, joined transitively); a market in no group is its own."),
    LimitSpec("correlation_threshold", "Correlated at", "correlation", _d("0.8"), _d("0"), _d("1"), "resize",
              "Two markets whose bucket returns correlate at least this much (or as much negatively) are one "
              "group. 0: no groups."),
    LimitSpec("correlation_bucket", "Correlation bucket", "seconds", _d("60"), _d("1"), _d("3600"), "state",
              "Mids are compared as their changes over buckets this long."),
    LimitSpec("correlation_window", "Correlation window", "seconds", _d("3600"), _d("60"), _d("86400"), "state",
              "…over the buckets of this window (at least 20 shared buckets before a correlation counts)."),
    LimitSpec("correlation_spike", "Correlation spike at", "correlation", _d("0.9"), _d("0"), _d("1"), "state",
              "The mean absolute correlation of the watched markets (3 or more) reaching this: the whole desk "
              "REDUCING until it is 0.1 below. 0: the breaker is off."),
)
BY_NAME: Mapping[str, LimitSpec] = {spec.name: spec for spec in LIMITS}


class LimitError(ValueError):
    pass


# Each cross-limit rule: the limit its message is keyed by, and every limit it reads.
CROSS_RULES: Mapping[str, frozenset[str]] = {
    "volatility_baseline": frozenset({"volatility_window", "volatility_baseline"}),
    "volatility_halt": frozenset({"volatility_reduce", "volatility_halt"}),
    "volatility_clear": frozenset({"volatility_reduce", "volatility_clear"}),
    "correlation_window": frozenset({"correlation_bucket", "correlation_window"}),
}


def cross_problems(values: Mapping[str, Decimal]) -> dict[str, str]:
    """What no single limit's bounds can say: limits that only make sense together. Keyed by the
    limit to fix; empty when consistent (a missing value is not checked here)."""
    problems: dict[str, str] = {}
    window, baseline = values.get("volatility_window"), values.get("volatility_baseline")
    if window is not None and baseline is not None and baseline < 2 * window:
        problems["volatility_baseline"] = (f"{BY_NAME['volatility_baseline'].title}: must be at least twice the "
                                           f"volatility window ({2 * window} seconds)")
    reduce, halt, clear = (values.get(f"volatility_{k}") for k in ("reduce", "halt", "clear"))
    if reduce is not None and halt is not None and reduce > 0 and 0 < halt < reduce:
        problems["volatility_halt"] = (f"{BY_NAME['volatility_halt'].title}: must be at least the reduce ratio "
                                       f"({reduce}), or 0 (never halts)")
    if reduce is not None and clear is not None and reduce > 0 and clear >= reduce:
        problems["volatility_clear"] = (f"{BY_NAME['volatility_clear'].title}: must be below the reduce ratio "
                                        f"({reduce}), or the state would never clear")
    bucket, span = values.get("correlation_bucket"), values.get("correlation_window")
    if bucket is not None and span is not None and span < 20 * bucket:
        problems["correlation_window"] = (f"{BY_NAME['correlation_window'].title}: must hold at least 20 buckets "
                                          f"({20 * bucket} seconds): fewer never make a correlation")
    return problems


# The smallest non-zero value of each unit the engine can tell from 0 (it computes in micro-units,
# lots of 0.01 share and milliseconds): anything between 0 and this is refused, never rounded to 0.
SMALLEST: Mapping[str, Decimal] = {
    "pUSD": Decimal("0.000001"),
    "probability": Decimal("0.000001"),
    "shares": Decimal("0.01"),
    "seconds": Decimal("0.001"),
}


def parse_value(spec: LimitSpec, raw: object) -> Decimal:
    """Validate one limit value; the message names the limit, the unit and the bounds."""
    between = f"{spec.title}: must be between {spec.minimum} and {spec.maximum} {spec.unit}"
    try:
        value = read_decimal(raw if isinstance(raw, int | float | Decimal) else str(raw).strip())
    except NotFinite:
        raise LimitError(f"{spec.title}: must be a finite number") from None
    except OutOfRange as exc:
        raise LimitError(between if exc.large else f"{spec.title}: {shown_number(raw)} is below the smallest "
                         "meaningful value (0 is exactly off)") from None
    except BadNumber:
        raise LimitError(f"{spec.title}: {shown_number(raw)} is not a number") from None
    if not spec.minimum <= value <= spec.maximum:
        raise LimitError(between)
    if spec.unit in ("count", "flag", "per minute") and value != value.to_integral_value():
        raise LimitError(f"{spec.title}: must be a whole number")
    smallest = SMALLEST.get(spec.unit)
    if smallest is not None and 0 < value < smallest:
        # The engine computes in micro-units (and milliseconds): this would be 0, which for most
        # limits means "off" (a stop loss that never fires, an allocation of the whole wallet).
        raise LimitError(f"{spec.title}: {value} is below the smallest meaningful value, {smallest} {spec.unit} "
                         "(0 is exactly off)")
    return value


@dataclass(frozen=True)
class Limits:
    """Limit values in the units the gate computes with (micro-units, fractions, ms).

    The integer conversions are remembered per limit (`values` never changes): the gate asks
    for them dozens of times per tick, and each was a Decimal multiplication."""

    values: Mapping[str, Decimal]
    _micros: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _counts: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _ms: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def count(self, name: str) -> int:
        found = self._counts.get(name)
        if found is None:
            found = self._counts[name] = int(self.values[name])
        return found

    def fraction(self, name: str) -> Decimal:
        return self.values[name] / 100

    def ms(self, name: str) -> int:
        found = self._ms.get(name)
        if found is None:
            found = self._ms[name] = int(self.values[name] * 1000)
        return found

    def _micro(self, name: str) -> int:
        found = self._micros.get(name)
        if found is None:
            found = self._micros[name] = int(self.values[name] * MICRO)
        return found

    # pUSD, shares and probabilities are all micro-units: one method under each unit's name
    # (the gate asks some fifty times a decision; a forwarding call doubled each one's cost).
    usdc = shares = probability = _micro

    def flag(self, name: str) -> bool:
        return self.values[name] != 0


def defaults() -> Limits:
    return Limits({spec.name: spec.default for spec in LIMITS})


def checked(rows: Mapping[str, str],
            in_force: Mapping[str, Decimal]) -> tuple[Limits, list[str], frozenset[str]]:
    """The limits the stored `rows` (name -> value, as in `risk_limits`; storage/engine_stores/config_reads.py
    reads them) give, what is wrong with them, and which of those had no valid value to keep. A
    stored value that does not validate (written around the dashboard) never silently widens a
    limit: the limit keeps its valid value in force before (`in_force`), or, with none (a first
    start), holds its default only nominally while the caller halts trading until the stored
    value is fixed. Each problem is returned for the caller to alert on."""
    values: dict[str, Decimal] = {}
    problems: list[str] = []
    unkept: set[str] = set()
    for spec in LIMITS:
        raw = rows.get(spec.name)
        try:
            values[spec.name] = spec.default if raw is None else parse_value(spec, raw)
            continue
        except LimitError as exc:
            why = f"risk limit {spec.name}: stored {str(raw)[:40]!r} is invalid ({exc})"
        kept = in_force.get(spec.name)
        if kept is not None:
            problems.append(f"{why}; using the value in force before, {kept}, until it is fixed on the "
                            "Risk page")
            values[spec.name] = kept
        else:
            problems.append(f"{why}; no valid value is in force to keep, so trading is HALTED until it "
                            "is fixed on the Risk page")
            values[spec.name] = spec.default
            unkept.add(spec.name)
    return Limits(values), problems, frozenset(unkept)
