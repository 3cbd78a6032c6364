"""The lowest price an operator's exit or flatten sells at: worked out where the operator confirms it
(the dashboard's Exit dialog, the CLI, Telegram's /flatten), carried in the command, and enforced by the
engine (engine/trading/exits/selling.py), so what was confirmed is what bounds the fill-and-kill.

The floor is the mark less the max-slippage limit, rounded up onto the market's grid (a sale never
rounds down); the engine sells at the higher of that confirmed floor and its own floor from the book
when it sends (the mid less the max slippage then). A command names its floors per position as
`{"<condition_id>:<YES|NO>": price}` (`floors`). Pure integer arithmetic on micro-units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import MICRO, ONE, Side, fmt, notional, to_micros
from contracts.venue_rules import round_price

FLOORS_FIELD = "floors"
MAX_FLOORS = 500  # the positions one flatten may name (a page lists at most 500)
DEFAULT_TICK = 10_000  # a market whose grid the desk has not read: whole cents, which every venue accepts


def exit_floor(mark: int, max_slippage: int, tick: int | None) -> int:
    """The lowest price a sale at `mark` accepts: the mark less the max slippage, on the grid (rounded up),
    at least one tick and at most one tick below 1."""
    step = tick if tick and tick > 0 else DEFAULT_TICK
    return min(max(step, round_price(mark - max_slippage, Side.SELL, step)), ONE - step)


def floor_key(condition_id: str, outcome: str) -> str:
    return f"{condition_id}:{outcome}"


def floor_problem(raw: Any) -> str | None:
    """What is wrong with a command's `floors`, in the operator's words (None: it reads)."""
    if not isinstance(raw, Mapping):
        return 'must be an object {"<condition_id>:YES": 0.24, ...}'
    if len(raw) > MAX_FLOORS:
        return f"names {len(raw)} positions; at most {MAX_FLOORS}"
    for key, value in raw.items():
        cid, _, outcome = str(key).rpartition(":")
        if not cid or outcome not in ("YES", "NO") or len(str(key)) > 120:
            return f"{str(key)[:60]!r} is not <condition_id>:YES or <condition_id>:NO"
        price = _micros(value)
        if price is None or not 0 < price < ONE:
            return f"the floor of {str(key)[:60]!r} must be a price between 0 and 1, not {str(value)[:30]!r}"
    return None


def read_floors(raw: Any) -> dict[str, int] | None:
    """A command's confirmed floors in micro-units, by `floor_key`; None when it carries none (a command
    from an older front end, or one queued before floors travelled). Call after `floor_problem` passed."""
    if raw is None:
        return None
    return {str(key): _micros(value) or 0 for key, value in raw.items()}


def _micros(value: Any) -> int | None:
    """A price as typed (0.24, "0.24"), in micro-units; None when it is not a number of at most 6 decimals."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return to_micros(value, exact=True)
    except ValueError:
        return None


@dataclass(frozen=True)
class ExitLine:
    """What selling one position would do, as the operator confirms it: shares, the mark, the floor, and
    the worst-case proceeds before the taker fee (micro-units; mark and floor None when no price is known)."""

    strategy: str
    condition_id: str
    question: str
    outcome: str
    shares: int
    mark: int | None
    floor: int | None

    @property
    def worst(self) -> int | None:
        return None if self.floor is None else notional(self.floor, self.shares)

    def words(self) -> str:
        """The line as every front end shows it before the operator confirms."""
        head = f"{self.strategy} · {self.question[:70]} · {self.outcome} · {self.shares / MICRO:,.2f} shares"
        if self.mark is None or self.floor is None or self.worst is None:
            return f"{head}: no price now, so not sold (exit again once its market has one)"
        return (f"{head}: mark {price_words(self.mark)}; sold at no less than {price_words(self.floor)} (the mark "
                f"less the max-slippage limit), so at worst {self.worst / MICRO:,.2f} before the taker fee")


def exit_line(strategy: str, condition_id: str, question: str, outcome: str, shares: int, mark: int | None,
              tick: int | None, max_slippage: int) -> ExitLine:
    floor = None if mark is None else exit_floor(mark, max_slippage, tick)
    return ExitLine(strategy, condition_id, question, outcome, shares, mark, floor)


def floors_of(lines: Iterable[ExitLine]) -> dict[str, str]:
    """The `floors` a command carries for these lines (those with a price)."""
    return {floor_key(line.condition_id, line.outcome): fmt(line.floor) for line in lines if line.floor is not None}


def price_words(micros: int) -> str:
    """A price as the desk shows one: three decimals, more only where the grid is finer (0.2405)."""
    shown = f"{micros / MICRO:.3f}"
    return shown if round(float(shown) * MICRO) == micros else fmt(micros)
