"""Risk page: the volatility breaker's limits are edited like the others, with their unit, and
a save whose volatility limits contradict each other is refused inline, naming the limit to fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import Database


@pytest.fixture
def risk(seeded: int, page: Callable[[str], AppTest]) -> AppTest:
    at = page("risk")
    assert not at.exception
    return at


def _versions(db: Database) -> list[tuple[str, int]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT name, version FROM risk_limits WHERE name LIKE 'volatility%' AND version > 1"))]


def test_the_volatility_limits_are_on_the_form_with_their_units(risk: AppTest) -> None:
    labels = {t.key: t.label for t in risk.text_input}
    assert labels["limit_volatility_reduce_v1"] == "Volatility: reduce at (× baseline)"
    assert labels["limit_volatility_window_v1"] == "Volatility window (seconds)"
    assert risk.text_input(key="limit_volatility_halt_v1").value == "6"
    # A correlation is a coefficient, not a multiple of a baseline (issue 87).
    assert labels["limit_correlation_threshold_v1"] == "Correlated at (correlation coefficient)"
    assert labels["limit_correlation_spike_v1"] == "Correlation spike at (correlation coefficient)"


def test_contradicting_volatility_limits_are_refused_inline(risk: AppTest, db: Database) -> None:
    risk.text_input(key="limit_volatility_clear_v1").input("4")  # at or above the reduce ratio (3)
    risk.button(key="limit_save").click().run()
    errors = [e.value for e in risk.error]
    assert any("Volatility: clear at: must be below the reduce ratio (3)" in e for e in errors), errors
    assert _versions(db) == []
    risk.text_input(key="limit_volatility_reduce_v1").input("5")  # now consistent: clear 4 < reduce 5
    risk.button(key="limit_save").click().run()
    assert not risk.exception and not risk.error
    assert sorted(_versions(db)) == [("volatility_clear", 2), ("volatility_reduce", 2)]
