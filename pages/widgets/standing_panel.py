"""The standing orders working in one market, under its ticket on the Markets page: each iceberg (its
price, what it has filled of the whole, the slice shown) and each trailing stop (whose it is, its high,
where it sells, its floor), with a Cancel for the operator's own (`cancel_iceberg`,
`cancel_trailing_stop`: the engine ends it and cancels its shown slice). A strategy's trailing stop
follows its limit on the Strategies page: it is shown, not cancelled here."""

from __future__ import annotations

from typing import Any

import streamlit as st

from charts import text
from pages.widgets.common import flash, read_only, remember_answer
from pages.widgets.controls import post_and_wait
from storage.dashboard_queries import standing_queries
from storage.sqlite.db import Database

CANCEL_ICEBERG, CANCEL_TRAIL = "so_cancel_iceberg_", "so_cancel_trail_"
NEAR = "so_cancel"


def _p(micros: int | None) -> str:
    return "none" if micros is None else f"{micros / 1e6:.3f}"


def _sh(micros: int) -> str:
    return f"{micros / 1e6:,.2f}"


def standing_panel(db: Database, condition_id: str, mode: str) -> None:
    found = standing_queries.working(db, condition_id, mode)
    if not found["icebergs"] and not found["trails"]:
        return
    st.markdown("**Standing orders in this market**")
    can = not read_only("cancelling standing orders")
    for ice in found["icebergs"]:
        _row(db, f"Iceberg #{ice['id']}: {ice['side']} {ice['outcome']} at {_p(ice['price'])}, {_sh(ice['filled'])} of "
             f"{_sh(ice['total'])} filled, {_sh(ice['slice'])} shown at a time",
             f"{CANCEL_ICEBERG}{ice['id']}" if can else None, "cancel_iceberg", {"iceberg_id": ice["id"]})
    for trail in found["trails"]:
        whose = "yours" if trail["strategy"] == "manual" else f"strategy {trail['strategy']}'s"
        state = "fired, selling" if trail["status"] == "TRIGGERED" else (
            f"sells at or below {_p(trail['high_water'] - trail['distance'])}")
        _row(db, f"Trailing stop #{trail['id']} ({text.markdown(whose)}) on {trail['outcome']}: high "
             f"{_p(trail['high_water'])}, {state}, floor {_p(trail['floor'])}",
             f"{CANCEL_TRAIL}{trail['id']}" if can and trail["strategy"] == "manual" else None,
             "cancel_trailing_stop", {"trail_id": trail["id"]})
    flash(near=NEAR)


def _row(db: Database, line: str, key: str | None, kind: str, payload: dict[str, Any]) -> None:
    cols = st.columns([5, 1])
    cols[0].markdown(line)
    if key is not None and cols[1].button("Cancel", key=key, icon=":material/cancel:"):
        with st.spinner("Cancelling…"):
            answer = post_and_wait(db, kind, payload, label=line.split(":")[0], wait_s=10)
        remember_answer(answer, key=f"{NEAR}answer")
        st.rerun()

