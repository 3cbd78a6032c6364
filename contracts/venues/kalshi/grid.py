"""A Kalshi market's valid prices: its `price_ranges`, bands of (start, end, step) in micro-dollars
(Kalshi's Fixed-Point Representation page: "the source of truth for valid prices: any price on the
grid is valid, and any off-grid price is rejected"). A price is valid when it lies in a band, ends
included, on that band's step from its start, and is neither $0 nor $1.

The planner rounds a Kalshi quote to one tick (`grid_tick`): the least common multiple of the bands'
steps, a price every band accepts (whole cents on every structure Kalshi lists today), so whatever the
planner makes is on the grid; a price from elsewhere (a book level, a manual ticket) is checked against
the bands themselves. A market whose grid the desk has not read yet is taken to be whole cents, which
every structure accepts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

ONE = 1_000_000
Band = tuple[int, int, int]
WHOLE_CENTS: tuple[Band, ...] = ((0, ONE, 10_000),)


def on_grid(price: int, bands: Sequence[Band]) -> bool:
    if not 0 < price < ONE:
        return False
    return any(start <= price <= end and (price - start) % step == 0 for start, end, step in bands)


def grid_tick(bands: Sequence[Band]) -> int:
    """One step valid in every band: the least common multiple of the steps (Kalshi's bands start on
    their own steps, so every multiple of it lies on each band's grid)."""
    return math.lcm(*(step for _, _, step in bands)) if bands else 10_000


def grid_problem(price: int, bands: Sequence[Band]) -> str | None:
    if on_grid(price, bands):
        return None
    steps = ", ".join(f"{s / ONE:g}-{e / ONE:g} by {st / ONE:g}" for s, e, st in bands)
    return f"price {price / ONE:g} is not on the market's price grid ({steps})"


def bands_json(bands: Sequence[Band]) -> str:
    return json.dumps([list(b) for b in bands])


def bands_from_json(raw: str | None) -> tuple[Band, ...]:
    """The bands stored with a market (storage/engine_stores), or whole cents when none were read."""
    if not raw:
        return WHOLE_CENTS
    loaded = json.loads(raw)
    return tuple((int(a), int(b), int(c)) for a, b, c in loaded) or WHOLE_CENTS
