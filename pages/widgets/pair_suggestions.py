"""Suggested pairs on the Markets page: for the markets the desk watches, the market of the other venue
likely to ask the same question, scored (how: each suggestion says), to confirm or reject.

**Refresh suggestions** starts `python -m engine pairs suggest --refresh` in a process of its own (the
dashboard never imports the engine; reading Kalshi's listing takes a while and the page must stay
usable), which keeps its run's progress in the database; the page follows it while it runs. A
suggestion is compared side by side as the pair finder compares two markets (`pairs show`, the CLI's own
look-up: both questions, rules, resolution sources, end times, each difference warned), and linked only
once the trader ticks that they read both: `add_pair`, audited `pair.add` with its role check, then the
engine's reload. **Not the same question** rejects it (audited `pair.reject`): it is never offered again.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pandas as pd
import streamlit as st

from charts import text
from charts.tables import Col
from contracts.child_env import without_secrets
from contracts.roles import Scope
from contracts.venues import KALSHI, POLYMARKET
from pages.widgets.backtest_launch import keep_child, log_dir
from pages.widgets.common import actor, flash, live_fragment, may_not, read_only, settings, utc
from pages.widgets.pair_lookup import LookupFailed, engine_pairs
from pages.widgets.pair_panels import LINK_HELP, _side_by_side, link_compared
from pages.widgets.tables import show_table
from storage.desk import pair_suggestions as store
from storage.sqlite.db import Database, now_ms

S_REFRESH, S_PICK, S_INVERTED, S_SHOW = "suggest_refresh", "suggest_pick", "suggest_inverted", "suggest_show"
S_COMPARED, S_READ, S_LINK, S_REJECT = "suggest_compared", "suggest_read", "suggest_link", "suggest_reject"
S_STARTED = "suggest_started"  # when this session started a refresh (ms): followed until its run ends
COLUMNS = {"score": Col("score"), "polymarket_question": Col("Polymarket", "long"),
           "kalshi_title": Col("Kalshi", "long"), "how": Col("how the score was made", "long"),
           "ends": Col("ends (Polymarket / Kalshi)"), "kalshi_ticker": Col("Kalshi ticker", more=True),
           "watched": Col("watched on", more=True)}
HOW = ("wording", "numbers", "dates", "close")


def suggestions_panel(db: Database) -> None:
    """The last refresh, its button, the open suggestions and the one picked to confirm or reject."""
    run = store.last_run(db)
    writer = not read_only("refreshing, linking or rejecting suggested pairs")
    _run_line(run)
    if writer:
        _refresh_button(db, run)
    if _running(run) or st.session_state.get(S_STARTED):
        _follow(db)  # polled only while a refresh runs
    found = store.open_suggestions(db)
    if not found:
        if run is not None and run.status == "done":
            st.caption("No suggestion open: nothing the desk watches reads like a market of the other venue, or "
                       "each was linked or rejected.")
        flash(near=S_REJECT)
        flash(near=S_LINK)
        return
    frame = pd.DataFrame([_row(s) for s in found], columns=list(COLUMNS))
    show_table(frame, COLUMNS, key="pair_suggestions")
    if writer:
        _confirm_one(db, {s.id: s for s in found})
    flash(near=S_REJECT)
    flash(near=S_LINK)


def _run_line(run: store.Run | None) -> None:
    if run is None:
        st.caption("No suggestions yet: **Refresh suggestions** compares the markets your strategies name and the "
                   "desk's most traded open markets with Kalshi's open markets (or `python -m engine pairs suggest "
                   "--refresh`).")
    elif run.status == "failed":
        st.error(f"The last refresh ({utc(run.started_at)}) failed: {text.markdown(run.detail or 'no reason')}",
                 icon=":material/error:")
    elif run.status == "done":
        listing = f"Kalshi's listing read {utc(run.listing_read_at)}" + (
            f" ({run.pages} page(s) now)" if run.pages else ", kept from an earlier refresh")
        st.caption(f"Last refresh {utc(run.finished_at)}: {run.found} suggestion(s) from {run.watched} watched "
                   f"market(s) against {run.listed} of the other venue's; {listing}. Scores are 0-100: wording "
                   "(55 %), figures (20 %), dates (15 %) and close times (10 %); figures or dates that disagree "
                   "hold a score under what is offered (60).")


def _running(run: store.Run | None) -> bool:
    """A refresh under way (one silent past RUN_STALE_MS died: the next refresh marks it failed)."""
    return run is not None and run.status == "running" and now_ms() - run.started_at < store.RUN_STALE_MS


def _refresh_button(db: Database, run: store.Run | None) -> None:
    if st.button("Refresh suggestions", key=S_REFRESH, icon=":material/manage_search:", disabled=_running(run),
                 help="Reads Kalshi's open markets (at most once an hour; the kept listing otherwise) in the "
                      "background and scores them against the markets the desk watches: nothing is linked"):
        root = settings().root
        folder = log_dir(root)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "pair-suggestions.log", "ab") as log:
            child = subprocess.Popen([sys.executable, "-m", "engine", "pairs", "suggest", "--refresh"], cwd=root,
                                     env=without_secrets({"TRADER_DB": str(db.path)}), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, start_new_session=True)
        keep_child(child)
        st.session_state[S_STARTED] = now_ms()


@live_fragment(run_every=2)
def _follow(db: Database) -> None:
    """While a refresh runs: its progress; when it ends, the page again (its suggestions)."""
    run = store.last_run(db)
    started = st.session_state.get(S_STARTED)
    if _running(run):
        assert run is not None
        st.info(f"Refreshing the suggestions: {text.markdown(run.detail or 'starting')}…", icon=":material/sync:")
        return
    if started and (run is None or run.started_at < started - 5_000) and now_ms() - started < 60_000:
        st.info("Refreshing the suggestions: starting…", icon=":material/sync:")  # its process not yet in
        return
    if started:
        st.session_state.pop(S_STARTED, None)
        st.rerun(scope="app")


def _row(s: store.Suggestion) -> dict[str, Any]:
    said = s.parts.get("said", {}) if isinstance(s.parts.get("said"), dict) else {}
    how = "; ".join(f"{name} {said[name]}" for name in (*HOW, "held") if name in said)
    return {"score": s.score, "polymarket_question": s.polymarket_question, "kalshi_title": s.kalshi_title,
            "how": how, "ends": f"{utc(s.polymarket_end_at)} / {utc(s.kalshi_close_at)}",
            "kalshi_ticker": s.kalshi_ticker, "watched": s.watched}


def _confirm_one(db: Database, found: dict[int, store.Suggestion]) -> None:
    """Pick one → both side by side (the CLI's own look-up) → linked once read, or rejected."""
    why_not = may_not(Scope.VENUE, frozenset({POLYMARKET, KALSHI}))
    pick = st.selectbox("Confirm or reject a suggestion", list(found), key=S_PICK,
                        format_func=lambda i: f"{found[i].score} · {found[i].polymarket_question} = "
                                              f"{found[i].kalshi_title} ({found[i].kalshi_ticker})")
    chosen = found[pick]
    inverted = st.checkbox("Asked the other way round: Polymarket's YES is Kalshi's NO", key=S_INVERTED)
    left, right = st.columns(2)
    if left.button("Compare side by side", key=S_SHOW, icon=":material/compare:"):
        with st.spinner("Reading both markets' rules…"):
            try:
                st.session_state[S_COMPARED] = engine_pairs(db, "show", chosen.condition_id, chosen.kalshi_ticker,
                                                            *(["--inverted"] if inverted else []))
            except LookupFailed as exc:
                st.session_state.pop(S_COMPARED, None)
                st.error(f"Not compared: {text.markdown(exc)}", icon=":material/error:")
    if right.button("Not the same question", key=S_REJECT, icon=":material/block:", disabled=why_not is not None,
                    help=why_not or "Rejected: never offered again (audited)"):
        _reject(db, chosen)
    compared = st.session_state.get(S_COMPARED)
    if compared is not None and compared["polymarket"]["condition_id"] == chosen.condition_id and \
            compared["kalshi"]["ticker"] == chosen.kalshi_ticker and bool(compared["inverted"]) == inverted:
        _side_by_side(compared)
        _link(db, compared, why_not)


def _reject(db: Database, chosen: store.Suggestion) -> None:
    try:
        store.reject(db, chosen.id, actor=actor())
    except store.SuggestionRefused as exc:
        st.error(f"Not rejected: {text.markdown(exc)}", icon=":material/block:")
        return
    st.session_state[f"{S_REJECT}flash"] = (f"Rejected: {text.markdown(chosen.polymarket_question)} is not "
                                            f"{text.markdown(chosen.kalshi_title)}; it is not offered again.")
    for key in (S_COMPARED, S_READ, S_PICK):
        st.session_state.pop(key, None)
    st.rerun()


def _link(db: Database, compared: dict[str, Any], why_not: str | None) -> None:
    read = st.checkbox("I have read both: they are the same question", key=S_READ)
    if st.button("Link them", key=S_LINK, type="primary", icon=":material/link:",
                 disabled=not read or why_not is not None, help=why_not or LINK_HELP):
        link_compared(db, compared, near=S_LINK, forget=(S_COMPARED, S_READ, S_PICK))
