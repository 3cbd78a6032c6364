"""Stated probabilities reach the `forecasts` table when they move, not every tick: value betting
states its fair value for each market it can trade, and the decisions log writes it once per
half-point move or hour."""

from __future__ import annotations

from pathlib import Path

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Snapshot, StrategyState
from engine.risk.decisions_log import FORECAST_REPEAT_MS, DecisionsLog
from engine.strategies.value_betting import ValueBetting, stated
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

MARKET = MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5_000_000)


def _rows(db: Database) -> list[tuple[int, str, str, int]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT at, strategy, condition_id, probability FROM forecasts "
                                                       "ORDER BY id")]


def test_a_probability_is_written_when_it_moves_half_a_point_or_an_hour_passes(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    log = DecisionsLog(db, "paper")

    def say(at: int, p: int | None) -> int:
        return log.forecasts([Intent("vb", "c1", (), probability=p), Intent("mm", "c1", ())], at)

    assert say(1_000, 600_000) == 1
    assert say(2_000, 604_000) == 0  # under half a point from the last written
    assert say(3_000, 605_000) == 1
    assert say(4_000, None) == 0  # no statement this time: nothing
    assert say(3_000 + FORECAST_REPEAT_MS, 605_000) == 1  # unchanged for an hour: written again
    assert _rows(db) == [(1_000, "vb", "c1", 600_000), (3_000, "vb", "c1", 605_000),
                         (3_000 + FORECAST_REPEAT_MS, "vb", "c1", 605_000)]
    db.dispose()


def test_value_betting_states_its_fair_value_only_where_it_can_trade() -> None:
    book = Book("Y", (Level(480_000, 100_000_000),), (Level(520_000, 100_000_000),), 0)
    view = MarketView(MARKET, book, book.mirrored("N"), fair_value=700_000, fair_confidence=1_000_000)  # the operator's
    assert stated(view, 700_000) == 700_000
    assert stated(MarketView(MARKET, book, None, fair_value=None), None) is None
    closed = MarketView(MarketInfo("c1", "?", "Y", "N", tick=10_000, min_size=5, closed=True), book, None,
                        fair_value=700_000)
    assert stated(closed, 700_000) is None
    [intent] = ValueBetting("vb", {}).decide(Snapshot(0, {"c1": view}), StrategyState("vb", cash=1_000_000_000), 0)
    assert intent.probability == 700_000 and intent.quotes  # it states the fair value it trades toward
