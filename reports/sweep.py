"""A sweep as the Sweep tab shows it, to keep: one self-contained HTML report (its settings, the
trials table, the objective by trial and against each param, Optuna's importance, the held-out
scores) and a CSV of its trials.

A sweep keeps scores, not ledgers: of each trial's backtest only its metrics are kept (its
orders and fills stay in a scratch database the next trial replaces), so there are no fills or
orders to export; a trial worth a closer look is re-run as a backtest with its params
(Backtest page), whose report and CSV files have them.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from charts import sweep as figures
from charts.history_words import best_trial_ends
from charts.tables import Col
from contracts import spreadsheet_csv
from reports.page import Section, render
from storage.research.sweep_queries import SweepView

DAY_MS = 86_400_000


def short_data_note(spec: dict[str, Any]) -> str:
    """A warning when the scores (per day) are scaled up from less than a day of training data:
    a Sharpe of 23.7 "per day" from 11 minutes ranks the trials, it forecasts nothing ("" when a
    day or more)."""
    start, end = spec.get("from_ms"), spec.get("to_ms")
    if not isinstance(start, (int, float)) or not isinstance(end, (int, float)) or end <= start:
        return ""
    share = spec.get("train_fraction")
    training = (end - start) * (share if isinstance(share, (int, float)) and 0 < share < 1 else 1)
    if training >= DAY_MS:
        return ""
    minutes = training / 60_000
    span = f"{minutes:.0f} minutes" if minutes < 120 else f"{minutes / 60:.1f} hours"
    return (f"Scores are per day, scaled up from {span} of training data: read them as a ranking of these "
            "trials, not as what a day of trading would earn. Sweep over a day or more of data for figures "
            "that mean something on their own.")


def pnl_columns(prefix: str = "", when: str = "") -> dict[str, Col]:
    """A run's PnL with its 95 % interval and p-value against zero (engine/backtest/confidence.py)."""
    return {f"{prefix}pnl": Col(f"PnL{when}", "usdc"), f"{prefix}pnl_low": Col("95 % from", "usdc"),
            f"{prefix}pnl_high": Col("95 % to", "usdc"), f"{prefix}pnl_p": Col("p against 0", "ratio"),
            f"{prefix}pnl_sure": Col("how sure", "long")}


def trial_columns(view: SweepView) -> dict[str, Col]:
    return {"number": Col("trial"), "state": Col("state"), "value": Col("score (training)", "money4"),
            "test": Col("score (held out)", "money4"), **pnl_columns(when=" (training)"),
            **{p: Col(p) for p in view.params}, "why": Col("why undefined", "long")}


def held_out_columns(view: SweepView) -> dict[str, Col]:
    return {"number": Col("trial"), "train": Col("score (training)", "money4"),
            "test": Col("score (held out)", "money4"), **pnl_columns("test_", " (held out)"),
            **{p: Col(p) for p in view.params}}


def trials_csv(view: SweepView) -> bytes:
    """Every trial: number, state, training score, each param, held-out score, why undefined."""
    return spreadsheet_csv.frame_csv(view.trials)


def _utc(ms: Any) -> str:
    if not isinstance(ms, (int, float)):
        return "—"
    return pd.Timestamp(int(ms), unit="ms", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


def facts(view: SweepView) -> str:
    spec = view.spec
    split = spec.get("train_fraction")
    folds = spec.get("walk_forward")
    held = (f"last {1 - split:.0%} held out" if isinstance(split, (int, float))
            else f"walk-forward, {folds} folds" if folds else "no hold-out")
    markets = len(spec.get("markets") or []) or "every"
    return (f"{spec.get('kind')} · objective {spec.get('objective')} (per day) · {spec.get('sampler')} · "
            f"{_utc(spec.get('from_ms'))} → {_utc(spec.get('to_ms'))} · {held} · {markets} markets · "
            f"seed {spec.get('seed')} · {view.done} of {view.wanted} trials")


def sweep_report(view: SweepView, importance: dict[str, float]) -> str:
    """The HTML report of a sweep (finished or not: it says how many trials it has)."""
    objective = str(view.spec.get("objective", ""))
    summary = Section("Settings and best trial")
    note = short_data_note(view.spec)
    if note:
        summary.warning(note)
    if view.best:
        summary.text(f"Best trial {view.best['number']}: score {view.best['value']:.4g} with "
                     + json.dumps(view.best["params"], sort_keys=True))
        sure = figures.best_pnl_line(view.best, view.done)
        if sure:
            summary.text(sure)
        for line in best_trial_ends(view.best):  # how its markets ended (positions valued at their last mid)
            summary.text(line)
    summary.text("Search space: " + json.dumps(view.spec.get("space", {}), sort_keys=True)
                 + " · fixed params: " + json.dumps(view.spec.get("base_params", {}), sort_keys=True))
    charts = Section("Objective")
    charts.chart(figures.history_figure(view.trials, objective))
    space = view.spec.get("space") or {}
    for param in view.params:
        bounds = space.get(param)
        charts.chart(figures.param_figure(view.trials, param, objective, bounds if isinstance(bounds, list) else None))
    charts.chart(figures.importance_figure(importance))
    trials = Section("Trials")
    if view.trials.empty:
        trials.text("No trial yet.")
    else:
        trials.table(view.trials, trial_columns(view), f"{len(view.trials):,} trials")
    sections = [summary, charts, trials]
    if view.out_of_sample:
        oos = Section("Out of sample")
        for line in figures.out_of_sample_lines(view.out_of_sample):
            oos.text(line)
        ranking = pd.DataFrame(view.out_of_sample.get("ranking", []))
        if not ranking.empty:
            ranking = pd.concat([ranking.drop(columns=["params"]), pd.json_normalize(ranking["params"])], axis=1)
            oos.table(ranking, {"number": Col("trial"), "held_out": Col("score (held out)", "money4"),
                                "in_sample": Col("score (in sample)", "money4"), **{p: Col(p) for p in view.params}},
                      "Trials by held-out score")
        sections.append(oos)
    if not view.held_out.empty:
        held = Section("Held-out period")
        held.text("The best trials re-run on data they were not chosen on: a score far below its training score "
                  "is overfitting; a PnL interval that spans zero shows no edge there.")
        held.table(view.held_out, held_out_columns(view))
        sections.append(held)
    return render(f"Sweep {view.name}", facts(view), sections)
