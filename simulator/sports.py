"""Which markets are sports markets, whose marketable orders the venue answers
``delayed`` and matches a few seconds later (``seconds_delay`` in the CLOB market).

The default set is every head-to-head game in the seed data: a question naming two
sides ("Djokovic vs. Sinner", "Giants v. Dodgers"), or a market the seed data itself
gives a ``seconds_delay``. Futures such as "Will Argentina win the 2022 World Cup?"
are not games and match at once. With the default 10 markets that is one market:
"2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?".
"""

from __future__ import annotations

import re
from typing import Sequence

from .markets import Market, choose_markets

GAME = re.compile(r"\bvs?\.?\s", re.IGNORECASE)  # " vs. ", " vs ", " v. " between two sides


def is_game(market: Market) -> bool:
    return bool(GAME.search(market.question)) or market.seed_delay_s > 0


def assign_sports(markets: Sequence[Market], setting: str, delay_s: float) -> list[Market]:
    """Set ``seconds_delay`` on the sports markets (``setting``: see config.SPORTS_CHOICES);
    returns them. A listed index or condition id that matches no market is an error."""
    chosen = choose_markets(markets, setting, "sports_markets", is_game)
    for market in markets:
        market.seconds_delay = delay_s if market in chosen else 0.0
    return chosen if delay_s > 0 else []
