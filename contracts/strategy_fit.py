"""Whether a strategy, as configured, can trade at all: a strategy with no market places nothing, and
one whose order size is below a market's minimum has every quote there refused (`BELOW_MIN_SIZE`).
Said before it is saved (the strategy form, as the Backtest form does) and while it sits idle (the
Strategies table, storage/desk/desk_idle.py). Pure: the caller passes the markets' minimum sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The params that set an order's size, by strategy kind (shares).
ORDER_SIZE_PARAMS = ("size", "max_size", "position_size")


def below_minimum(params: Mapping[str, Any], min_sizes: Mapping[str, float]) -> tuple[float | None, list[str]]:
    """(the order size in shares, the markets whose minimum is above it): the planner refuses
    every such quote (BELOW_MIN_SIZE)."""
    size = next((params[k] for k in ORDER_SIZE_PARAMS
                 if isinstance(params.get(k), (int, float)) and not isinstance(params.get(k), bool)), None)
    if size is None:
        return None, []
    return float(size), [cid for cid, minimum in min_sizes.items() if size < minimum]


@dataclass(frozen=True)
class Market:
    """What the desk knows of the markets a strategy would trade, for `cannot_trade` (each may be empty)."""

    prices: Mapping[str, float] = field(default_factory=dict)  # the last price seen (probability)
    sources: Mapping[str, int] = field(default_factory=dict)  # fair-value sources pricing each now
    min_order_value: float = 0.0  # the desk's min order value (pUSD): an order worth less is refused


def cannot_trade(params: Mapping[str, Any], markets: Any, min_sizes: Mapping[str, float],
                 names: Mapping[str, str] | None = None, known: Market | None = None) -> list[str]:
    """Why a strategy with these params and markets (a list of ids, or a filter) would place nothing,
    or not in some of its markets, in the operator's words; empty when nothing is known to stop it.
    `min_sizes`: the minimum order size (shares) of its markets the desk knows (for a filter, of those it
    picks now); `names`: their names, to name each market (None: said in brief, for a table's cell);
    `known`: their prices, fair-value sources and the min order value, for the checks that need them."""
    if isinstance(markets, list) and not markets:
        return ["no market: it places nothing until you pick one (or use a filter)"]
    why = _pair_count(params, markets) + (_value_and_sources(params, known, names or {}) if known else [])
    size, below = below_minimum(params, min_sizes)
    if not below:
        return why
    if names is None:
        low, high = min(min_sizes[c] for c in below), max(min_sizes[c] for c in below)
        shown = f"{low:g}" if low == high else f"{low:g}–{high:g}"
        return [*why, f"order size {size:g} below the minimum ({shown} shares) of {len(below)} of its {len(min_sizes)} "
                "markets: BELOW_MIN_SIZE"]
    listed = "; ".join(f"{names.get(cid, cid)} ({min_sizes[cid]:g} shares)" for cid in below)
    every = "every quote" if len(below) == len(min_sizes) else "every quote in those"
    return [*why, f"its order size ({size:g} shares) is below the minimum of {listed}: {every} is refused "
            "(BELOW_MIN_SIZE)"]


def _pair_count(params: Mapping[str, Any], markets: Any) -> list[str]:
    """A relative-value strategy trading one market against another needs exactly two markets (a
    filter may pick any number: said when it decides)."""
    if params.get("against") != "other_market" or not isinstance(markets, list) or len(markets) == 2:
        return []
    return [f"{len(markets)} market(s) picked: trading one market against another needs exactly two"]


def _value_and_sources(params: Mapping[str, Any], known: Market, names: Mapping[str, str]) -> list[str]:
    """An order worth less than the desk's min order value at the market's price is refused (MIN_ORDER_VALUE:
    a Kalshi strategy of one contract at 40 cents, against a 1 pUSD minimum); an ensemble trades a market only
    when at least `min_sources` fair-value sources price it."""
    why = []
    size = next((params[k] for k in ORDER_SIZE_PARAMS
                 if isinstance(params.get(k), (int, float)) and not isinstance(params.get(k), bool)), None)
    if size is not None and known.min_order_value > 0:
        cheap = {cid: price for cid, price in known.prices.items() if size * price < known.min_order_value}
        if cheap:
            listed = "; ".join(f"{names.get(cid, cid)} (about {size * price:,.2f} at {price:.2f})"
                               for cid, price in cheap.items())
            why.append(f"its orders of {size:g} shares are worth less than the min order value "
                       f"({known.min_order_value:g}) in {listed}: each is refused (MIN_ORDER_VALUE); raise the size")
    needed = params.get("min_sources")
    if isinstance(needed, int) and not isinstance(needed, bool) and known.sources:
        most = max(known.sources.values())
        if most < needed:
            why.append(f"it trades a market only when {needed} fair-value sources price it, and no market of its "
                       f"has more than {most} now: it places nothing until more do (or set Minimum sources to "
                       f"{max(1, most)})")
    return why
