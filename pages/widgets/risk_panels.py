"""Risk page pieces: trading state and kill latch, the limits form, the decisions log."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any

import streamlit as st

from charts import text
from charts.tables import Col
from contracts.limits import BY_NAME as LIMITS_BY_NAME
from contracts.limits import LIMITS, LimitError, LimitSpec, parse_value
from contracts.protection import unprotective
from pages.widgets import figures
from pages.widgets.common import actor, flash, utc
from pages.widgets.controls import engine_phase
from pages.widgets.dialogs import open_dialog
from pages.widgets.fields import number_text
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.kv_form import Field, Parse, versioned_form
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries import market_queries, portfolio_queries
from storage.dashboard_queries import status_queries as queries
from storage.desk import config, desk_status, limit_guard
from storage.sqlite.db import Database, now_ms

LIMITS_PREFIX = "limit_"
RISK_REARM = "risk_rearm"
DEC_STRATEGY, DEC_MARKET, DEC_REASON, DEC_WINDOW = "dec_strategy", "dec_market", "dec_reason", "dec_window"
DEC_LEDGER = "dec_ledger"
ALL = "(all)"
WINDOWS = {"last hour": 3_600_000, "last 24 h": 86_400_000, "last 7 days": 7 * 86_400_000, "everything": None}
# How a unit reads beside a limit's title: a volatility ratio is a multiple of its baseline; a correlation
# is a coefficient (0 to 1 here: its size, either sign), never a multiple of anything.
UNITS = {"percent": "%", "flag": "0 or 1", "ratio": "× baseline", "correlation": "correlation coefficient"}
ACTIONS = {
    "resize": "trims an order to fit",
    "deny": "refuses the order",
    "state": "changes the trading state",
    "exit": "sells the position (with the flatten path's slippage cap)",
}


def state_panel(db: Database, status: desk_status.EngineStatus) -> None:
    cols = st.columns(3)
    cols[0].metric(
        "Trading state",
        "KILLED" if status.kill_latched else status.trading_state,
        help="ACTIVE: normal · REDUCING: only risk-reducing orders · HALTED: no new orders · KILLED: the kill "
             "latch blocks every order until a re-arm",
    )
    cols[1].metric("Since", utc(status.trading_state_at) if status.trading_state_at else "—")
    cols[2].metric("Kill latch", "SET" if status.kill_latched else "not set")
    if status.trading_state != "ACTIVE":
        st.warning(f"Reason: {text.markdown(status.trading_state_reason or 'none recorded')}",
                   icon=":material/warning:")
    if status.kill_latched:
        st.error(
            f"Kill latch set: {text.markdown(status.kill_reason or 'no reason given')}. "
            "Re-arm clears it; the engine then "
            "stays STOPPED until you press Start.",
            icon=":material/block:",
        )
        if st.button("Re-arm…", key=RISK_REARM, icon=":material/lock_open:"):
            open_dialog("rearm", near=RISK_REARM)
            # This panel lives in the page's auto-refreshing fragment, where a click reruns only
            # the fragment; the dialog is drawn by the page outside it, so rerun the whole page
            # or it would not open until some later full rerun.
            st.rerun(scope="app")
    else:
        st.caption("The kill latch is not set: orders may be placed while the engine runs.")
    flash(near=RISK_REARM, holds=engine_phase(status))  # the re-arm's answer, where its button was, while true


# One breakdown at a time, full width: long market names need the room.
BREAKDOWNS = {
    "market": ("by_market", "question", "max_market_exposure"),
    "strategy": ("by_strategy", "strategy", "max_strategy_exposure"),
    "event": ("by_event", "question", "max_event_exposure"),
}
BREAKDOWN = "risk_breakdown"


def exposure_chart(usage: portfolio_queries.RiskUsage, limits: dict[str, Decimal]) -> None:
    by = st.segmented_control("Exposure by", list(BREAKDOWNS), default="market", key=BREAKDOWN, required=True)
    attr, label, limit = BREAKDOWNS[by or "market"]
    fig = figures.exposure_figure(
        getattr(usage, attr), label, f"Exposure by {by} (top 15)", float(limits[limit])
    )
    st.plotly_chart(fig, key="risk_exposure", width="stretch", config=CHART_CONFIG)


def _limit_parser(spec: LimitSpec) -> Parse:
    def parse(raw: str) -> tuple[Any, str]:
        try:
            return format(parse_value(spec, raw), "f"), ""
        except LimitError as exc:
            return None, str(exc)

    return parse


def _stored_text(spec: LimitSpec, stored: dict[str, Any] | None) -> str:
    """The stored value as the form shows it; an invalid one is shown as stored, to be fixed."""
    if not stored:
        return number_text(spec.default)
    try:
        return number_text(parse_value(spec, stored["value"]))
    except LimitError:
        return str(stored["value"])


def limit_field(spec: LimitSpec, stored: dict[str, Any] | None) -> Field:
    unit = UNITS.get(spec.unit, spec.unit)
    shown = _stored_text(spec, stored)
    help_text = (
        f"{spec.help} Allowed {number_text(spec.minimum)} … {number_text(spec.maximum)} {unit}; "
        f"default {number_text(spec.default)}. When hit it {ACTIONS[spec.action]}."
    )
    flag = spec.unit == "flag"  # on/off: a toggle, not 0/1 typed
    return Field(
        spec.name,
        spec.title if flag else f"{spec.title} ({unit})",
        help_text,
        shown,
        stored["version"] if stored else None,
        _limit_parser(spec),
        "toggle" if flag else "text",
    )


def limits_form(db: Database) -> None:
    rows = queries.risk_limit_rows(db)
    stored = {r["name"]: r for r in rows.to_dict("records")}
    invalid = [_invalid(spec, stored[spec.name]["value"]) for spec in LIMITS
               if spec.name in stored and _invalid(spec, stored[spec.name]["value"])]
    if invalid:
        st.error("Stored limits that do not validate (the engine keeps the valid value in force before; with "
                 "none to keep, as after a restart, trading is HALTED until they are fixed; a CONFIG_INVALID "
                 "alert names them): " + "; ".join(invalid) + ". Correct them below.",
                 icon=":material/error:")
    fields = [limit_field(spec, stored.get(spec.name)) for spec in LIMITS]
    with db.read() as conn:
        equity = limit_guard.desk_equity(conn)

    def save(changes: dict[str, tuple[Any, int | None]], confirmed: Collection[str]) -> config.Saved:
        return config.save_risk_limits(
            db, {k: config.Change(v, ver) for k, (v, ver) in changes.items()}, actor=actor(), confirmed=confirmed
        )

    def judge(name: str, shown: str) -> str | None:
        try:
            return unprotective("desk", name, parse_value(LIMITS_BY_NAME[name], shown), equity)
        except LimitError:
            return None  # an invalid stored value is reported above

    versioned_form(prefix=LIMITS_PREFIX, fields=fields, save=save, what="limits", columns=3, judge=judge,
                   admin=True)


def _invalid(spec: LimitSpec, raw: object) -> str:
    try:
        parse_value(spec, raw)
    except LimitError as exc:
        return f"{spec.title}: {str(raw)[:40]!r} ({exc})"
    return ""


DECISION_COLUMNS = {
    "at": Col("at", "time"),
    "reason": Col("reason"),
    "action": Col("action"),
    "question": Col("market", "name"),
    "strategy": Col("strategy"),
    "venue": Col("venue"),
    "approved": Col("approved", "shares"),
    "detail": Col("detail", "long"),
    "requested": Col("requested", "shares", more=True),
    "side": Col("side", more=True),
    "price": Col("price", "prob", more=True),
    "mode": Col("mode", more=True),
}


def decisions_log(db: Database, mode: str, *, paper_ledger: bool = False) -> None:
    """The gate's decisions of one ledger: the engine's mode's, or (on a live desk with paper-only
    strategies, `paper_ledger`) the paper ledger's, picked; paper and live never mix."""
    if mode == "live" and paper_ledger:
        mode = st.radio("Ledger", ["live", "paper"], horizontal=True, key=DEC_LEDGER,
                        help="paper: the paper ledger's strategies (paper only, beside live)")
    facets = portfolio_queries.decision_facets(db, mode)
    markets = market_queries.market_choices(db)
    labels = dict(zip(markets["condition_id"], markets["label"], strict=True))
    cols = st.columns(4)
    strategy = cols[0].selectbox("Strategy", [ALL, *facets["strategies"]], key=DEC_STRATEGY)
    market = cols[1].selectbox(
        "Market", [ALL, *labels], key=DEC_MARKET, format_func=lambda c: labels.get(c, c)
    )
    reason = cols[2].selectbox("Reason", [ALL, *facets["reasons"]], key=DEC_REASON)
    window = cols[3].selectbox("Time", list(WINDOWS), index=1, key=DEC_WINDOW)
    span = WINDOWS[window]
    frame = portfolio_queries.decisions(
        db,
        mode=mode,
        strategy=None if strategy == ALL else strategy,
        condition_id=None if market == ALL else market,
        reason=None if reason == ALL else reason,
        since_ms=None if span is None else now_ms() - span,
    )
    if frame.empty:
        st.caption(
            f"No trims or refusals match in {mode} mode: the gate let every quote through "
            "(or nothing was quoted)."
        )
        return
    show_table(frame, DECISION_COLUMNS, height=rows_height(len(frame)), key="decisions")
    st.caption(f"{len(frame)} newest {mode} decisions shown (at most 300).")
