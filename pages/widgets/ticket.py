"""The manual order ticket on the Markets page: fill it in, preview what it would do against
the recorded book (price, shares, cost, fee, resulting position), then confirm. Confirm posts
`place_order`, which the engine checks again against its own live book, through the same risk
gate and planner as a strategy's quote; the page shows the engine's answer (placed, or refused
with its reason). The order is the `manual` book's, cancellable from the Orders page.

With no recorded book for the outcome, a limit order is previewed at its worst case (the cost at
its limit, the fee as if all of it took liquidity) and a marketable one cannot be confirmed here:
there is no price to show the trader before they commit.

Two standing orders besides (contracts/standing_orders.py): an **iceberg** (the whole at a limit
price, shown a slice at a time, every slice checked against the market's minimum and lot and the
min order value before it can be placed) and a **trailing stop** on what the manual book holds (the
best bid it starts from, where it would sell now and its floor shown first). Those working in the
market are listed under the ticket, each with its Cancel (standing_panel.py)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from charts import text
from contracts.expiry import GTD_MAX_LEAD_S, GTD_MIN_LEAD_S
from contracts.standing_orders import (
    FLOOR,
    SLICE,
    TRAIL,
    parse_iceberg,
    parse_trail,
    slice_problem,
    slices,
    trail_preview,
)
from contracts.ticket import (
    Preview,
    TicketError,
    book_for_ticket,
    market_for_ticket,
    parse_ticket,
    preview,
)
from pages.widgets.common import flash, read_only, remember_answer, usdc
from pages.widgets.controls import post_and_wait
from pages.widgets.standing_panel import standing_panel
from storage.dashboard_queries import market_queries
from storage.dashboard_queries.market_names import short_question
from storage.sqlite.db import Database

TICKET_PREVIEWED = "ticket_previewed"  # the payload whose preview is on screen
T_OUTCOME, T_SIDE, T_HOW, T_UNIT, T_SIZE = "t_outcome", "t_side", "t_how", "t_unit", "t_size"
T_PRICE, T_SLIPPAGE, T_TIF, T_EXPIRY, T_POST_ONLY = "t_price", "t_slippage", "t_tif", "t_expiry_min", "t_post_only"
T_PREVIEW, T_CONFIRM = "t_preview", "t_confirm"
T_KIND, T_SLICE, T_TRAIL, T_FLOOR = "t_kind", "t_slice", "t_trail", "t_floor"
ORDER, ICEBERG, TRAILING = "Order", "Iceberg", "Trailing stop"
TIFS = ("GTC", "GTD", "FOK", "FAK")
# Counted from the start of the minute (so preview and confirm post the same payload): one minute
# more than the venue's minimum lead keeps the shortest choice valid until the minute ends.
EXPIRY_MIN_MINUTES = GTD_MIN_LEAD_S // 60 + 1


def ticket_panel(db: Database, condition_id: str, mode: str, question: str = "") -> None:
    named = short_question(question) if question else condition_id[:14] + "…"
    if read_only("trading by hand"):
        standing_panel(db, condition_id, mode)  # (shown, without its Cancel)
        return
    st.markdown(f"**Trade it by hand** ({mode.upper()}): {text.markdown(named)}")
    kind = st.segmented_control("Kind", [ORDER, ICEBERG, TRAILING], default=ORDER, key=T_KIND, required=True,
                                help="Iceberg: a limit order shown a slice at a time, the next slice placed at the "
                                     "same price as each fills. Trailing stop: sells what the manual book holds "
                                     "once the best bid falls a distance below its highest since you placed it")
    payload = _iceberg_form(condition_id) if kind == ICEBERG else _trail_form(condition_id) \
        if kind == TRAILING else _form(condition_id)
    what = _what(payload, named)
    if st.button("Preview", key=T_PREVIEW, icon=":material/visibility:"):
        st.session_state[TICKET_PREVIEWED] = payload if _show_preview(db, payload, mode) else None
    elif st.session_state.get(TICKET_PREVIEWED) == payload:
        _show_preview(db, payload, mode)
    ready = st.session_state.get(TICKET_PREVIEWED) == payload
    if st.button(f"Place the order: {what}", key=T_CONFIRM, type="primary", icon=":material/send:",
                 disabled=not ready, help="Preview it first; changing the ticket needs a new preview"):
        with st.spinner("Placing: the engine checks it against its own book and the risk limits…"):
            answer = post_and_wait(db, "place_order", payload, label=text.markdown(what), wait_s=10)
        st.session_state[TICKET_PREVIEWED] = None
        # Kept by the button, and the page drawn again: the Place button shows disabled at once
        # (a new preview is needed), so a second click cannot wipe the answer unseen.
        remember_answer(answer, key=f"{T_CONFIRM}answer")
        st.rerun()
    flash(near=T_CONFIRM)
    standing_panel(db, condition_id, mode)


def _what(payload: dict[str, Any], named: str) -> str:
    """How the ticket and its answer name it."""
    if TRAIL in payload:
        return f"trailing stop on {payload['outcome']} in “{named}”"
    return f"{'iceberg ' if SLICE in payload else ''}{payload['side']} {payload['outcome']} in “{named}”"


def _iceberg_form(condition_id: str) -> dict[str, Any]:
    """An iceberg as a `place_order` payload: the whole, its limit price and the slice shown."""
    cols = st.columns(3)
    outcome = cols[0].segmented_control("Outcome", ["YES", "NO"], default="YES", key=T_OUTCOME, required=True)
    side = cols[1].segmented_control("Side", ["BUY", "SELL"], default="BUY", key=T_SIDE, required=True)
    post_only = cols[2].checkbox("Post-only (never takes liquidity)", key=T_POST_ONLY)
    cols = st.columns(3)
    size = cols[0].number_input("Whole (shares)", min_value=0.0, value=0.0, step=1.0, key=T_SIZE)
    shown = cols[1].number_input("Shown at once (shares)", min_value=0.0, value=0.0, step=1.0, key=T_SLICE,
                                 help="each slice rests at the limit; the next is placed once it has filled in full")
    price = cols[2].number_input("Limit price (probability)", min_value=0.0, max_value=1.0, value=0.5, step=0.01,
                                 format="%.3f", key=T_PRICE)
    return {"condition_id": condition_id, "outcome": outcome, "side": side, "tif": "GTC", "size": str(size),
            "price": str(price), SLICE: str(shown), "post_only": bool(post_only)}


def _trail_form(condition_id: str) -> dict[str, Any]:
    """A trailing stop as a `place_order` payload: what it guards, its distance, its floor and its size."""
    cols = st.columns(4)
    outcome = cols[0].segmented_control("Outcome", ["YES", "NO"], default="YES", key=T_OUTCOME, required=True)
    distance = cols[1].number_input("Distance below the high (probability)", min_value=0.0, max_value=0.5,
                                    value=0.05, step=0.01, format="%.3f", key=T_TRAIL,
                                    help="in price units: 0.05 sells once the best bid is 5 cents under its highest")
    floor = cols[2].number_input("Floor (probability; 0: none)", min_value=0.0, max_value=1.0, value=0.0, step=0.01,
                                 format="%.3f", key=T_FLOOR, help="the lowest price its sale accepts")
    size = cols[3].number_input("Shares (0: all held)", min_value=0.0, value=0.0, step=1.0, key=T_SIZE)
    payload: dict[str, Any] = {"condition_id": condition_id, "outcome": outcome, "side": "SELL", TRAIL: str(distance)}
    if floor > 0:
        payload[FLOOR] = str(floor)
    if size > 0:
        payload["size"] = str(size)
    return payload


def _form(condition_id: str) -> dict[str, Any]:
    """The ticket as a `place_order` payload (sizes and prices as the operator typed them)."""
    cols = st.columns(4)
    outcome = cols[0].segmented_control("Outcome", ["YES", "NO"], default="YES", key=T_OUTCOME, required=True)
    side = cols[1].segmented_control("Side", ["BUY", "SELL"], default="BUY", key=T_SIDE, required=True)
    how = cols[2].segmented_control("Price", ["Limit", "Marketable"], default="Limit", key=T_HOW, required=True)
    tif = cols[3].selectbox("Time in force", TIFS, key=T_TIF,
                            help="GTC rests until cancelled; GTD until its expiry; FOK fills in full at once or "
                                 "not at all; FAK fills what it can at once and cancels the rest")
    cols = st.columns(4)
    units = ["shares", "pUSD"] if side == "BUY" and how == "Marketable" else ["shares"]
    unit = cols[0].segmented_control("Size in", units, default="shares", key=T_UNIT, required=True)
    size = cols[1].number_input(f"Size ({unit})", min_value=0.0, value=0.0, step=1.0, key=T_SIZE)
    payload: dict[str, Any] = {"condition_id": condition_id, "outcome": outcome, "side": side, "tif": tif}
    payload["size_usdc" if unit == "pUSD" else "size"] = str(size)
    if how == "Limit":
        payload["price"] = str(cols[2].number_input("Limit price (probability)", min_value=0.0, max_value=1.0,
                                                    value=0.5, step=0.01, format="%.3f", key=T_PRICE))
    else:
        payload["slippage"] = str(cols[2].number_input(
            "Slippage cap (probability)", min_value=0.0, max_value=0.5, value=0.02, step=0.01, format="%.3f",
            key=T_SLIPPAGE, help="how far past the best opposite price the order may go"))
    if tif == "GTD":
        minutes = cols[3].number_input("Expires in (minutes)", min_value=EXPIRY_MIN_MINUTES,
                                       max_value=GTD_MAX_LEAD_S // 60, value=60, key=T_EXPIRY,
                                       help=f"at least {GTD_MIN_LEAD_S} s ahead (the venue refuses sooner), "
                                            f"at most {GTD_MAX_LEAD_S // 86_400} days")
        # From the start of this minute: the payload stays the same between preview and confirm.
        payload["expires_at"] = int(time.time()) // 60 * 60 + int(minutes) * 60
    payload["post_only"] = bool(st.checkbox("Post-only (never takes liquidity)", key=T_POST_ONLY,
                                            disabled=how == "Marketable" or tif in ("FOK", "FAK")))
    if how == "Marketable" or tif in ("FOK", "FAK"):
        payload["post_only"] = False
    return payload


def _show_preview(db: Database, payload: dict[str, Any], mode: str) -> bool:
    """Show what the ticket would do, or which field to fix; True when it can be placed."""
    facts = market_queries.ticket_facts(db, payload["condition_id"], mode)
    if facts is None:
        st.error("This market is no longer in the database.")
        return False
    market = market_for_ticket(facts)
    token = market.yes_token if payload["outcome"] == "YES" else market.no_token
    recorded = market_queries.latest_book(db, token)
    book = None if recorded is None else book_for_ticket(token, recorded.bids, recorded.asks, recorded.at)
    held = facts["held"].get(token, 0)
    if TRAIL in payload or SLICE in payload:
        return _show_standing(payload, market, book, held, facts)
    try:
        ticket = parse_ticket(payload, now_s=int(time.time()))
        if book is None and ticket.marketable:
            # Nothing to price it from here: the trader would confirm an order whose price they never saw.
            st.error(f"No recorded book for {text.markdown(payload['outcome'])} of this market yet, so a "
                     "marketable order cannot "
                     "be priced or previewed here. Give a limit price instead (it never trades worse than its "
                     "limit), or wait until the engine has recorded this market's book.", icon=":material/block:")
            return False
        shown = preview(ticket, market, book, held, facts["max_slippage"])
    except TicketError as exc:
        st.error(f"Fix the ticket: {text.markdown(exc)}", icon=":material/edit:")
        return False
    _preview_metrics(payload, shown, book_known=book is not None)
    if book is None:
        st.caption("No recorded book for this outcome: whether it trades on arrival is not known here, so the "
                   "cost is at its limit and the fee is the most it could pay (all of it taking liquidity). The "
                   "engine checks it against its own book and the risk limits before placing it.")
    else:
        st.caption(("Trades on arrival (takes liquidity). " if shown.crosses else "Rests on the book. ")
                   + "From the recorded book; the engine checks again against its own book and the risk limits.")
    for note in shown.notes:
        st.warning(text.markdown(note), icon=":material/info:")
    return True


def _preview_metrics(payload: dict[str, Any], shown: Preview, *, book_known: bool) -> None:
    """Without a book the worst case: the cost at the limit, the fee as if it all took liquidity.
    Units in the labels and a bound under its figure: five figures side by side, none cut."""
    buying = payload["side"] == "BUY"
    bound = None if book_known else ("at most" if buying else "at least")
    cols = st.columns(5)
    cols[0].metric("Price", f"{shown.price / 1e6:.3f}")
    cols[1].metric("Shares", f"{shown.size / 1e6:,.2f}")
    cols[2].metric(f"{'Paid' if buying else 'Received'} (pUSD)", usdc(shown.cost / 1e6), delta=bound,
                   delta_color="off", delta_arrow="off")
    if book_known:
        cols[3].metric("Taker fee (pUSD)", f"{shown.fee / 1e6:,.5f}", help="0 when it rests (makers pay no fee)")
    else:
        cols[3].metric("Taker fee (pUSD)", f"{shown.max_fee / 1e6:,.5f}", delta="at most", delta_color="off",
                       delta_arrow="off", help="if all of it trades on arrival; 0 for what rests (makers pay no fee)")
    cols[4].metric(f"Manual {text.markdown(payload['outcome'])} after (sh)", f"{shown.resulting_shares / 1e6:,.2f}")


def _show_standing(payload: dict[str, Any], market: Any, book: Any, held: int, facts: dict[str, Any]) -> bool:
    """An iceberg's or a trailing stop's preview from the recorded book; True when it can be placed."""
    try:
        if TRAIL in payload:
            start = trail_preview(parse_trail(payload), market, book, held)
        else:
            asked = parse_iceberg(payload, now_s=int(time.time()))
            whole = preview(asked.order, market, book, held, facts["max_slippage"])
            problem = slice_problem(asked.slice, whole.size, asked.order.side, whole.price, market,
                                    facts["min_order_value"] or 0)
            if problem is not None:
                st.error(f"Fix the ticket: slice: {text.markdown(problem)}", icon=":material/edit:")
                return False
    except TicketError as exc:
        st.error(f"Fix the ticket: {text.markdown(exc)}", icon=":material/edit:")
        return False
    cols = st.columns(4)
    if TRAIL in payload:
        cols[0].metric("Best bid now", f"{start.high_water / 1e6:.3f}")
        cols[1].metric("Sells at or below", f"{start.stop / 1e6:.3f}")
        cols[2].metric("Floor", "none" if start.floor is None else f"{start.floor / 1e6:.3f}")
        cols[3].metric("Shares it sells", f"{start.shares / 1e6:,.2f}")
        st.caption("From the recorded book. Its high follows the best bid up, never down; once the bid is the "
                   "distance under it, a fill-and-kill sells at the mid less the max slippage (never under the "
                   "floor). A stale or one-sided book neither moves it nor fires it.")
        return True
    cols[0].metric("Price", f"{whole.price / 1e6:.3f}")
    cols[1].metric("Whole (sh)", f"{whole.size / 1e6:,.2f}")
    cols[2].metric("Shown at once (sh)", f"{asked.slice / 1e6:,.2f}")
    cols[3].metric("Slices", f"{slices(whole.size, asked.slice)}")
    st.caption(f"{'Pays' if asked.order.side.value == 'BUY' else 'Receives'} {usdc(whole.cost / 1e6)} pUSD in all at "
               "its limit. Each slice is an ordinary order, checked by the risk gate with the whole's rest; the "
               "next is placed at the same price once the shown one has filled in full.")
    return True
