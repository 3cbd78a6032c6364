"""Recording sessions on the dashboard: the list, start and stop, rename and notes, export to a file
another desk imports, delete (confirmed), import from the PMXT archive (pmxt_panel.py); and the
session picker of the New backtest and Sweep tabs. Every write goes through
storage/research/recording_sessions.py (validated, audited).

The picker's options are the sessions' names only, never a live figure (a tick count that
grows while the desk records would change the label the browser sends back, and the pick
would fall out: see pages/widgets/market_picker.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from charts import text
from pages.widgets.common import actor, flash, read_only, utc
from pages.widgets.pmxt_panel import pmxt_form
from storage.research import recording_sessions as rs
from storage.research.session_files import export_session
from storage.sqlite.db import Database, now_ms

NO_SESSION = "— none: pick a range —"
SS_NAME, SS_MARKETS, SS_NOTES, SS_START = "ss_name", "ss_markets", "ss_notes", "ss_start"
SS_PICK, SS_STOP, SS_RENAME, SS_RENAME_GO = "ss_pick", "ss_stop", "ss_rename", "ss_rename_go"
SS_EDIT_NOTES, SS_SAVE_NOTES, SS_EXPORT, SS_DELETE_OK, SS_DELETE = (
    "ss_edit_notes", "ss_save_notes", "ss_export", "ss_delete_ok", "ss_delete")
EXPORT_DOWNLOAD_MB = 200  # larger exports are left on disk (the CLI's `session export` streams)


def session_picker(db: Database, *, key: str, markets_key: str) -> rs.Session | None:
    """A selectbox of the sessions by name; picking one also picks its markets in the form's
    market picker (`markets_key`). None: no session (the form's own range)."""
    found = {s.name: s for s in rs.sessions(db)}
    if not found:
        return None

    def picked() -> None:
        session = found.get(st.session_state.get(key, NO_SESSION))
        if session is not None:
            st.session_state[markets_key] = list(session.markets)

    name = st.selectbox("Recording session", [NO_SESSION, *found], key=key, on_change=picked,
                        help="A named span of the recording (Sessions tab): its range and markets")
    return found.get(name or NO_SESSION)


def session_caption(session: rs.Session) -> str:
    end = "now (still recording)" if session.recording else utc(session.stopped_at)
    markets = f"{len(session.markets)} markets" if session.markets else "every market recorded"
    return f"Session **{text.markdown(session.name)}**: {utc(session.started_at)} → {end}, {markets}" + (
        f" — {text.markdown(session.notes)}" if session.notes else "")


@st.cache_data(ttl=30, show_spinner=False, max_entries=500)
def _tick_count(_db: Database, path: str, session: rs.Session, minute: int) -> int:
    """A session's tick count, counted at most every 30 s (a stopped session's never changes;
    counting a week of ticks on every rerun of the page would make it slow). `minute`: an open
    session's count moves on with the clock; `path` tells two databases apart."""
    return rs.tick_count(_db, session)


def _table(db: Database) -> list[rs.Session]:
    found = rs.sessions(db)
    if not found:
        st.info("No recording session yet. Start one below (or `python -m engine session start NAME`); the "
                "engine records the markets it watches.")
        return found
    now = now_ms()
    st.dataframe(pd.DataFrame([{
        "Name": s.name, "Status": "recording" if s.recording else "stopped", "From (UTC)": utc(s.started_at),
        "To (UTC)": utc(s.stopped_at) if s.stopped_at else "now", "Markets": len(s.markets) or "all",
        "Ticks": _tick_count(db, str(db.path), s, now // 60_000 if s.recording else 0), "Origin": s.origin,
        "Notes": s.notes,
    } for s in found]), hide_index=True, width="stretch", placeholder="—")
    return found


def _start_form(db: Database, markets: pd.DataFrame) -> None:
    if read_only("recording sessions"):
        return
    with st.form("ss_start_form", clear_on_submit=True):
        st.markdown("**Start a session**")
        name = st.text_input("Name", key=SS_NAME, max_chars=rs.NAME_CHARS, placeholder="e.g. debate night")
        labels = dict(zip(markets["condition_id"], markets["question"], strict=True)) if not markets.empty else {}
        chosen = st.multiselect("Markets (none: every market the engine records)", list(labels), key=SS_MARKETS,
                                format_func=lambda c: labels.get(c, c))
        notes = st.text_area("Notes", key=SS_NOTES, max_chars=rs.NOTES_CHARS)
        if not st.form_submit_button("Start recording session", type="primary", key=SS_START,
                                     icon=":material/fiber_manual_record:"):
            return
    try:
        session = rs.start_session(db, name=name, markets=chosen, notes=notes, actor=actor())
    except rs.SessionError as exc:
        st.error(f"Not started: {text.markdown(exc)}")
        return
    st.session_state[f"{SS_START}flash"] = (f"Session '{text.markdown(session.name)}' is recording since "
                                            f"{utc(session.started_at)}.")
    st.rerun()


def _manage(db: Database, found: list[rs.Session], root: Path) -> None:
    names = [s.name for s in found]
    name = st.selectbox("Session", names, key=SS_PICK)
    session = next((s for s in found if s.name == name), None)
    if session is None:
        return
    st.caption(session_caption(session))
    try:
        _actions(db, session, root)
    except rs.SessionError as exc:
        st.error(text.markdown(exc))


def _actions(db: Database, session: rs.Session, root: Path) -> None:
    if read_only("a recording session"):
        return
    if session.recording and st.button("Stop recording session", key=SS_STOP, icon=":material/stop:"):
        rs.stop_session(db, name=session.name, actor=actor())
        st.session_state[f"{SS_PICK}flash"] = f"Session '{text.markdown(session.name)}' stopped."
        st.rerun()
    left, right = st.columns(2)
    new_name = left.text_input("Rename to", key=SS_RENAME, max_chars=rs.NAME_CHARS)
    if left.button("Rename", key=SS_RENAME_GO) and new_name.strip():
        renamed = rs.rename_session(db, name=session.name, new_name=new_name, actor=actor())
        st.session_state[SS_PICK] = renamed.name
        st.rerun()
    notes = right.text_area("Notes", value=session.notes, key=f"{SS_EDIT_NOTES}_{session.id}",
                            max_chars=rs.NOTES_CHARS)
    if right.button("Save notes", key=SS_SAVE_NOTES):
        rs.annotate_session(db, name=session.name, notes=notes, actor=actor())
        st.session_state[f"{SS_PICK}flash"] = f"Notes of '{text.markdown(session.name)}' saved."
        st.rerun()
    _export(db, session, root)
    _delete(db, session)


def _export(db: Database, session: rs.Session, root: Path) -> None:
    if not st.button("Export to a file", key=SS_EXPORT, icon=":material/download:",
                     help="A file another desk imports with `python -m engine session import FILE`"):
        return
    folder = db.path.parent / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^\w.-]+", "-", session.name).strip("-") + ".jsonl.gz")
    with st.spinner(f"Exporting '{text.markdown(session.name)}'…"):
        ticks = export_session(db, session.name, path)
    st.success(f"Exported {ticks:,} ticks to `{path}`.")
    if path.stat().st_size <= EXPORT_DOWNLOAD_MB * 2**20:
        st.download_button("Download the export", path.read_bytes(), file_name=path.name,
                           mime="application/gzip", key="ss_download")


def _delete(db: Database, session: rs.Session) -> None:
    if session.recording:
        return
    ok = st.checkbox(f"Delete '{text.markdown(session.name)}' and its ticks that no other session covers (for good)",
                     key=SS_DELETE_OK)
    if st.button("Delete session", key=SS_DELETE, type="secondary", icon=":material/delete:", disabled=not ok):
        removed = rs.delete_session(db, name=session.name, actor=actor())
        st.session_state.pop(SS_PICK, None)
        st.session_state[f"{SS_PICK}flash"] = (f"Session '{text.markdown(session.name)}' deleted "
                                               f"({removed:,} ticks removed).")
        st.rerun()


def sessions_tab(db: Database, root: Path) -> None:
    markets = pd.DataFrame(rs.known_markets(db), columns=["condition_id", "question"])
    found = _table(db)
    if found:
        _manage(db, found, root)
    flash(near=SS_PICK)  # what Stop, Save notes or Delete did, under them
    st.divider()
    _start_form(db, markets)
    flash(near=SS_START)
    pmxt_form(db, root)
