"""Limit values and their usage now, as one table (pure: no streamlit).

The catalogue (contracts/limits.py) gives titles, units and defaults; stored values override
the defaults as the engine loads them at a start (an invalid stored value shows as the default,
which the engine does not trade on: with no valid value to keep, it halts until the value is fixed).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from contracts.limits import BY_NAME, LIMITS, LimitError, parse_value
from storage.dashboard_queries.portfolio_queries import RiskUsage


def limit_values(rows: pd.DataFrame) -> dict[str, Decimal]:
    stored = dict(zip(rows["name"], rows["value"], strict=True)) if not rows.empty else {}
    values = {}
    for spec in LIMITS:
        try:
            values[spec.name] = (
                spec.default if spec.name not in stored else parse_value(spec, stored[spec.name])
            )
        except LimitError:
            values[spec.name] = spec.default
    return values


def _fmt(value: float, unit: str) -> str:
    return f"{value:,.2f} {unit}" if unit in ("pUSD", "%") else f"{value:,.0f} {unit}"


def usage_rows(usage: RiskUsage) -> list[tuple[str, float, str]]:
    """(limit name, amount used now, what it is) for every limit that has a 'now'."""
    loss = max(0.0, -usage.daily_pnl) if usage.daily_pnl is not None else 0.0
    drawdown = usage.drawdown_pct or 0.0
    top = lambda frame, column: frame.iloc[0][column] if not frame.empty else "—"  # noqa: E731
    return [
        ("max_total_exposure", usage.total_exposure, "all positions and open buys"),
        (
            "max_market_exposure",
            RiskUsage.top(usage.by_market),
            f"largest market: {top(usage.by_market, 'question')}",
        ),
        (
            "max_strategy_exposure",
            RiskUsage.top(usage.by_strategy),
            f"largest strategy: {top(usage.by_strategy, 'strategy')}",
        ),
        (
            "max_event_exposure",
            RiskUsage.top(usage.by_event),
            f"largest event: {top(usage.by_event, 'question')}",
        ),
        ("max_open_orders", float(usage.open_orders), "working orders"),
        ("max_order_rate", float(usage.orders_last_minute), "orders created in the last minute"),
        (
            "max_daily_loss",
            loss,
            "loss since 00:00 UTC" if usage.daily_pnl is not None else "no snapshots yet",
        ),
        ("max_drawdown", drawdown, "equity below its peak"),
        ("kill_switch_drawdown", drawdown, "equity below its peak (kill switch)"),
    ]


# A breaker that holds its state once hit, whatever its figure does next: the limit it is, and what ends it.
LATCHED = {"DAILY_LOSS": ("max_daily_loss", "REDUCING until 00:00 UTC"),
           "KILL_SWITCH_DRAWDOWN": ("kill_switch_drawdown", "HALTED until re-armed")}


def usage_table(usage: RiskUsage, values: dict[str, Decimal], reason: str | None = None) -> pd.DataFrame:
    """Columns: name, title, unit, used, limit, pct (of the limit), label, detail. `reason`: why the ledger's
    trading state is not ACTIVE now; a latched breaker's row says so (its bar full) while its figure has
    come back under the limit (a day's loss recovered: still REDUCING until 00:00 UTC)."""
    latched = LATCHED.get(reason or "")
    records = []
    for name, used, detail in usage_rows(usage):
        spec = BY_NAME[name]
        unit = "%" if spec.unit == "percent" else spec.unit
        limit = float(values[name])
        label = f"{_fmt(used, unit)} / {_fmt(limit, unit)}"
        if limit > 0:
            pct: float | None = used / limit * 100
        elif spec.action == "state":  # the breakers treat 0 as "off"
            pct, label = None, f"{_fmt(used, unit)} / off"
        else:  # an exposure or count limit of 0 allows nothing new
            pct = 0.0 if used == 0 else 100.0
        if latched is not None and latched[0] == name:
            pct, label = max(pct or 0.0, 100.0), f"{label} · latched: {latched[1]}"
            detail = f"{detail}; hit, and latched: {latched[1]}"
        records.append(
            {
                "name": name,
                "title": spec.title,
                "unit": unit,
                "used": used,
                "limit": limit,
                "pct": pct,
                "label": label,
                "detail": detail,
            }
        )
    return pd.DataFrame.from_records(records)
