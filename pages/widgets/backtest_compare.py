"""Compare two finished backtests: what differs in their setup, their metrics side by side, and
both equity curves normalized to their start on one chart."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from charts import backtest as figures
from charts.backtest_format import metric_rows
from pages.widgets.common import utc
from pages.widgets.figures import CHART_CONFIG
from storage.research import backtest_queries
from storage.sqlite.db import Database

CMP_A, CMP_B, CMP_TABLE = "bt_compare_a", "bt_compare_b", "bt_compare_table"
ROW_PX = 35  # st.dataframe's row height: the table is sized to show every row without scrolling


def _setup(run: backtest_queries.BacktestRun) -> dict[str, str]:
    return {
        "strategy kind": run.kind,
        "data": run.source,
        "range (UTC)": f"{utc(run.from_at)[:19]} → {utc(run.to_at)[:19]}",
        "markets": f"{len(run.markets)}",
        "seed": str(run.seed),
        "events": f"{run.events:,}",
    }


def _param_text(value: object) -> str:
    return "—" if value is None else value if isinstance(value, str) else json.dumps(value)


def comparison_table(a: backtest_queries.BacktestRun, b: backtest_queries.BacktestRun) -> pd.DataFrame:
    """One row per setup field, param (the union of both) and metric; a column per run."""
    rows: list[tuple[str, str, str]] = []
    setup_a, setup_b = _setup(a), _setup(b)
    rows += [(name, setup_a[name], setup_b[name]) for name in setup_a]
    for name in sorted(set(a.params) | set(b.params)):
        rows.append((f"param · {name}", _param_text(a.params.get(name)), _param_text(b.params.get(name))))
    for (spec, left), (_, right) in zip(metric_rows(a.metrics), metric_rows(b.metrics), strict=True):
        rows.append((spec.label, left, right))
    return pd.DataFrame(rows, columns=["what", f"#{a.id} {a.name}", f"#{b.id} {b.name}"])


def compare_panel(db: Database) -> None:
    done = backtest_queries.backtest_runs(db, status="done")
    if len(done) < 2:
        st.info(f"Comparing needs two finished backtests ({len(done)} so far).", icon=":material/compare:")
        return
    labels = {int(i): f"#{i} {name}" for i, name in zip(done["id"], done["name"], strict=True)}
    ids = list(labels)
    left, right = st.columns(2)
    first = left.selectbox("Run A", ids, index=1, key=CMP_A, format_func=labels.__getitem__)
    second = right.selectbox("Run B", ids, index=0, key=CMP_B, format_func=labels.__getitem__)
    if first == second:
        st.warning("Pick two different runs.")
        return
    a, b = backtest_queries.backtest_run(db, first), backtest_queries.backtest_run(db, second)
    if a is None or b is None:
        st.warning("One of these runs no longer exists.")
        return
    table = comparison_table(a, b)
    st.dataframe(table, hide_index=True, key=CMP_TABLE, height=(len(table) + 1) * ROW_PX + 3, placeholder="—")
    st.plotly_chart(
        figures.compare_figure(
            [(f"#{a.id} {a.name}", a.curve, a.from_at), (f"#{b.id} {b.name}", b.curve, b.from_at)]
        ),
        key="bt_compare_chart",
        width="stretch", config=CHART_CONFIG)
