"""One Kalshi market asking a question the Polymarket side serves, so linking a pair and
cross-venue arbitrage can be rehearsed offline (`--kalshi-no-pair` leaves it out).

The twin of the Polymarket market "Will the Fed increase interest rates by 25 bps after its
February meeting?" (one of the simulator's Fed group): a market of its own simulated series,
worded as Kalshi words such a market (so `pairs add` shows how the two read, side by side), its
house ladder centred on the Polymarket market's starting belief. The ladder then stands while the
Polymarket side moves with its news: the two venues' prices drift apart as a real pair's do, and
the gap is what an arbitrage acts on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .units import MICRO

SERIES = "KXSIMFED"
POLYMARKET_QUESTION = "Will the Fed increase interest rates by 25 bps after its February meeting?"
TITLE = "Will the Federal Reserve hike rates by 25 bps at its February meeting?"
SUB_TITLE = "+25 bps"
RULES = ("If the Federal Reserve raises the upper bound of the target federal funds range by 25 basis points at "
         "its February meeting, the market resolves to Yes; any other decision resolves it to No.")
SOURCE = ("The FOMC's statement after its February meeting (federalreserve.gov); here settled by the simulator's "
          "admin API (/_sim/kalshi/markets/{ticker}/...).")
CENT = 10_000  # micro-dollars


class Served(Protocol):
    question: str
    latent: float


@dataclass(frozen=True)
class Twin:
    title: str
    sub_title: str
    rules: str
    source: str
    mid: int  # micro-dollars, on the cent grid: where the house ladder is centred


def twin_of(markets: Iterable[Served]) -> Twin | None:
    """The Kalshi twin of the Polymarket Fed market, when the Polymarket side serves it."""
    found = next((m for m in markets if m.question == POLYMARKET_QUESTION), None)
    if found is None:
        return None
    mid = min(95 * CENT, max(5 * CENT, round(found.latent * MICRO / CENT) * CENT))
    return Twin(TITLE, SUB_TITLE, RULES, SOURCE, mid)
