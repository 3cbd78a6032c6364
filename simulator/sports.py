"""Which markets are sports markets, whose marketable orders the venue answers
``delayed`` and matches a few seconds later (``seconds_delay`` in the CLOB market).

The default set is every head-to-head game in the seed data: a question naming two
sides ("Djokovic vs. Sinner", "Giants v. Dodgers"), or a market the seed data itself
gives a ``seconds_delay``. Futures such as "Will Argentina win the 2022 World Cup?"
are not games and match at once. With the default 10 markets that is one market:
"2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?".

A game also has a start (Gamma ``gameStartTime``, a day ahead unless set with
``POST /_sim/game-start``) and ``clearBookOnStart``: at the start every resting order of the
market is cancelled, as the venue clears such books when the game begins.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence

from .markets import Market, choose_markets

DEFAULT_GAME_START_S = 86_400.0  # a game's start, by default a day after the simulator starts
GAME = re.compile(r"\bvs?\.?\s", re.IGNORECASE)  # " vs. ", " vs ", " v. " between two sides


def is_game(market: Market) -> bool:
    return bool(GAME.search(market.question)) or market.seed_delay_s > 0


def assign_sports(markets: Sequence[Market], setting: str, delay_s: float) -> list[Market]:
    """Set ``seconds_delay`` on the sports markets (``setting``: see config.SPORTS_CHOICES);
    returns them. A listed index or condition id that matches no market is an error."""
    chosen = choose_markets(markets, setting, "sports_markets", is_game)
    for market in markets:
        market.seconds_delay = delay_s if market in chosen else 0.0
        if market in chosen:  # as the venue's game markets: a start, and the book cleared at it
            market.game_start_ts = market.game_start_ts or time.time() + DEFAULT_GAME_START_S
            market.clear_book_on_start = True
    return chosen if delay_s > 0 else []


def clear_started(markets: Sequence[Market], now: float, cancel: Callable[[Market], int]) -> list[Market]:
    """The games that started since the last look: their books cleared (``cancel`` removes every
    resting order of a market, the venue's cancellation sent to each owner); returns them."""
    started = [m for m in markets if m.clear_book_on_start and not m.book_cleared
               and m.game_start_ts is not None and m.game_start_ts <= now]
    for market in started:
        market.book_cleared = True
        cancel(market)
    return started
