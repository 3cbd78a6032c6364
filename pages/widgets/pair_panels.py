"""Kalshi on the Markets page: find a pair (both venues' markets matching some words), read both
markets side by side (question, rules, resolution source, end time, the differences warned),
link them (configuration, audited) or unlink a pair; and, beside a paired market, both venues'
books and mids and what hedging the pair locks in now after both venues' fees.

Linking and unlinking are the operator's configuration (storage/desk/venue_pairs.py, audited as
the CLI's are), followed by a reload the engine answers; the look-ups go through the CLI's own
functions (pages/widgets/pair_lookup.py).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from charts.tables import Col
from contracts.cross_venue import FIND_EXAMPLE
from pages.widgets import figures
from pages.widgets.common import actor, flash, read_only, utc
from pages.widgets.controls import post, wait_for_answer
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.pair_lookup import LookupFailed, engine_pairs
from pages.widgets.tables import show_table
from storage.dashboard_queries import pair_queries
from storage.desk.venue_pairs import PairRefused, add_pair, remove_pair
from storage.sqlite.db import Database

P_WORDS, P_FIND, P_FOUND = "pair_words", "pair_find", "pair_found"
P_POLY, P_KALSHI, P_INVERTED, P_SHOW = "pair_poly", "pair_kalshi", "pair_inverted", "pair_show"
P_COMPARED, P_READ, P_LINK = "pair_compared", "pair_read", "pair_link"
P_UNLINK_PICK, P_UNLINK_OK, P_UNLINK = "pair_unlink_pick", "pair_unlink_ok", "pair_unlink"
SPREAD_MARGIN, SPREAD_CAPITAL = 0.01, 1_000.0  # as `python -m engine pairs spreads` by default
WAY_COLUMNS = {"buy": Col("buy", "long"), "shares": Col("shares", "shares"), "costs": Col("both legs", "usdc"),
               "fees": Col("fees within", "usdc"), "locks_in": Col("locks in", "usdc"),
               "limits": Col("limit prices (Poly / Kalshi)")}


def find_and_link(db: Database) -> None:
    """Words → both venues' matching markets → one of each side by side → linked (after reading)."""
    if read_only("linking a pair of markets"):
        return
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    words = left.text_input("Find a pair: words both markets' wording holds", key=P_WORDS,
                            placeholder=f"e.g. {FIND_EXAMPLE}")
    if right.button("Find on both venues", key=P_FIND, icon=":material/search:", width="stretch"):
        st.session_state.pop(P_COMPARED, None)
        with st.spinner("Reading the desk's markets and Kalshi's open ones…"):
            try:
                st.session_state[P_FOUND] = engine_pairs(db, "find", words)
            except LookupFailed as exc:
                st.session_state.pop(P_FOUND, None)
                st.error(f"Nothing found: {text.markdown(exc)}", icon=":material/search_off:")
    found: dict[str, list[dict[str, Any]]] | None = st.session_state.get(P_FOUND)
    if found is not None:
        _pick_and_compare(db, found)


def link_answer() -> None:
    """What Link said, right under the finder: drawn outside its expander, which the first pair closes (it
    opens by itself only while no pair is linked), so the answer is never folded away with it."""
    flash(near=P_LINK)


def _pick_and_compare(db: Database, found: dict[str, list[dict[str, Any]]]) -> None:
    poly = {str(m["condition_id"]): str(m["question"]) for m in found.get("polymarket", [])}
    kalshi = {str(m["ticker"]): m for m in found.get("kalshi", [])}
    if not poly or not kalshi:
        st.info(f"{len(poly)} Polymarket and {len(kalshi)} Kalshi market(s) match: a pair needs one of each. Try "
                "other words.", icon=":material/search_off:")
        return
    left, right = st.columns(2)
    cid = left.selectbox(f"Polymarket ({len(poly)} found)", list(poly), key=P_POLY, format_func=lambda c: poly[c])
    ticker = right.selectbox(f"Kalshi ({len(kalshi)} found)", list(kalshi), key=P_KALSHI,
                             format_func=lambda t: _kalshi_label(kalshi[t]))
    inverted = st.checkbox("Asked the other way round: Polymarket's YES is Kalshi's NO", key=P_INVERTED)
    if st.button("Compare side by side", key=P_SHOW, icon=":material/compare:"):
        with st.spinner("Reading both markets' rules…"):
            try:
                st.session_state[P_COMPARED] = engine_pairs(db, "show", cid, ticker,
                                                            *(["--inverted"] if inverted else []))
            except LookupFailed as exc:
                st.session_state.pop(P_COMPARED, None)
                st.error(f"Not compared: {text.markdown(exc)}", icon=":material/error:")
    compared = st.session_state.get(P_COMPARED)
    if compared is not None and compared["polymarket"]["condition_id"] == cid and compared["kalshi"]["ticker"] == \
            ticker and bool(compared["inverted"]) == inverted:
        _side_by_side(compared)
        _link(db, compared)


def _kalshi_label(market: dict[str, Any]) -> str:
    return f"{market['title']} · {market['ticker']} · bid {market.get('yes_bid')}¢ ask {market.get('yes_ask')}¢"


def _side_by_side(compared: dict[str, Any]) -> None:
    poly, kalshi, inverted = compared["polymarket"], compared["kalshi"], bool(compared["inverted"])
    left, right = st.columns(2, border=True)
    with left:
        st.markdown(f"**Polymarket** · {text.code_span(poly['condition_id'][:18] + '…')}")
        st.markdown(f"**{text.markdown(poly['question'])}**")
        st.caption(f"YES means YES · ends {utc(poly.get('end_at'))} · resolution source: "
                   f"{text.markdown(poly.get('resolution_source') or 'not given')}")
        st.text(poly.get("rules") or "(Gamma did not answer with its rules)")
    with right:
        st.markdown(f"**Kalshi** · {text.code_span(kalshi['ticker'])} · {text.markdown(kalshi.get('status'))}")
        st.markdown(f"**{text.markdown(kalshi['title'])}**")
        st.caption(f"this market's YES is Kalshi's {'NO' if inverted else 'YES'} · ends {utc(kalshi.get('end_at'))} "
                   "· resolution source: in its rules")
        st.text(kalshi.get("rules") or "(no rules given)")
    for warning in compared["warnings"]:
        st.warning(text.markdown(warning), icon=":material/warning:")
    if not compared["warnings"]:
        st.caption("No difference found in end times, wording, resolution source or status: still read both rules.")


LINK_HELP = ("A linked pair gives the Polymarket market Kalshi's mid as its reference price and lets a cross-venue "
             "strategy trade both (configuration, audited; the engine reloads)")


def _link(db: Database, compared: dict[str, Any]) -> None:
    read = st.checkbox("I have read both: they are the same question", key=P_READ)
    if st.button("Link them", key=P_LINK, type="primary", icon=":material/link:", disabled=not read, help=LINK_HELP):
        link_compared(db, compared, near=P_LINK, forget=(P_COMPARED, P_FOUND, P_READ))


def link_compared(db: Database, compared: dict[str, Any], *, near: str, forget: tuple[str, ...]) -> None:
    """The two markets compared (`pairs show`), linked once the operator read both (audited, the engine
    reloads; said at `near`), then the page again without `forget`'s keys; a refusal said in words."""
    poly, kalshi = compared["polymarket"], compared["kalshi"]
    try:
        pair = add_pair(db, condition_id=poly["condition_id"], kalshi_ticker=kalshi["ticker"],
                        inverted=bool(compared["inverted"]), polymarket_question=poly["question"],
                        kalshi_title=kalshi["title"], warnings=list(compared["warnings"]), actor=actor())
    except PairRefused as exc:
        st.error(f"Not linked: {text.markdown(exc)}", icon=":material/block:")
        return
    noted = f" with {len(compared['warnings'])} warning(s) noted" if compared["warnings"] else ""
    _reloaded(db, near, f"Linked as pair {pair.id}: {text.markdown(poly['question'])} = {kalshi['ticker']}{noted}.")
    for key in forget:
        st.session_state.pop(key, None)
    st.rerun()


def _reloaded(db: Database, near: str, said: str) -> None:
    """Say what changed at `near`, with the engine's answer to the reload that applies it."""
    row = post(db, "reload_config", {"reason": "venue pairs changed"}, slot=f"{near}_reload")
    st.session_state[f"{near}flash"] = said
    with st.spinner("Waiting for the engine to read the pairs again…"):
        st.session_state[f"{near}answer"] = wait_for_answer(db, row.id, "reload_config",
                                                            label="The engine's reload of the pairs")


def unlink_panel(db: Database, pairs: pd.DataFrame) -> None:
    """Unlink a pair (confirmed by a tick, audited); refused while either side is still held."""
    if pairs.empty or read_only("unlinking a pair"):
        flash(near=P_UNLINK)
        return
    questions = {int(r["id"]): str(r["question"]) for _, r in pairs.iterrows()}
    labels = {int(r["id"]): f"pair {r['id']} · {r['question']} = {r['kalshi_ticker']}" for _, r in pairs.iterrows()}
    left, mid, right = st.columns([4, 2, 1], vertical_alignment="bottom")
    pick = left.selectbox("Unlink a pair", list(labels), key=P_UNLINK_PICK, format_func=lambda i: labels[i])
    sure = mid.checkbox("Unlink it (the engine stops using Kalshi's price for it)", key=P_UNLINK_OK)
    if right.button("Unlink", key=P_UNLINK, icon=":material/link_off:", disabled=not sure, width="stretch"):
        try:
            pair = remove_pair(db, int(pick), actor=actor())
        except PairRefused as exc:
            st.error(f"Not unlinked: {text.markdown(exc)}", icon=":material/block:")
        else:
            st.session_state.pop(P_UNLINK_OK, None)
            _reloaded(db, P_UNLINK, f"Unlinked pair {pair.id}: {text.markdown(questions[pair.id])} and "
                                    f"{pair.kalshi_ticker}.")
            st.rerun()
    flash(near=P_UNLINK)


def paired_market_panel(db: Database, condition_id: str) -> None:
    """Beside a paired market: both venues' YES books and mids, and both ways to hedge it now."""
    paired = pair_queries.paired_books(db, condition_id, margin=SPREAD_MARGIN, capital=SPREAD_CAPITAL)
    if paired is None:
        return
    side = "NO (inverted)" if paired.inverted else "YES"
    st.markdown(f"**Paired with Kalshi** {text.code_span(paired.ticker)} · {text.markdown(paired.title)} · its "
                f"YES is Kalshi's {side}")
    if paired.warnings:
        st.warning(f"Noted when linked: {text.markdown(paired.warnings)}", icon=":material/warning:")
    left, right = st.columns(2)
    for column, venue, book, mid in ((left, "Polymarket", paired.poly, paired.poly_mid),
                                     (right, "Kalshi", paired.kalshi, paired.kalshi_mid)):
        with column:
            st.metric(f"{venue} mid (this market's YES)", "—" if mid is None else f"{mid:.3f}")
            if book is None:
                st.caption(f"No {venue} book recorded yet (the engine records a paired market's books while it runs).")
                continue
            st.plotly_chart(figures.depth_figure(book.bids, book.asks, f"{venue} YES book"),
                            key=f"pair_depth_{venue}", width="stretch", config=CHART_CONFIG)
            st.caption(f"{venue} book as of {utc(book.at)}")
    rows = [_way_row(way) for way in paired.ways]
    st.markdown(f"**Hedging the pair now**, after both venues' taker fees, keeping {SPREAD_MARGIN:.2f} a share, "
                f"at most {SPREAD_CAPITAL:,.0f} a venue (as `python -m engine pairs spreads`; nothing is placed)")
    show_table(pd.DataFrame(rows, columns=list(WAY_COLUMNS)), WAY_COLUMNS)  # no way found: its words, no figures


def _way_row(way: Any) -> dict[str, Any]:
    buy = f"{way.poly_outcome} on Polymarket + {way.kalshi_side.upper()} on Kalshi"
    found = way.found
    if found is None:
        return {"buy": f"{buy}: nothing under {1 - SPREAD_MARGIN:.2f} a share after fees", "shares": 0.0}
    return {"buy": buy, "shares": found.size / 1e6, "costs": (found.poly_cost + found.kalshi_cost) / 1e6,
            "fees": found.fees / 1e6, "locks_in": found.edge / 1e6,
            "limits": f"{found.worst_poly / 1e6:.3f} / {found.worst_kalshi / 1e6:.3f}"}
