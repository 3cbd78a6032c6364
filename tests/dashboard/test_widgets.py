"""The pure pieces under pages/widgets: figure builders, usage, diff, log tail, field text,
the live-switch rules. None of them may import streamlit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from charts.trades_on_price import trades_on_price_figure
from contracts.limits import LIMITS
from pages.widgets import figures
from pages.widgets.arming_panel import arm_refusals
from pages.widgets.common import utc_day_ms
from pages.widgets.diff import audit_diff, change_summary
from pages.widgets.fields import number_text
from pages.widgets.logtail import mask, parse, tail
from pages.widgets.usage import limit_values, usage_table
from storage.dashboard_queries.portfolio_queries import RiskUsage
from storage.desk.arming import Check, Gate
from tests.helpers import ROOT

PURE = ("figures", "usage", "diff", "logtail")


@pytest.mark.parametrize("module", PURE)
def test_pure_widget_modules_never_import_streamlit(module: str) -> None:
    code = f"import sys, pages.widgets.{module}; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def _usage(**kw: object) -> RiskUsage:
    empty = pd.DataFrame({"condition_id": [], "question": [], "strategy": [], "event": [], "exposure": []})
    values = dict(
        total_exposure=0.0,
        by_market=empty,
        by_strategy=empty,
        by_event=empty,
        open_orders=0,
        orders_last_minute=0,
        daily_pnl=None,
        drawdown_pct=None,
        equity=None,
        peak_equity=None,
    )
    return RiskUsage(**{**values, **kw})


def test_usage_table_against_stored_limits() -> None:
    rows = pd.DataFrame(
        {
            "name": ["max_total_exposure", "max_drawdown", "max_open_orders"],
            "value": ["200", "0", "not a number"],
        }
    )
    values = limit_values(rows)
    assert values["max_total_exposure"] == Decimal("200") and values["max_open_orders"] == Decimal("60")
    table = usage_table(
        _usage(total_exposure=150.0, daily_pnl=-30.0, drawdown_pct=5.0, open_orders=6), values
    )
    by = table.set_index("name")
    assert (
        by.loc["max_total_exposure", "pct"] == 75
        and by.loc["max_total_exposure", "label"] == "150.00 pUSD / 200.00 pUSD"
    )
    assert pd.isna(by.loc["max_drawdown", "pct"]) and by.loc["max_drawdown", "label"] == "5.00 % / off"
    assert by.loc["max_daily_loss", "used"] == 30 and by.loc["max_open_orders", "pct"] == 10


def test_figures_build_with_and_without_data() -> None:
    assert isinstance(
        figures.equity_figure(pd.DataFrame(columns=["at", "equity", "peak", "drawdown_pct"]), "paper"),
        go.Figure,
    )
    curve = pd.DataFrame(
        {
            "at": pd.to_datetime([0, 60_000], unit="ms", utc=True),
            "equity": [10.0, 9.0],
            "peak": [10.0, 10.0],
            "drawdown_pct": [0.0, 10.0],
        }
    )
    fig = figures.equity_figure(curve, "paper")
    assert [t.name for t in fig.data] == ["equity", "peak", "drawdown"]  # units on the axes and in the hover
    table = usage_table(_usage(total_exposure=1500.0), {s.name: s.default for s in LIMITS})
    bars = figures.usage_figure(table)
    assert bars.data[0].marker.color[-1] == figures.RED  # 150 % of the total-exposure limit
    depth = figures.depth_figure([(0.49, 10.0), (0.48, 5.0)], [(0.51, 3.0)], "depth")
    assert list(depth.data[0].y) == [10.0, 15.0, 15.0]  # the outermost level drawn one step past it
    empty = pd.DataFrame(columns=["at", "mid"])
    assert trades_on_price_figure(empty, pd.DataFrame(), pd.DataFrame(), "p").layout.annotations
    assert figures.exposure_figure(pd.DataFrame({"event": ["e"], "exposure": [5.0]}), "event", "t", 3.0).data


def test_the_usage_figure_labels_every_limit_row_even_an_empty_one() -> None:
    table = usage_table(_usage(total_exposure=900.0, open_orders=0), {s.name: s.default for s in LIMITS})
    bar = figures.usage_figure(table).data[0]
    assert list(bar.text) == list(table["label"].iloc[::-1]) and all(bar.text)
    placed = dict(zip(bar.y, bar.textposition, strict=True))
    # Plotly's "auto" drops the text of a bar too short to hold it: an unused limit would be unlabelled.
    assert placed["Max open orders"] == "outside" and placed["Max total exposure"] == "inside"  # 0 % and 90 %
    assert bar.cliponaxis is False


def test_audit_diff() -> None:
    rows = audit_diff(
        '{"params": {"size": 10}, "enabled": false}', '{"params": {"size": 12}, "enabled": false}'
    )
    assert rows == [{"field": "params.size", "before": "10", "after": "12", "change": "changed"}]
    assert audit_diff(None, '{"a": 1}')[0]["change"] == "added"
    (row,) = audit_diff("not json", None)  # written around the dashboard: its text, and why
    assert (row["field"], row["after"], row["change"]) == ("value", "—", "removed")
    assert row["before"].startswith('"(not readable: the stored document is not valid JSON')
    assert "not json" in row["before"]
    (deep,) = audit_diff("[" * 30_000 + "]" * 30_000, None)
    assert "nested too deeply" in deep["before"] and len(deep["before"]) < 500


def test_the_audit_says_money_times_and_statuses_as_a_person_reads_them() -> None:
    """The writers store micro-units, epoch milliseconds and the venue's status words; what changed
    reads pUSD, probabilities, shares, UTC times and RESTING (a strategy's own small numbers stay)."""
    launched = change_summary(None, json.dumps({"capital": 10_000_000_000, "from_ms": 1_795_856_880_000,
                                                "params": {"size": 20, "half_spread": 0.02}}))
    assert launched == ("capital = 10,000.00 pUSD; from_ms = 2026-11-28 09:08:00 UTC; params.half_spread = 0.02; "
                        "params.size = 20")
    ticket = change_summary(None, json.dumps({"price": 450_000, "size": 20_000_000, "fee": 50_000,
                                              "orders": [{"id": 3, "status": "LIVE"}]}))
    assert ticket == 'fee = 0.05 pUSD; orders = [{"id": 3, "status": "RESTING"}]; price = 0.45; size = 20.00 sh'
    assert change_summary('{"status": "LIVE", "window_ms": 60000}', '{"status": "FILLED", "window_ms": 30000}') == \
        'status: "RESTING" → "FILLED"; window_ms: 60000 → 30000'  # a duration stays a number of ms


def test_log_tail(tmp_path: Path) -> None:
    assert tail(tmp_path / "missing.log") is None
    path = tmp_path / "engine.log"
    path.write_text("".join(f"line {i} " + "x" * 200 + "\n" for i in range(2000)) + "no newline at the end")
    lines = tail(path, 200)
    assert lines is not None and len(lines) == 200 and lines[-1] == "no newline at the end"
    assert lines[0].startswith("line 1801 ")
    assert mask(["key=abcdef123456 ok"], ["abcdef123456", "abc"]) == ["key=*** ok"]
    assert mask(["secret " + "A" * 43 + "= end"], []) == ["secret *** end"]  # shaped like an API secret
    assert parse('{"ts": "t", "level": "INFO", "logger": "l", "msg": "m", "x": 2}')["detail"] == '{"x": 2}'
    assert parse("[1, 2]")["msg"] == "[1, 2]"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0002, "0.0002"),
        (1e-05, "0.00001"),
        (10, "10"),
        (10000.0, "10000"),
        (None, ""),
        (Decimal("1E+3"), "1000"),
        (2.50, "2.5"),
    ],
)
def test_number_text(value: object, shown: str) -> None:
    assert number_text(value) == shown


def test_arm_refusals_name_each_failing_check_and_what_an_override_may_pass() -> None:
    gate = Gate("polymarket", (Check("preflight", False, "none in the last hour", "run it"),
                               Check("engine stopped", True, "it is STOPPED", "stop it", overridable=False),
                               Check("a promoted strategy", False, "none", "promote one")))
    assert arm_refusals(gate, typed="LIVE", word="LIVE", override="preflight, a promoted strategy") == []
    assert gate.refusal("a promoted strategy,preflight") is None  # the engine's own reading of the same override
    said = arm_refusals(gate, typed="live", word="LIVE", override="preflight, engine stopped")
    assert said[0].startswith("a promoted strategy: none") and "engine stopped" in said[1] and "Type LIVE" in said[2]
    hard = Gate("polymarket", (Check("engine stopped", False, "it is RUNNING", "stop it", overridable=False),))
    assert arm_refusals(hard, typed="LIVE", word="LIVE", override="engine stopped") == [
        "engine stopped: it is RUNNING. Fix: stop it (no override)",
        "The override names what is not a failing check it may pass: engine stopped."]
    assert hard.refusal("engine stopped") is not None


def test_utc_day_ms_spans_the_whole_utc_day() -> None:
    start = 1_767_312_000_000  # 2026-01-02T00:00:00Z
    assert utc_day_ms(date(2026, 1, 2), end=False) == start
    assert utc_day_ms(date(2026, 1, 2), end=True) == start + 86_400_000 - 1  # inclusive end
    assert utc_day_ms(None, end=True) is None


def test_money_and_percent_axes_never_use_si_suffixes() -> None:
    """Charts read "10,001.50" and "-0.04 %", not "10.0015k" or "−400μ" (plotly's default SI format)."""
    import pandas as pd

    from pages.widgets import figures

    curve = pd.DataFrame({"at": pd.to_datetime([0, 60_000], unit="ms", utc=True), "equity": [10_000.0, 10_001.5],
                          "peak": [10_000.0, 10_001.5], "drawdown_pct": [0.0, 0.0004]})
    fig = figures.equity_figure(curve, "paper")
    assert list(fig.layout.yaxis.ticktext) == ["10,000.00", "10,000.50", "10,001.00", "10,001.50"]
    assert list(fig.layout.yaxis2.ticktext) == ["-0.010 %", "-0.005 %", "0.000 %"]
    exposure = figures.exposure_figure(pd.DataFrame({"label": ["a"], "exposure": [12.5]}), "label", "x", 20.0)
    assert exposure.layout.xaxis.tickformat == ",.2f"
    assert figures.CHART_CONFIG["displayModeBar"] is False  # no toolbar over titles and legends
