"""Pure plotly builders for a sweep (no streamlit): the objective by trial with the best so far,
the objective against each searched param, and Optuna's parameter importance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.axes import padded, whole_dtick
from charts.style import AMBER, BLUE, GREEN, GREY, LAYOUT, empty_figure
from contracts.metrics import interval_words

OBJECTIVE_LABELS = {"sharpe": "Sharpe per day", "return": "return per day", "calmar": "return per day / max drawdown",
                    "markout": "60 s markout per day (pUSD)"}


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["state"] == "COMPLETE"].sort_values("number")


def history_figure(trials: pd.DataFrame, objective: str) -> go.Figure:
    """Each complete trial's score in trial order, the best so far as a step line."""
    title = "Objective by trial"
    done = _complete(trials)
    if done.empty:
        return empty_figure(title, "No complete trial yet")
    label = OBJECTIVE_LABELS.get(objective, objective)
    fig = go.Figure([
        go.Scatter(x=done["number"], y=done["value"], mode="markers", name="trial", marker_color=BLUE),
        go.Scatter(x=done["number"], y=done["value"].cummax(), mode="lines", name="best so far",
                   line_color=GREEN, line_shape="hv"),
    ])
    numbers = [int(n) for n in done["number"]]
    # Trials are whole numbers: a step of 1 or more, and room so the first and last are not cut.
    fig.update_xaxes(title_text="trial", tick0=0, dtick=whole_dtick(max(numbers) - min(numbers) + 1),
                     range=[min(numbers) - 0.5, max(numbers) + 0.5])
    fig.update_yaxes(title_text=text.plotly(label),
                     range=list(padded([*done["value"], *done["value"].cummax()]) or (0, 1)))
    fig.update_layout(title=title, height=300, **{**LAYOUT, "hovermode": "closest"})
    return fig


def param_figure(trials: pd.DataFrame, param: str, objective: str, bounds: Sequence[Any] | None = None) -> go.Figure:
    """The score of each complete trial against one param's value (held-out scores beside them),
    over the searched range `bounds` ([low, high, scale?] from the spec; the data's own range
    when the param is a choice), so a few trials are not squashed into a corner."""
    title = f"Objective vs {param}"
    done = _complete(trials)
    if done.empty:
        return empty_figure(title, "No complete trial yet")
    numeric = pd.to_numeric(done[param], errors="coerce")
    if numeric.notna().all():  # a numeric param: a numeric axis (an object column became categories)
        done = done.assign(**{param: numeric})
    traces = [go.Scatter(x=done[param], y=done["value"], mode="markers", name="training",
                         marker=dict(color=BLUE, size=8), text=[f"trial {n}" for n in done["number"]])]
    tested = done[done["test"].notna()]
    if not tested.empty:
        traces.append(go.Scatter(x=tested[param], y=tested["test"], mode="markers", name="held out",
                                 marker=dict(color=AMBER, size=10, symbol="diamond"),
                                 text=[f"trial {n}" for n in tested["number"]]))
    fig = go.Figure(traces)
    fig.update_xaxes(title_text=text.plotly(param), **_param_axis(done[param], bounds))
    scores = [*done["value"], *tested["test"]]
    fig.update_yaxes(title_text=text.plotly(OBJECTIVE_LABELS.get(objective, objective)),
                     range=list(padded(scores) or (0, 1)))
    fig.update_layout(title=text.plotly(title), height=280, **{**LAYOUT, "hovermode": "closest"})
    return fig


def _param_axis(values: pd.Series, bounds: Sequence[Any] | None) -> dict[str, Any]:
    """Axis settings for a param: its searched range (log scale if searched so), else its data."""
    if not pd.api.types.is_numeric_dtype(values):
        return {"type": "category"}
    if bounds is not None and len(bounds) >= 2 and all(isinstance(b, (int, float)) for b in bounds[:2]):
        low, high = float(bounds[0]), float(bounds[1])
        if len(bounds) > 2 and bounds[2] == "log" and low > 0:
            return {"type": "log", "range": [math.log10(low / 1.1), math.log10(high * 1.1)]}
        span = padded([low, high, *values.dropna()], share=0.05)
        return {"range": list(span)} if span else {}
    span = padded(list(values.dropna()))
    return {"range": list(span)} if span else {}


def importance_figure(importance: dict[str, float]) -> go.Figure:
    """Optuna's parameter importance (shares of the objective's variance), largest on top."""
    title = "Parameter importance"
    if not importance:
        return empty_figure(title, "Needs at least two complete trials with different scores")
    ordered = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in ordered], y=[text.plotly(k) for k, _ in ordered], orientation="h",
                           marker_color=GREY, text=[f"{v:.0%}" for _, v in ordered], textposition="auto"))
    fig.update_xaxes(title_text="importance", tickformat=".0%", range=[0, 1])
    fig.update_layout(title=title, height=80 + 40 * len(ordered), **{**LAYOUT, "hovermode": "closest"})
    return fig


def out_of_sample_lines(verdict: dict[str, Any]) -> list[str]:
    """A walk-forward sweep's verdict in sentences (engine/backtest/sweep_oos.py says how it is made)."""
    def score(value: Any) -> str:
        return "—" if not isinstance(value, (int, float)) else f"{value:+.4g}"

    folds = verdict.get("folds")
    lines = [f"Walk-forward over {folds} folds: each trial tuned on a window and tested on the next; the trials "
             "below are ranked by their held-out score."]
    best = verdict.get("best_in_sample")
    if best:
        lines.append(f"The best trial in sample (#{best['number']}) scored {score(best['in_sample'])} where it was "
                     f"tuned and {score(best['held_out'])} held out: tuning overstates it by "
                     f"{score(best['overstates_by'])}.")
    walk = verdict.get("walk_forward") or {}
    if walk.get("picks"):
        lines.append(f"Walk-forward score (each fold's best tuned trial, on the next window): {score(walk['score'])}, "
                     f"overstated in tuning by {score(walk['overstates_by'])}.")
    dsr = verdict.get("deflated_sharpe")
    lines.append("Deflated Sharpe ratio of the best held-out trial: "
                 + ("— (too few returns, or no variation)" if not isinstance(dsr, (int, float)) else
                    f"{dsr:.2f} (the chance its held-out Sharpe beats the best of {verdict.get('trials')} trials of no "
                    "skill; near 1: unlikely to be luck, 0.5 or below: no evidence of skill)"))
    return lines


def best_pnl_line(best: dict[str, Any] | None, trials: int) -> str:
    """How sure the best trial's PnL is, in a sentence ("" without a best trial or its PnL): its 95 %
    interval and p-value over its fills (engine/backtest/confidence.py), and why the best of many
    trials looks surer than it is."""
    metrics = (best or {}).get("metrics") or {}
    start, end = metrics.get("start_equity"), metrics.get("end_equity")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
        return ""
    head = f"Best trial {best['number']}: PnL {end - start:+,.2f} pUSD"  # type: ignore[index]  # best is set here
    low, high, p = metrics.get("pnl_low"), metrics.get("pnl_high"), metrics.get("pnl_p_value")
    words = interval_words(metrics)
    if not all(isinstance(v, (int, float)) for v in (low, high, p)):
        return f"{head} ({words or 'no interval kept'})."
    return (f"{head} (95 %: {low:+,.2f} to {high:+,.2f}, p = {p:.3f} against zero, {words}). The best of "
            f"{trials} trials looks surer than it is: this is not corrected for the trials tried; the held-out "
            "figures (and a walk-forward sweep's deflated Sharpe ratio) are the check.")
