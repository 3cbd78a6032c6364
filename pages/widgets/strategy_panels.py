"""Strategies page pieces: the instances table, the edit panel with optimistic concurrency,
and the create form.

The edit form shows a *baseline*: the row as it was when the operator opened it, kept in
session state. Saving sends that baseline's version, so a change made elsewhere in between
(another tab, the engine disabling a failing strategy) is refused with "changed elsewhere —
reload" instead of being overwritten. Widget keys carry the version, so after a save or a
reload the fields start again from the new row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from charts.tables import Col, promoted
from contracts.jsonsafe import read_stored
from contracts.strategy_fit import ORDER_SIZE_PARAMS
from contracts.strategy_kinds import registry
from contracts.venue_policies import policy_of
from contracts.venues import desk_venue
from pages.widgets.common import actor, flash, read_only
from pages.widgets.controls import saved_then_reload
from pages.widgets.fields import ErrorSlots, reload_round, start_afresh
from pages.widgets.settings_panels import check_line
from pages.widgets.strategy_form import strategy_form
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries import portfolio_queries, status_queries, trading_queries
from storage.dashboard_queries import strategy_fit_queries as fit_queries
from storage.desk import config, desk_status
from storage.desk import strategy_lifecycle as lifecycle
from storage.sqlite.db import Database

BASELINES = "strategy_baselines"
# Where each strategy's controls answer, one place per strategy (f"{...}{name}_"): its save (the form's
# button); promoting to live or back to paper; Enable, Disable, Pause and Resume. Each answer holds
# while the strategy stays at the version it left (another change, anyone's, ends it).
STRATEGY_SAVED = "strategy_saved_"
STRATEGY_PROMOTED = "strategy_promoted_"
STRATEGY_CONTROLS = "strategy_controls_"
PICK, PICK_NEXT = "strategy_pick", "strategy_pick_next"
NEW = "➕ New strategy"
NEW_KIND, NEW_PREFIX = "strategy_new_kind", "strategy_new"
NEW_NAME, NEW_ENABLED = "strategy_new_name", "strategy_new_enabled"
RELOAD, TOGGLE = "strategy_reload", "strategy_toggle"
PAUSE, DELETE, DELETE_NAME, DELETE_CONFIRM, DELETE_BACK = (
    "strategy_pause", "strategy_delete", "strategy_delete_name", "strategy_delete_confirm", "strategy_delete_back")
DELETING = "strategy_deleting"  # the strategy whose deletion awaits its confirmation
PROMOTE, PROMOTE_TYPED, DEMOTE = "strategy_promote", "strategy_promote_typed", "strategy_demote"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def edit_prefix(name: str, version: int) -> str:
    """The edit form's widget prefix: a new version or a Reload starts its fields afresh."""
    return f"strategy_{name}_v{version}{reload_round(f'strategy_{name}')}"


# What the operator decides on first (it fits 1366 px; the last error while any strategy has one),
# the rest on demand.
INSTANCE_COLUMNS = {
    "name": Col("name", "name"),
    "kind_words": Col("kind"),
    "state": Col("state"),
    "idle": Col("not trading because", "long"),
    "trades": Col("trades"),
    "ledger": Col("ledger now"),
    "status": Col("status"),
    "realized": Col("realized after fees", "usdc"),  # on the ledger it trades now ("ledger now")
    "fees": Col("fees", "usdc"),
    "open_cost": Col("open cost", "usdc"),
    "open_positions": Col("open positions", "int"),
    "last_error": Col("last error", "long", more=True),
    "updated_at": Col("updated", "time", more=True),  # a detail: "not trading because" needs the room at 1366 px
    "enabled": Col("enabled", "flag", more=True),
    "paused": Col("paused", "flag", more=True),
    "markets": Col("markets", "long", more=True),
    "version": Col("version", more=True),
    "updated_by": Col("by", more=True),
}


def ledger_of(row: trading_queries.StrategyRow | None, status: desk_status.EngineStatus) -> str:
    """Where a strategy trades now: a paper-only one on paper whatever the desk's mode (beside
    live strategies on a live desk, engine/trading/passes/ledger.py); one naming another venue's markets
    in that venue's own armed mode (live only once promoted: until then its paper record stays on show);
    the others in the desk's mode."""
    mode = status.mode_of(row.venue) if row is not None else status.mode
    return mode if row is None or row.live else "paper"


def instances_table(db: Database, status: desk_status.EngineStatus) -> dict[str, trading_queries.StrategyRow]:
    """The table of instances, each with the figures of the ledger it trades in now and why it places
    nothing, when it does not (storage/desk/desk_idle.py); returns their rows by name (in table order)
    for the edit panel."""
    mode = status.mode
    frame = trading_queries.strategies(db)
    if frame.empty:
        st.caption("No strategies yet: create one below.")
        return {}
    other_venue = frame["venue"] != desk_venue()  # on a venue armed on its own: its own mode, said after its name
    venue_mode = frame["venue"].map(status.mode_of)
    frame["ledger"] = venue_mode.where(frame["live"].astype(bool), "paper")
    pnl = pd.concat([portfolio_queries.strategy_pnl(db, m).assign(ledger=m)
                     for m in sorted({mode, *status.venue_modes.values(), "paper"})])
    merged = frame.merge(pnl.rename(columns={"strategy": "name"}), on=["name", "ledger"], how="left").fillna(
        {"realized": 0.0, "fees": 0.0, "open_cost": 0.0, "open_positions": 0}
    )
    merged["realized"] = merged["realized"] - merged["fees"]  # after fees, as every page reads PnL
    label = frame["venue"].map(lambda venue: policy_of(venue).label)
    held = other_venue & (venue_mode == "live") & ~frame["live"].astype(bool)  # waits while its venue trades live
    merged["ledger"] = merged["ledger"].where(~other_venue, merged["ledger"] + " on " + label).where(
        ~held, "held: paper only, " + label + " live")
    merged["markets"] = merged["markets"].map(_markets_summary)
    merged["kind_words"] = merged["kind"].str.replace("_", " ")  # words wrap where an identifier cannot
    merged["state"] = [("paused" if paused else "on") if enabled else "off"
                       for enabled, paused in zip(merged["enabled"], merged["paused"], strict=True)]
    idle = status_queries.strategies_idle(db, status)
    merged["idle"] = merged["name"].map(lambda name: idle.get(name, ""))
    failing = bool(merged["last_error"].fillna("").astype(str).str.len().gt(0).any())
    show_table(merged, promoted(INSTANCE_COLUMNS, "last_error") if failing else INSTANCE_COLUMNS,
               height=rows_height(len(merged)), key="strategies")
    if mode == "live" and not frame["live"].all():
        st.caption("Paper-only strategies trade on paper beside the live ones: their own ledger, limits and PnL, "
                   "never an order at the venue, until promoted (Settings tab).")
    return trading_queries.strategy_rows(frame)


def _markets_summary(raw: str) -> str:
    spec, problem = read_stored(raw or "[]", what="stored markets")
    if problem:
        return f"invalid: {problem}"
    if isinstance(spec, list):
        return f"{len(spec)} listed"
    if isinstance(spec, dict) and isinstance(spec.get("filter"), dict):
        return "filter: " + ", ".join(f"{k}={v}" for k, v in spec["filter"].items())
    return "invalid"


def _baseline(db: Database, name: str, row: trading_queries.StrategyRow) -> trading_queries.StrategyRow:
    baselines: dict[str, trading_queries.StrategyRow] = st.session_state.setdefault(BASELINES, {})
    return baselines.setdefault(name, row)


def _refresh_baseline(db: Database, name: str) -> None:
    row = trading_queries.strategy_row(db, name)
    baselines = st.session_state.setdefault(BASELINES, {})
    if row is None:
        baselines.pop(name, None)
    else:
        baselines[name] = row


def _status_line(row: trading_queries.StrategyRow) -> None:
    state = ("enabled, paused" if row.paused else "enabled") if row.enabled else "disabled"
    st.markdown(
        f"**{text.markdown(row.name)}** · {text.markdown(row.kind)} · {state} · "
        f"status **{text.markdown(row.status)}** · "
        f"version {row.version} · last changed by {text.markdown(row.updated_by)}"
    )
    if row.problems:
        st.error(
            "This strategy's configuration cannot be read: " + text.markdown("; ".join(row.problems))
            + ". The form below "
            "starts from the kind's defaults where it cannot; saving replaces the stored value.",
            icon=":material/error:",
        )
    if row.status == "error":
        st.error(
            f"The engine disabled this strategy: {text.markdown(row.last_error or 'no message')}. "
            "Fix its configuration "
            "and enable it again.",
            icon=":material/error:",
        )
    elif row.enabled and row.selected == 0:
        st.warning(
            "Its market list or filter selects no market the engine knows, so it quotes nothing. "
            "Widen the filter (or pick markets) below.",
            icon=":material/search_off:",
        )
    elif row.enabled and row.selected is not None:
        st.caption(f"Selects {row.selected} market{'s' if row.selected != 1 else ''} now.")


def edit_panel(db: Database, name: str, row: trading_queries.StrategyRow | None) -> None:
    """`row` is the strategy as this run read it (for the status and the "changed elsewhere"
    check); a save still sends the baseline's version, and the write checks it."""
    if row is None:
        st.warning(f"Strategy '{text.markdown(name)}' no longer exists.")
        return
    if read_only(f"strategy {text.markdown(name)}"):
        _status_line(row)
        st.json({"kind": row.kind, "params": row.params, "markets": row.markets}, expanded=False)
        return
    base = _baseline(db, name, row)
    _status_line(row)
    if row.version != base.version:
        st.warning(
            f"This strategy was changed elsewhere (now version {row.version}; this form shows version "
            f"{base.version}) — reload to edit the current one.",
            icon=":material/sync_problem:",
        )
    left, right, third, fourth = st.columns(4)
    if left.button("Reload", key=RELOAD, icon=":material/refresh:"):
        _refresh_baseline(db, name)
        start_afresh(f"strategy_{name}")
        st.rerun()
    label = "Disable" if base.enabled else "Enable"
    if right.button(label, key=TOGGLE, icon=":material/power_settings_new:"):
        _save(
            db,
            name,
            lambda: config.set_strategy_enabled(
                db, name=name, version=base.version, enabled=not base.enabled, actor=actor()
            ),
            f"{text.markdown(name)} {label.lower()}d",
            near=STRATEGY_CONTROLS,
        )
    _pause_button(db, name, base, third)
    _delete_controls(db, name, base, fourth)
    flash(near=f"{STRATEGY_CONTROLS}{name}_", holds=str(row.version))  # what those buttons did, right under them
    _live_controls(db, name, base, row.version)
    if base.kind not in registry():
        st.error(f"Unknown strategy kind '{text.markdown(base.kind)}': this build cannot edit it.")
        return
    result = strategy_form(
        db,
        kind=base.kind,
        params=base.params,
        markets=base.markets,
        prefix=edit_prefix(name, base.version),
        submit_label="Save changes",
    )
    if result is not None:
        _save(
            db,
            name,
            lambda: config.save_strategy(
                db, name=name, version=base.version, params=result.params, markets=result.markets, actor=actor()
            ),
            f"{text.markdown(name)} saved",
        )
    flash(near=f"{STRATEGY_SAVED}{name}_", holds=str(row.version))  # what Save did, under the form's button


def _pause_button(db: Database, name: str, base: trading_queries.StrategyRow, column: Any) -> None:
    """Pause or resume this strategy alone (an enabled one): hosted, deciding nothing, its orders withdrawn."""
    if not base.enabled:
        return
    label = "Resume" if base.paused else "Pause"
    if column.button(label, key=PAUSE, icon=":material/play_arrow:" if base.paused else ":material/pause:",
                     help="Pause: this strategy decides nothing and its resting orders are withdrawn; its "
                          "stop-loss and take-profit still guard what it holds. Resume: it quotes again."):
        _save(db, name, lambda: lifecycle.set_strategy_paused(db, name=name, version=base.version,
                                                              paused=not base.paused, actor=actor()),
              f"{text.markdown(name)} {'resumed' if base.paused else 'paused'}", near=STRATEGY_CONTROLS)


def _live_controls(db: Database, name: str, base: trading_queries.StrategyRow, version: int) -> None:
    """Paper only, or live when the desk is: promoting is its own act (its checklist met: a paper
    record, its name typed; audited); going back to paper is one click."""
    if base.live:
        st.caption(":material/bolt: Trades live when the desk does.")
        if st.button("Back to paper only", key=DEMOTE, icon=":material/science:",
                     help="Its live orders are withdrawn; it trades on paper beside the live strategies"):
            _save(db, name, lambda: lifecycle.set_strategy_live(db, name=name, version=base.version, live=False,
                                                                typed="", actor=actor()),
                  f"{text.markdown(name)} is paper only", near=STRATEGY_PROMOTED)
        flash(near=f"{STRATEGY_PROMOTED}{name}_", holds=str(version))
        return
    st.caption(":material/science: **Paper only**: on a live desk it trades on paper beside the live strategies "
               "(its own ledger, limits and PnL; never an order at the venue). New strategies start so.")
    if read_only("promoting it to live", admin=True):  # arming: the administrator's
        return
    fills, realized = lifecycle.paper_record(db, name)
    typed = st.text_input(f"Type {name} to promote it to live", key=PROMOTE_TYPED)
    st.markdown("**Promoting it to live needs all of:**")
    check_line(fills > 0, f"a paper record of its own ({fills} paper fill{'s' if fills != 1 else ''}, realized "
                      f"{realized / 1e6:+,.2f} pUSD on paper)")
    check_line(typed.strip() == name, f"its name typed ({text.markdown(name)})")
    st.caption("Once promoted it places real orders whenever the desk trades live: set its capital and loss "
               "limits first (Capital, limits and exits tab).")
    if st.button("Promote to live", key=PROMOTE, icon=":material/bolt:"):
        _save(db, name, lambda: lifecycle.set_strategy_live(db, name=name, version=base.version, live=True,
                                                            typed=typed, actor=actor()),
              f"{text.markdown(name)} promoted to live", near=STRATEGY_PROMOTED)
    flash(near=f"{STRATEGY_PROMOTED}{name}_", holds=str(version))


def _delete_controls(db: Database, name: str, base: trading_queries.StrategyRow, column: Any) -> None:
    """Delete a disabled strategy, after typing its name: its history keeps it, the lists do not."""
    if base.enabled:
        return
    if column.button("Delete…", key=DELETE, icon=":material/delete:",
                     help="Delete this (disabled, flat) strategy: its orders, fills and audit rows keep its name"):
        st.session_state[DELETING] = name
    if st.session_state.get(DELETING) != name:
        return
    with st.container(border=True):
        st.warning(f"Delete strategy **{text.markdown(name)}**? It leaves the lists for good (its orders, fills, "
                   "decisions and audit rows stay, under its name, and no new strategy can take the name).",
                   icon=":material/delete_forever:")
        typed = st.text_input("Type its name to confirm", key=DELETE_NAME)
        go, back = st.columns(2)
        if back.button("Keep it", key=DELETE_BACK):
            st.session_state.pop(DELETING, None)
            st.rerun()
        if go.button("Delete for good", type="primary", key=DELETE_CONFIRM, icon=":material/delete_forever:"):
            if typed.strip() != name:
                st.error("Not deleted: the name typed does not match.")
                return
            st.session_state.pop(DELETING, None)
            _save(db, name, lambda: lifecycle.delete_strategy(db, name=name, version=base.version, actor=actor()),
                  f"{text.markdown(name)} deleted", near=PICK)  # by the picker: its own controls are gone


def _save(db: Database, name: str, write: Callable[[], config.Saved], what: str, *,
          near: str = STRATEGY_SAVED) -> None:
    """Write, then say so (and the engine's reload) at `near`, by the button pressed: one of this
    strategy's places (f"{near}{name}_", while it stays at the version saved), or the picker's."""
    try:
        saved = write()
    except config.StaleVersion as exc:
        st.error(f"Not saved: {text.markdown(exc)}.", icon=":material/sync_problem:")
        return
    except config.ConfigError as exc:
        st.error(f"Not saved: {text.markdown(exc)}.")
        return
    _refresh_baseline(db, name)
    own = near != PICK
    saved_then_reload(db, saved.reload_command_id, flash=f"{what} (version {saved.version}).",
                      label="The engine's reload of the configuration", near=f"{near}{name}_" if own else near,
                      holds=str(saved.version) if own else None)


def _name_errors(existing: list[str]) -> Callable[[dict[str, Any]], dict[str, str]]:
    def check(values: dict[str, Any]) -> dict[str, str]:
        name = values["name"].strip()
        if not NAME_RE.match(name):
            return {
                "name": "1–64 characters: letters, digits, '_', '.', '-' (starting with a letter or digit)"
            }
        if name in existing:
            return {"name": f"a strategy named {name!r} already exists"}
        return {}

    return check


def _name_fields(slots: ErrorSlots) -> dict[str, Any]:
    name = st.text_input("Name (unique)", key=NEW_NAME, placeholder="e.g. mm-btc")
    slots.add("name", "Name")
    enabled = st.checkbox("Enable it now", key=NEW_ENABLED, value=False,
                          help="Off: it is saved and places nothing until you enable it (Enable, on its Settings "
                               "tab). New strategies trade on paper only until promoted, whatever the desk's mode.")
    return {"name": name, "enabled": enabled}


def _suggested(db: Database, kind: str) -> dict[str, Any]:
    """A new strategy's starting values: its kind's defaults, with an order size that trades where the desk
    trades (at least the minimum of 90 % of the open markets it knows: 15 on the simulator, where a default of
    10 traded almost nowhere), never below the kind's own default nor above its bound."""
    spec = next((p for p in registry()[kind].params_schema if p.name in ORDER_SIZE_PARAMS), None)
    usual = fit_queries.usual_min_size(db)
    if spec is None or usual is None or not isinstance(spec.default, (int, float)) or usual <= spec.default:
        return {}
    return {spec.name: min(usual, spec.maximum) if spec.maximum is not None else usual}


def create_panel(db: Database, existing: list[str]) -> None:
    if read_only("creating a strategy"):
        return
    kinds = registry()
    kind = st.selectbox("Kind", list(kinds), key=NEW_KIND, format_func=lambda k: f"{kinds[k].title} ({k})")
    st.caption(kinds[kind].description)
    result = strategy_form(
        db,
        kind=kind,
        params=_suggested(db, kind),
        markets=[],
        prefix=f"{NEW_PREFIX}_{kind}",
        submit_label="Create strategy",
        extra=_name_fields,
        extra_errors=_name_errors(existing),
    )
    if result is None:
        return
    name = result.extra["name"].strip()
    try:
        saved = config.create_strategy(
            db,
            name=name,
            kind=kind,
            params=result.params,
            markets=result.markets,
            enabled=result.extra["enabled"],
            actor=actor(),
        )
    except config.ConfigError as exc:
        st.error(f"Not created: {text.markdown(exc)}.")
        return
    st.session_state[PICK_NEXT] = name  # applied before the picker renders on the next run
    off = "" if result.extra["enabled"] else " It is off: it places nothing until you press Enable (below)."
    saved_then_reload(db, saved.reload_command_id, flash=f"Strategy {text.markdown(name)} created.{off}",
                      label="The engine's reload of the configuration", near=PICK, holds=name)
