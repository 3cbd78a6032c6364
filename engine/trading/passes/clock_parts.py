"""The parts of a timed pass that read the clock, registered (contracts/due.py): the trading core's
own (the books' ages, the strategies, the indicators, their markouts, the pictures' signals, the holds
around a game's start), then each open ledger's (engine/trading/passes/ledger_pass.py `clock_parts`).

A backtest takes the earliest of their answers to skip the timed passes that cannot act
(engine/backtest/quiet_passes.py). What reads the clock in a pass and is neither registered here nor
answered for by a part that is makes tests/backtest/test_clock_parts.py fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from contracts.due import Due
from engine.trading.exits.game_start import GameStarts
from engine.trading.passes.ledger_pass import clock_parts

if TYPE_CHECKING:
    from contracts.runtime_settings import RuntimeConfig
    from engine.feeds.books import BookCache
    from engine.feeds.catalog import MarketCatalog
    from engine.risk.monitor import RiskMonitor
    from engine.trading.hosting.indicator_host import IndicatorHost
    from engine.trading.hosting.own_markouts import OwnMarkouts
    from engine.trading.hosting.strategy_host import StrategyHost
    from engine.trading.hosting.views import SignalReads
    from engine.trading.passes.routing import Ledgers


class DataAge:
    """The books growing stale: a book older than `max_data_age` refuses every quote in its market
    (the gate's data-age check), from the first millisecond past it. Rows of book data (or of the
    connection that vouches for the books) move the answer later, never earlier."""

    def __init__(self, books: BookCache, max_age_ms: Callable[[], int]) -> None:
        self.books, self.max_age_ms = books, max_age_ms

    def next_due(self, now: int, before: int) -> int | None:
        return self.books.next_stale(now, self.max_age_ms())


class TimedPass(Protocol):
    """What of the trading core (engine/trading/core.py) its timed pass runs on."""

    books: BookCache
    catalog: MarketCatalog
    risk: RiskMonitor
    host: StrategyHost
    indicators: IndicatorHost
    own_markouts: OwnMarkouts
    signals: SignalReads
    config: RuntimeConfig
    ledgers: Ledgers


def pass_parts(core: TimedPass) -> Callable[[], list[Due]]:
    """The parts of `core`'s timed pass that read the clock, as they are when called (a ledger opens, a
    risk monitor's error window starts again): the core's own, then each ledger's the pass runs."""
    own: list[Due] = [DataAge(core.books, lambda: core.risk.limits.ms("max_data_age")), core.host, core.indicators,
                      core.own_markouts, core.signals,
                      GameStarts(core.catalog, core.host.markets, lambda: core.config.game_start_withdraw_s * 1000)]

    def parts() -> list[Due]:
        ledgers = [ledger for ledger in core.ledgers.all() if ledger.desk or ledger.live]
        return [*own, *(part for ledger in ledgers for part in clock_parts(ledger.parts))]

    return parts
