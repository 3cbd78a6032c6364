"""Exits from wherever a position is shown: "Exit" for one position (Overview, Markets, Orders)
and "Flatten strategy" for all of one strategy's (Strategies). Each opens a confirmation with
its preview (shares, the mark, the lowest price the sale accepts, worst-case proceeds) and posts
the engine's `exit` command carrying those floors, which sells through the exit path while the desk
trades, never below them (engine/trading/operator/operator_exits.py); the answer says what sold and
why anything did not.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from contracts.domain import MICRO, to_micros
from contracts.exit_floors import FLOORS_FIELD, ExitLine, exit_line, floors_of
from pages.widgets.common import flash, read_only
from pages.widgets.dialogs import open_dialog
from pages.widgets.usage import limit_values
from storage.dashboard_queries import portfolio_queries
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database

EXIT_PICK, EXIT_OPEN, FLATTEN_OPEN = "exit_pick", "exit_open", "flatten_open"


def preview_lines(frame: pd.DataFrame, max_slippage: Decimal) -> list[ExitLine]:
    """What selling each position would do: shares, mark, the floor the command carries and the worst case
    (contracts/exit_floors.py: the engine never sells below that floor)."""
    slippage = to_micros(max_slippage)
    ticks = frame["tick"] if "tick" in frame.columns else pd.Series([None] * len(frame), index=frame.index)
    return [exit_line(row.strategy, row.condition_id, _named(row.question, row.condition_id), row.outcome,
                      round(float(row.size) * MICRO), None if pd.isna(row.mark) else round(float(row.mark) * MICRO),
                      None if pd.isna(tick) else int(tick), slippage)
            for row, tick in zip(frame.itertuples(), ticks, strict=True)]


def _named(question: Any, condition_id: str) -> str:
    """The market's question, or its id where the desk no longer knows the question (a Kalshi
    position whose pair was removed: pandas reads the missing question as NaN, not None)."""
    return question if isinstance(question, str) and question.strip() else condition_id


def _slippage(db: Database) -> Decimal:
    return limit_values(queries.risk_limit_rows(db))["max_slippage"]


def _label(line: ExitLine) -> str:
    return f"{line.strategy} · {line.question[:70]} · {line.outcome} · {line.shares / MICRO:g} shares"


def exit_control(db: Database, mode: str, frame: pd.DataFrame, *, key: str) -> None:
    """Below a positions table: pick one of its positions and exit it (confirmed)."""
    lines = preview_lines(frame, _slippage(db))
    if not lines or read_only("exiting a position"):
        return
    labels = [_label(line) for line in lines]
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    picked = left.selectbox("Position to exit", range(len(lines)), format_func=lambda i: labels[i],
                            key=f"{EXIT_PICK}_{key}")
    if right.button("Exit…", key=f"{EXIT_OPEN}_{key}", icon=":material/logout:",
                    help="Sell this position now through the exit path (confirmed first)"):
        line = lines[picked or 0]
        open_dialog("exit", near=exit_near(key), mode=mode, lines=[line], payload={
            "strategy": line.strategy, "condition_id": line.condition_id, "outcome": line.outcome,
            "ledger": mode, FLOORS_FIELD: floors_of([line]), "reason": "Exit button on the dashboard"},
            title=f"Exit {line.strategy}'s {line.outcome}")
        st.rerun(scope="app")
    flash(near=exit_near(key))  # what the exit sold, under its button


def exit_near(key: str) -> str:
    """Where the answer of a positions table's Exit shows (`flash(near=...)`)."""
    return f"{EXIT_OPEN}_{key}"


def flatten_strategy_control(db: Database, mode: str, strategy: str) -> None:
    """On a strategy's page: sell everything it holds (confirmed)."""
    frame = portfolio_queries.positions(db, mode, strategy=strategy)
    flash(near=f"{FLATTEN_OPEN}_{strategy}")  # what the flatten sold, where its button is (or was)
    if frame.empty:
        st.caption(f"{text.markdown(strategy)} holds nothing in {mode}: nothing to flatten.")
        return
    if read_only(f"flattening {text.markdown(strategy)}"):
        return
    # A button's label is markdown: the name, from the operator's config or an import, goes in escaped.
    if st.button(f"Flatten {text.markdown(strategy)}…", key=f"{FLATTEN_OPEN}_{strategy}", icon=":material/logout:",
                 help="Sell every position this strategy holds, through the exit path (confirmed first)"):
        lines = preview_lines(frame, _slippage(db))
        open_dialog("exit", near=f"{FLATTEN_OPEN}_{strategy}", mode=mode, lines=lines, payload={
            "strategy": strategy, "ledger": mode, FLOORS_FIELD: floors_of(lines),
            "reason": "Flatten strategy on the dashboard"}, title=f"Flatten strategy {strategy}")
        st.rerun(scope="app")
