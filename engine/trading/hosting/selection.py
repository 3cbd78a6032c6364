"""Which markets each strategy trades: the hosted strategies re-read or re-selected against the
markets the catalog knows, the count recorded for the Strategies page (with an alert for a
strategy that selects none), and the orders of markets a strategy dropped withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts import order_end
from contracts.domain import Intent
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.trading.hosting.strategy_host import StrategyHost
from engine.trading.hosting.views import candidates
from storage.desk.audit import raise_alert
from storage.engine_stores import trading_writes
from storage.sqlite.db import Database

NO_MARKETS = "its market list or filter selects no market the engine knows"


class Selection:
    def __init__(self, db: Database, host: StrategyHost, catalog: MarketCatalog, clock: Callable[[], int], *,
                 record: bool):
        """`record`: write the counts (not in a replay, whose scratch database nobody reads)."""
        self.db = db
        self.host = host
        self.catalog = catalog
        self.clock = clock
        self.record_counts = record
        self._recorded: dict[str, int] = {}  # markets each strategy selects, as last recorded

    def load(self) -> None:
        """At start: the strategies read and their markets chosen (nothing of theirs works yet)."""
        self.host.reload(candidates(self.db, self.catalog))
        self.record()

    def reload(self, executor: Executor) -> dict[str, int]:
        """Strategies re-read from their table (changed ones rebuilt); returns their versions."""
        before = self._markets()
        versions = self.host.reload(candidates(self.db, self.catalog))
        self.record()
        self._withdraw_dropped(before, executor)
        return versions

    def reselect(self, executor: Executor) -> None:
        """Each strategy's markets chosen afresh (the market refresh found new ones)."""
        before = self._markets()
        self.host.reselect(candidates(self.db, self.catalog))
        self.record()
        self._withdraw_dropped(before, executor)

    def record(self) -> None:
        """How many markets each strategy selects, for the Strategies page; a strategy whose
        list or filter selects nothing says so with an alert (once, until it selects again)."""
        if not self.record_counts:
            return
        counts = {name: len(h.markets) for name, h in self.host.hosted.items()}
        if counts == self._recorded:
            return
        with self.db.write() as conn:
            trading_writes.record_selection(conn, counts, {n: None if c else NO_MARKETS for n, c in counts.items()},
                                            self.clock())
            for name, count in counts.items():
                if count == 0 and self._recorded.get(name) != 0:
                    raise_alert(conn, level="warning", source="engine", code="STRATEGY_NO_MARKETS",
                                message=f"strategy '{name}' selects no market: it quotes nothing until its market "
                                        "list or filter selects one (Strategies page)")
        self._recorded = counts

    def _markets(self) -> dict[str, set[str]]:
        return {name: set(h.markets) for name, h in self.host.hosted.items()}

    def _withdraw_dropped(self, before: dict[str, set[str]], executor: Executor) -> None:
        """Strategies disabled or removed, and markets a strategy no longer selects: their
        orders are cancelled on the next pass (orders of other origins are left alone)."""
        for name, markets in before.items():
            hosted = self.host.hosted.get(name)
            keep = set(hosted.markets) if hosted is not None else set()
            for cid in markets - keep:
                executor.latest[(name, cid)] = Intent(name, cid, (), order_end.DISABLED if hosted is None
                                                      else order_end.DROPPED)
