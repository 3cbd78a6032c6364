"""Audit & alerts pieces: the audit trail with a before/after diff, alerts with acknowledge,
and the engine log's tail (read-only)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from charts.tables import Col
from contracts.settings import secret_values
from pages.widgets.common import actor, flash, plural, read_only, settings
from pages.widgets.diff import audit_diff, change_summary, readable_payload
from pages.widgets.ids import ids_popover, market_ids_in
from pages.widgets.logtail import engine_log_path, mask, parse, tail
from pages.widgets.portfolio import ALERT_COLUMNS
from pages.widgets.tables import rows_height, show_table
from storage.dashboard_queries import status_queries as queries
from storage.dashboard_queries import trading_queries
from storage.dashboard_queries.named_frames import named_columns
from storage.desk import config
from storage.sqlite.db import Database

AUDIT_PAGE_SIZE = 100
LOG_LINES = 200
ALL = "(all)"
A_ACTION, A_ENTITY, A_PAGE, A_PICK = "audit_action", "audit_entity", "audit_page", "audit_pick"
AL_UNACKED, AL_LEVEL, AL_PICK, AL_ACK, AL_ACK_ALL = (
    "alerts_unacked",
    "alerts_level",
    "alert_pick",
    "alert_ack",
    "alert_ack_all",
)
LOG_LEVEL = "log_level"
AUDIT_COLUMNS = {
    "at": Col("at", "time"),
    "actor": Col("actor"),
    "action": Col("action"),
    "entity": Col("entity", "name"),
    "what_changed": Col("what changed", "long"),
    "before": Col("before", "long", more=True),
    "after": Col("after", "long", more=True),
    "id": Col("id", more=True),
}
LOG_COLUMNS = {"ts": Col("time (UTC)"), "level": Col("level"), "logger": Col("logger"), "msg": Col("message", "long"),
               "detail": Col("detail", "long")}


def audit_trail(db: Database) -> None:
    cols = st.columns([1, 2])
    action = cols[0].selectbox("Action", [ALL, *trading_queries.audit_actions(db)], key=A_ACTION)
    entity = cols[1].text_input(
        "Entity contains", key=A_ENTITY, placeholder="strategy:mm-btc, risk_limits, alert:"
    )
    chosen = None if action == ALL else action
    total = trading_queries.count_audit(db, action=chosen, entity=entity.strip() or None)
    pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
    page = st.pagination(pages, key=A_PAGE) if pages > 1 else 1
    frame = trading_queries.audit_log(
        db,
        action=chosen,
        entity=entity.strip() or None,
        limit=AUDIT_PAGE_SIZE,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    st.caption(f"{total:,} entries match · page {page} · newest first")
    if frame.empty:
        return
    changed = [change_summary(b, a) for b, a in zip(frame["before"], frame["after"], strict=True)]
    shown = frame.assign(before=frame["before"].map(readable_payload), after=frame["after"].map(readable_payload),
                         what_changed=changed)
    # Markets by their question (the entry's detail below keeps the ids, and its Ids box copies them).
    shown = named_columns(db, shown, "entity", "what_changed", "before", "after")
    show_table(shown, AUDIT_COLUMNS, height=rows_height(len(frame)), key="audit")
    rows = {int(r["id"]): r for r in frame.to_dict("records")}
    named = dict(zip(shown["id"].astype(int), shown["entity"], strict=True))
    pick = st.selectbox(
        "Show what changed in entry",
        list(rows),
        key=A_PICK,
        format_func=lambda i: f"#{i} · {rows[i]['action']} · {named[i]}",
    )
    entry = rows[pick]
    ids_popover({"entity (as stored)": str(entry["entity"]),
                 **{f"market {n}": cid for n, cid in enumerate(market_ids_in(entry["entity"], entry["before"],
                                                                              entry["after"]), start=1)}},
                key="audit_ids", label="Ids in this entry")
    diff = audit_diff(entry["before"], entry["after"])
    if diff:
        st.dataframe(pd.DataFrame(diff), hide_index=True, key="audit_diff", placeholder="—")
    else:
        st.caption("No field changed.")


def alerts_panel(db: Database) -> None:
    cols = st.columns([1, 1, 2], vertical_alignment="bottom")
    unacked = cols[0].toggle("Unacknowledged only", value=True, key=AL_UNACKED)
    level = cols[1].selectbox("Level", [ALL, "critical", "warning", "info"], key=AL_LEVEL)
    frame = queries.alerts(db, unacked_only=unacked, level=None if level == ALL else level, limit=200)
    if frame.empty:
        st.caption("No alerts match.")
        flash(near=AL_ACK)  # the acknowledgement that emptied the list says so here
        return
    show_table(frame, ALERT_COLUMNS, height=rows_height(len(frame)))
    open_ids = [int(i) for i in frame.loc[frame["acked_at"].isna(), "id"]]
    if not open_ids or read_only("acknowledging an alert"):
        flash(near=AL_ACK)
        return
    messages = dict(zip(frame["id"].astype(int), frame["message"], strict=True))
    left, right = st.columns([3, 2], vertical_alignment="bottom")
    pick = left.selectbox("Alert", open_ids, key=AL_PICK, format_func=lambda i: f"#{i} · {messages[i][:90]}")
    buttons = right.container(horizontal=True)
    if buttons.button("Acknowledge", key=AL_ACK, icon=":material/done:", width="content"):
        _ack(db, [pick])
    every = f"Acknowledge all {len(open_ids)}" if len(open_ids) > 1 else "Acknowledge all"
    if buttons.button(every, key=AL_ACK_ALL, icon=":material/done_all:", width="content"):
        _ack(db, open_ids)
    flash(near=AL_ACK)


def _ack(db: Database, ids: list[int]) -> None:
    done = [i for i in ids if config.ack_alert(db, i, actor=actor())]
    st.session_state[f"{AL_ACK}flash"] = (f"Acknowledged {plural(len(done), 'alert')}." if done
                                          else "Already acknowledged.")
    st.rerun()


def log_tail(db: Database) -> None:
    current = settings()
    path = engine_log_path(current.root)
    lines = tail(path, LOG_LINES)
    if lines is None:
        st.info(f"No engine log at `{path}` (it appears when supervisord runs the engine).")
        return
    if not lines:
        st.caption(f"`{path}` is empty.")
        return
    # Newest first: the page opens on what just happened, not on the oldest line it kept.
    records = pd.DataFrame([parse(line) for line in reversed(mask(lines, secret_values(current)))])
    level = st.selectbox("Level", [ALL, "ERROR", "WARNING", "INFO", "DEBUG"], key=LOG_LEVEL)
    if level != ALL:
        records = records[records["level"] == level]
    st.caption(f"Last {len(lines)} lines of `{path}`, newest first (times UTC).")
    if not records.empty:  # the markets a line names by their question, as everywhere on the pages
        show_table(named_columns(db, records, "msg", "detail"), LOG_COLUMNS, height=rows_height(len(records)))
