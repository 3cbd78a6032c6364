"""Every check of one tick spends one budget: a second check in the same tick (a cross-venue leg,
checked after the desk's pass placed its quotes) sees what the first approved, so together they
never approve past a limit; the next tick starts again from its own exposure. The same holds on a
ledger other than the desk's (Kalshi's, whose cross-venue leg is checked after that ledger's pass)."""

from __future__ import annotations

from pathlib import Path

from contracts.domain import Intent, Quote, Side, Tif
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk.ledger_risk import VenueLedgerRisk
from engine.risk.monitor import RiskMonitor
from tests.risk.test_breakers import SH, T0, monitor_on
from tests.risk.test_volatility_monitor import MARKETS, _views

MIDS = {"c1": 500_000, "c2": 500_000}
# 0.48 a share: 100 shares cost $48 of the $60 total limit, leaving $12 (25 shares) for anything else.
LIMITS = {"max_total_exposure": "60", "max_market_exposure": "1000", "max_strategy_exposure": "1000",
          "max_event_exposure": "1000", "max_correlated_exposure": "1000"}


def _buy(strategy: str, cid: str, shares: int, tif: Tif = Tif.GTC) -> Intent:
    return Intent(strategy, cid, (Quote(Side.BUY, 480_000, shares * SH, tif),))


def _approved(checked: list[Intent]) -> int:
    return sum(q.size for i in checked for q in i.quotes) // SH


def _tick(monitor: RiskMonitor, now: int) -> None:
    monitor.new_tick(now, ExecutionState("paper"), MarketCatalog(MARKETS.values()), _views(MIDS, now))


def _two_checks_in_one_tick(monitor: RiskMonitor) -> tuple[int, int, int]:
    _tick(monitor, T0)
    desk = _approved(monitor.check([_buy("mm", "c1", 100)], T0))  # the desk's pass
    leg = _approved(monitor.check([_buy("xa", "c2", 100, Tif.FAK)], T0))  # a cross-venue leg, later that tick
    _tick(monitor, T0 + 500)  # the next tick: nothing was placed (the state is empty), the whole limit again
    fresh = _approved(monitor.check([_buy("xa", "c2", 100, Tif.FAK)], T0 + 500))
    return desk, leg, fresh


def test_a_later_check_in_the_same_tick_spends_what_the_first_left(tmp_path: Path) -> None:
    desk, leg, fresh = _two_checks_in_one_tick(monitor_on(tmp_path, **LIMITS))
    assert desk == 100
    assert leg == 25  # $12 left at 0.48: not the whole $60 again
    assert fresh == 100  # a new tick is not held to the last one's approvals: the whole ask fits again


def test_a_ledgers_later_check_spends_the_ledgers_budget_too(tmp_path: Path) -> None:
    desk = monitor_on(tmp_path, **LIMITS)
    ledger = VenueLedgerRisk(desk.db, desk, clock=lambda: T0, venue_name="polymarket")
    ledger.sync_limits()
    _tick(desk, T0)
    assert _two_checks_in_one_tick(ledger) == (100, 25, 100)


def test_an_operators_ticket_is_checked_against_what_the_tick_approved(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, **LIMITS)
    _tick(monitor, T0)
    monitor.check([_buy("mm", "c1", 100)], T0)
    views = _views(MIDS, T0)
    verdict = monitor.check_manual(_buy("manual", "c2", 100), views["c2"], T0)
    assert not verdict.quotes and "MAX_TOTAL_EXPOSURE" in verdict.reason  # trimmed to 25: refused, never made smaller
    assert _approved(monitor.check([_buy("xa", "c2", 100, Tif.FAK)], T0)) == 25  # the ticket spent none of it
