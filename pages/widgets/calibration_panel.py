"""Calibration beside PnL: a strategy's stated probabilities scored against what the markets
resolved to (Brier score, calibration chart, per market), for the Strategies page and a
backtest's results alike (contracts/calibration.py scores, charts/calibration.py draws)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.calibration import calibration_figure, calibration_note
from charts.style import CHART_CONFIG
from charts.tables import Col
from contracts.calibration import COIN, Calibration, calibrate
from pages.widgets.tables import rows_height, show_table
from storage.research import calibration_queries
from storage.research.backtest_queries import market_questions
from storage.sqlite.db import Database

MARKET_COLUMNS = {
    "question": Col("market", "name"),
    "forecasts": Col("forecasts", "int"),
    "mean_probability": Col("mean stated", "prob"),
    "outcome": Col("resolved YES", "prob"),
    "brier": Col("Brier", "money4"),
}


def calibration_panel(db: Database, calibration: Calibration | None, stated: int, *, title: str, key: str) -> None:
    """Nothing for a strategy that states no probability."""
    note = calibration_note(calibration, stated)
    if not note:
        return
    st.markdown("**Calibration**")
    if calibration is not None and calibration.brier is not None:
        st.metric("Brier score", f"{calibration.brier:.3f}",
                  help=f"Mean squared error of the stated probabilities of YES against the resolutions, each "
                       f"market once: 0 is perfect, {COIN:.2f} is always stating 0.5.")
    st.caption(note)
    if calibration is None or not calibration.markets:
        return
    st.plotly_chart(calibration_figure(calibration, title), key=f"{key}_chart", width="stretch", config=CHART_CONFIG)
    questions = market_questions(db, [m.condition_id for m in calibration.markets])
    frame = pd.DataFrame([{"question": questions.get(m.condition_id, m.condition_id), "forecasts": m.forecasts,
                           "mean_probability": m.mean_probability, "outcome": m.outcome, "brier": m.brier}
                          for m in calibration.markets])
    with st.expander(f"Per market ({len(frame):,})"):
        show_table(frame, MARKET_COLUMNS, height=rows_height(len(frame)))


def strategy_calibration(db: Database, mode: str, strategy: str) -> None:
    """The strategy's forecasts in `mode` so far, scored against the markets that have resolved."""
    stated = calibration_queries.forecast_count(db, mode, strategy)
    if not stated:
        return
    scored = calibrate(calibration_queries.scored_forecasts(db, mode, strategy))
    calibration_panel(db, scored, stated, title=f"Calibration of {strategy} ({mode})", key="strategy_calibration")
