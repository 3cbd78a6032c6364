"""How a backtest's metrics read: a label with its unit, and the value formatted ("—" when the
engine could not compute it). Pure (no streamlit); conventions in contracts/metrics.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.metrics import ANNUALIZE_MIN_MS, interval_words

DASH = "—"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _shown(pattern: str, scale: float = 1.0) -> Callable[[Any], str]:
    """A formatter: the number (times `scale`) in `pattern`, or — when there is none."""
    def fmt(value: Any) -> str:
        number = _number(value)
        return DASH if number is None else pattern.format(number * scale)

    return fmt


_usdc = _shown("{:,.2f} pUSD")


def _percent(value: Any) -> str:
    """A signed return in %: never "−0.00 %" or "+0.00 %" when equity moved (two significant digits
    of a move under 0.005 %), "0.00 %" only when it did not move."""
    number = _number(value)
    if number is None:
        return DASH
    shown = number * 100
    if shown == 0:
        return "0.00 %"
    if abs(shown) < 0.005:
        return f"{shown:+.2g} %"
    return f"{shown:+.2f} %"



_share = _shown("{:.2f} %", 100)
_ratio = _shown("{:.2f}")


def _count(unit: str) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        number = _number(value)
        return DASH if number is None else f"{int(number):,} {unit}"

    return fmt


Parts = Callable[[Any], tuple[str, str]]  # a value as (its figure, what qualifies it: "" for nothing)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its label, its value in words (`fmt`), and for a dashboard tile, whose figure
    must fit a third of a laptop's page, the figure apart from its qualifier (`tile`) and the
    unit that moves into the label (`unit`)."""

    key: str
    label: str
    fmt: Callable[[Any], str]
    help: str
    tile: Parts | None = None
    unit: str = ""


def _joined(parts: Parts) -> Callable[[Any], str]:
    """The value in words: the figure and its qualifier on one line."""
    def fmt(value: Any) -> str:
        figure, note = parts(value)
        return f"{figure} {note}" if note else figure

    return fmt


def _range(low: Any, high: Any) -> str:
    """A 95 % interval in pUSD, "95 %: −2.10 to +9.40" ("" without one)."""
    lo, hi = _number(low), _number(high)
    return "" if lo is None or hi is None else f"95 %: {lo:+,.2f} to {hi:+,.2f}"


def _markout_parts(value: Any) -> tuple[str, str]:
    """(pUSD, bps, fills, low, high) as ("+1.23 pUSD", "(+45 bps of 12 fills; 95 %: −0.50 to +3.00)"),
    or — when no fill has that horizon (runs made before the count or the interval was kept leave
    them out)."""
    usdc, in_bps, fills, low, high = value if isinstance(value, tuple) else (None,) * 5
    number = _number(usdc)
    if number is None:
        return DASH, ""
    points = _number(in_bps)
    count = f" of {int(fills):,} fill{'s' if fills != 1 else ''}" if isinstance(fills, int) else ""
    said = [part for part in ("" if points is None else f"{points:+,.0f} bps{count}", _range(low, high)) if part]
    return f"{number:+,.2f} pUSD", (f"({'; '.join(said)})" if said else "")


def _markout_tile(value: Any) -> tuple[str, str]:
    figure, note = _markout_parts(value)
    return figure.removesuffix(" pUSD"), note.strip("()")


def p_value_words(p: Any) -> str:
    """"p = 0.31" (three decimals under 0.01; "" without one)."""
    number = _number(p)
    return "" if number is None else f"p = {number:.3f}" if number < 0.01 else f"p = {number:.2f}"


def _pnl_parts(value: Any) -> tuple[str, str]:
    """(start, end, low, high, p, words) as ("+3.70 pUSD", "(95 %: −2.10 to +9.40, p = 0.31, over 12 round
    trips (40 fills))"), or with why there is no interval ("(no interval: every fill at one price ...)"): the
    words of contracts/metrics.py `interval_words`, which every view shows; runs made before intervals were
    kept show the PnL alone."""
    start, end, low, high, p, words = value if isinstance(value, tuple) else (None,) * 6
    first, last = _number(start), _number(end)
    if first is None or last is None:
        return DASH, ""
    figure = f"{last - first:+,.2f} pUSD"
    span = _range(low, high)
    said = [part for part in (span, p_value_words(p) if span else "", words or "") if part]
    return figure, f"({', '.join(said)})" if said else ""


def _pnl_tile(value: Any) -> tuple[str, str]:
    figure, note = _pnl_parts(value)
    return figure.removesuffix(" pUSD"), note[1:-1] if note.startswith("(") else note


_markout = _joined(_markout_parts)


def _span(ms: float) -> str:
    days = ms / 86_400_000
    return f"{days:,.1f} days" if days >= 1 else f"{ms / 3_600_000:,.1f} hours"


ANNUALIZE_DAYS = ANNUALIZE_MIN_MS // 86_400_000


def _annualized_parts(value: Any) -> tuple[str, str]:
    """(return, span ms) as ("+12.3 %", "a year, from 42.0 days"), or — with the reason when it is
    not said (a run under 30 days: compounding hours to a year turns noise into absurd numbers)."""
    found, span = value if isinstance(value, tuple) else (None, None)
    number, ms = _number(found), _number(span)
    if ms is not None and ms < ANNUALIZE_DAYS * 86_400_000:
        return DASH, f"(the run spans {_span(ms)}; needs {ANNUALIZE_DAYS} days)"
    if number is None or not ms:
        return DASH, ""
    return f"{number * 100:+,.1f} %", f"a year, from {_span(ms)}"


def _held_parts(value: Any) -> tuple[str, str]:
    """(mean holding ms, round trips) as ("2.5 hours", "over 14 round trips")."""
    mean, trips = value if isinstance(value, tuple) else (None, None)
    number = _number(mean)
    if number is None:
        return DASH, ""
    held = f"{number / 60_000:,.1f} minutes" if number < 3_600_000 else _span(number)
    return held, f"over {int(trips or 0):,} round trip{'s' if trips != 1 else ''}"


def _annualized_tile(value: Any) -> tuple[str, str]:
    figure, note = _annualized_parts(value)
    return figure, note.strip("()")


_annualized, _held = _joined(_annualized_parts), _joined(_held_parts)
_money_tile = _shown("{:,.2f}")


_MONEY: dict[str, Any] = {"tile": lambda value: (_money_tile(value), ""), "unit": "pUSD"}
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("start_equity", "Start equity", _usdc, "Equity (pUSD) at the first decision", **_MONEY),
    MetricSpec("end_equity", "End equity", _usdc, "Equity (pUSD) at the last decision", **_MONEY),
    MetricSpec("pnl", "PnL", _joined(_pnl_parts),
               "End − start equity, with how sure it is: the range holding 95 % of the PnLs of 1,000 runs "
               "drawn from this run's round trips (a market's fills from flat back to flat, or held to the end: "
               "fills that ride the same move are not independent), seeded by the run's seed, and the p-value "
               "against zero (how often resampled runs land across zero, both sides counted; never below what "
               "the number of round trips allows). No range, with why, when every fill is at one price, there are "
               "fewer than 5 round trips or all made the same. A range that spans zero: this run does not show "
               "whether the strategy earns",
               tile=_pnl_tile, unit="pUSD"),
    MetricSpec("total_return", "Total return", _percent, "End equity / start equity − 1"),
    MetricSpec("max_drawdown", "Max drawdown", _share, "Largest fall from a running peak, % of that peak"),
    MetricSpec("annualized_return", "Annualized return", _annualized,
               "The run's return compounded to a year, with the span it comes from; only for runs of 30 days or "
               "more (shorter: — with the reason, like Sharpe); on a month of data a projection, not a forecast",
               tile=_annualized_tile),
    MetricSpec("avg_holding_ms", "Average holding period", _held,
               "Mean time from a holding's first share until it was flat again, over the round trips the run "
               "closed (holdings still open at its end are not counted)", tile=_held_parts),
    MetricSpec(
        "sharpe",
        "Sharpe (annualized)",
        _ratio,
        "Mean / stdev of returns on a uniform time grid × √(periods per year); only for runs of 30 days "
        "or more (shorter: — , see Sharpe per period); — when undefined",
    ),
    MetricSpec(
        "sortino",
        "Sortino (annualized)",
        _ratio,
        "As Sharpe, with the downside deviation; runs of 30 days or more; — without losing periods",
    ),
    MetricSpec(
        "calmar",
        "Calmar",
        _ratio,
        "Annualized return / max drawdown, for runs of 30 days or more; — without drawdown",
    ),
    MetricSpec(
        "sharpe_per_period",
        "Sharpe (per period)",
        _ratio,
        "Mean / stdev of the grid's period returns, not annualized (the period is in the note above)",
    ),
    MetricSpec(
        "return_over_drawdown",
        "Return / max drawdown",
        _ratio,
        "The run's own return / max drawdown (any length; compare runs of similar length); — without drawdown",
    ),
    MetricSpec(
        "win_rate", "Win rate", _share, "Winning closing fills / closing fills; — with no closing fill"
    ),
    MetricSpec(
        "profit_factor",
        "Profit factor",
        _ratio,
        "Gross gains / gross losses of closing fills; — without losses",
    ),
    MetricSpec("trades", "Fills", _count("fills"), "Fills in the run (buys and sells)"),
    MetricSpec("fees", "Fees", _usdc, "Taker fees paid (pUSD)", **_MONEY),
    MetricSpec("rewards", "Liquidity rewards", _usdc, "Liquidity rewards the resting orders earned, estimated with "
               "the venue's scoring method every minute of the run (pUSD, in the equity curve)", **_MONEY),
    MetricSpec("rebates", "Maker rebates", _usdc, "The venue's share of the taker fees on the run's maker fills "
               "(pUSD, in the equity curve)", **_MONEY),
    MetricSpec("avg_exposure", "Avg exposure", _usdc, "Mean exposure (pUSD) over the decisions", **_MONEY),
    MetricSpec("max_exposure", "Max exposure", _usdc, "Largest exposure (pUSD) at a decision", **_MONEY),
    MetricSpec("decisions", "Decisions", _count("decisions"), "Times the strategy was asked to decide"),
    *(MetricSpec(f"markout_{h}", f"Markout {label}", _markout, f"The fills' markout {when}: for a buy, "
                 "the later mid − the fill price (a sell the other way) × size, summed; in bps of the fills' notional. "
                 "Positive: the fills earned; negative: adverse selection (fees not included). The 95 % range: as "
                 "the PnL's, on the same resampled fills", tile=_markout_tile,
                 unit="pUSD")
      for h, label, when in (("1s", "1 s", "1 s after each fill"), ("10s", "10 s", "10 s after each fill"),
                             ("60s", "60 s", "60 s after each fill"),
                             ("resolution", "at resolution", "against what the token paid at resolution"))),
)


def _value(found: Mapping[str, Any], key: str) -> Any:
    if key.startswith("markout_"):  # every figure of a horizon on one row
        return (found.get(f"{key}_usdc"), found.get(f"{key}_bps"), found.get(f"{key}_fills"), found.get(f"{key}_low"),
                found.get(f"{key}_high"))
    if key == "pnl":
        return (found.get("start_equity"), found.get("end_equity"), found.get("pnl_low"), found.get("pnl_high"),
                found.get("pnl_p_value"), interval_words(found))
    if key == "annualized_return":
        return found.get(key), found.get("span_ms")
    if key == "avg_holding_ms":
        return found.get(key), found.get("round_trips")
    return found.get(key)


def metric_rows(metrics: Mapping[str, Any] | None) -> list[tuple[MetricSpec, str]]:
    """Every metric with its formatted value (all "—" when the run has no metrics)."""
    found = metrics or {}
    return [(spec, spec.fmt(_value(found, spec.key))) for spec in METRICS]


def metric_tiles(metrics: Mapping[str, Any] | None) -> list[tuple[MetricSpec, str, str, str]]:
    """Every metric as a dashboard tile shows it: (spec, label with its unit, figure, qualifier)."""
    found = metrics or {}
    tiles = []
    for spec in METRICS:
        value = _value(found, spec.key)
        figure, note = spec.tile(value) if spec.tile else (spec.fmt(value), "")
        tiles.append((spec, f"{spec.label} ({spec.unit})" if spec.unit else spec.label, figure, note))
    return tiles


def _period(ms: int) -> str:
    if ms >= 86_400_000:
        return f"{ms / 86_400_000:g}-day"
    if ms >= 3_600_000:
        return f"{ms / 3_600_000:g}-hour"
    return f"{ms / 60_000:g}-minute"


def annualization_note(metrics: Mapping[str, Any] | None) -> str:
    """Why the annualized ratios read "—" on a short run, and the per-period grid ("" otherwise)."""
    found = metrics or {}
    why = found.get("not_annualized")
    if not why:
        return ""
    period = _number(found.get("period_ms"))
    grid = f" Per-period figures use {_period(int(period))} periods." if period else ""
    return f"Annualized return, Sharpe, Sortino and Calmar are not shown, not annualized: {why}.{grid}"


def latency_note(metrics: Mapping[str, Any] | None) -> str:
    """The latency a run was modelled with and the fills it cost ("" for runs before the model)."""
    latency = (metrics or {}).get("latency")
    if not isinstance(latency, dict) or not latency.get("model"):
        return ""
    described = str(latency.get("described") or latency["model"])
    if latency["model"] == "zero":
        return (f"Latency: {described}. Fills may be better than a real desk would get: its cancels would "
                "arrive after some of them.")
    fills, shares, notional = (_number(latency.get(k)) or 0 for k in ("pickoffs", "shares", "notional"))
    if not fills:
        return f"Latency: {described}. No order was filled while its cancel was on its way."
    return (f"Latency: {described}. It cost {int(fills):,} fill{'s' if fills != 1 else ''} ({shares:,.2f} shares, "
            f"{notional:,.2f} pUSD) picked off while their cancel was on its way; a zero-latency run would not "
            "have had them.")


def refusal_rows(metrics: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Refused and trimmed quote checks by reason, most first (empty for runs without counts)."""
    refusals = (metrics or {}).get("refusals")
    if not isinstance(refusals, dict):
        return []
    rows = [{"reason": r, "action": "refused", "count": n} for r, n in (refusals.get("refused") or {}).items()]
    rows += [{"reason": r, "action": "trimmed", "count": n} for r, n in (refusals.get("trimmed") or {}).items()]
    return sorted(rows, key=lambda row: -row["count"])
