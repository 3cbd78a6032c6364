"""A market's price grid, as Kalshi publishes it in `price_ranges` (Fixed-Point Representation):
bands of `{start, end, step}` in dollars; a price is valid when it lies in a band (ends included)
on that band's step from its start, and is neither $0 nor $1. The structures are Kalshi's names
for the grids it assigns; the simulator lists markets on several of them."""

from __future__ import annotations

from dataclasses import dataclass

from .units import MICRO, dollars

# name -> bands (start, end, step) in micro-dollars, from Kalshi's table of price level structures.
STRUCTURES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "linear_cent": ((0, MICRO, 10_000),),
    "deci_cent": ((0, MICRO, 1_000),),
    "tapered_deci_cent": ((0, 100_000, 1_000), (100_000, 900_000, 10_000), (900_000, MICRO, 1_000)),
    "center_half_edge_quint_cent": ((0, 100_000, 2_000), (100_000, 900_000, 5_000), (900_000, MICRO, 2_000)),
    "center_deci_edge_centi_cent": ((0, 10_000, 100), (10_000, 990_000, 1_000), (990_000, MICRO, 100)),
}


@dataclass(frozen=True)
class Grid:
    structure: str
    bands: tuple[tuple[int, int, int], ...]

    @classmethod
    def named(cls, structure: str) -> Grid:
        return cls(structure, STRUCTURES[structure])

    def valid(self, price: int) -> bool:
        if not 0 < price < MICRO:
            return False
        return any(start <= price <= end and (price - start) % step == 0 for start, end, step in self.bands)

    def ranges(self) -> list[dict[str, str]]:
        return [{"start": dollars(s), "end": dollars(e), "step": dollars(step)} for s, e, step in self.bands]
