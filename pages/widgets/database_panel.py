"""The database on the Settings page: its size and free space, the last upkeep and what it did, the
audit archive beside it, and the upkeep run now (the engine's `upkeep` command, the administrator's).
A live panel: a run the engine finishes shows here when it does (pages/widgets/live.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from charts import text
from pages.widgets.common import flash, read_only, remember_answer, utc
from pages.widgets.controls import post_and_wait
from pages.widgets.live import panel
from storage.engine_stores import db_upkeep
from storage.sqlite.db import Database

MIB = 2**20
UPKEEP_NOW = "db_upkeep_now"


def _last_run(db: Database) -> object:
    """What the panel shows that the engine changes: its newest upkeep run and whether it finished."""
    return tuple((run["id"], run["finished_at"]) for run in db_upkeep.read_last_runs(db, 1))


def _when(at_ms: int) -> str:
    """A time a tile holds at 1366 px: the clock today, the date before."""
    moment = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    return f"{moment:%H:%M}" if moment.date() == datetime.now(tz=UTC).date() else f"{moment:%b %d}"


@panel("database", every_s=5, probe=_last_run)
def database_panel(db: Database) -> None:
    facts = db_upkeep.read_facts(db)
    runs = db_upkeep.read_last_runs(db, 1)
    last = runs[0] if runs else None
    archive = db_upkeep.archive_path(db.path)
    cols = st.columns(4)
    cols[0].metric("Database (MiB)", f"{facts.size_bytes / MIB:,.1f}",
                   help=f"{db.path}, its write-ahead log included ({facts.wal_bytes / MIB:,.1f} MiB)")
    cols[1].metric("Free space", f"{facts.free_share:.0%}",
                   help=f"{facts.free_pages:,} of {facts.pages:,} pages free (rows retention deleted): given back to "
                        "the disk by the upkeep once past 'Reclaim space past' above")
    finished = last["finished_at"] if last else None
    cols[2].metric("Last upkeep (UTC)", "never" if last is None else "under way" if finished is None else
                   _when(finished), help=None if last is None else f"Began {utc(last['started_at'])}")
    kept = archive.stat().st_size / MIB if archive.exists() else 0.0
    cols[3].metric("Audit archive (MiB)", f"{kept:,.1f}", help=f"{archive}: audit rows older than a year, a SQLite "
                                                                "file beside the database (the Audit page reads it)")
    if last is not None and finished is not None:
        st.caption(f"Last upkeep ({text.markdown(last['trigger'])}, {utc(last['started_at'])}): "
                   f"{'optimized' if last['optimized'] else 'not optimized'}; {last['freed_pages']:,} free pages given "
                   f"back; {last['archived_rows']:,} audit rows archived; {last['size_before'] / MIB:,.1f} → "
                   f"{(last['size_after'] or 0) / MIB:,.1f} MiB." + (f" {text.markdown(last['note'])}." if last["note"]
                                                                     else ""))
    if last is not None and last["error"]:
        st.warning(f"The last upkeep stopped at a step: {text.markdown(last['error'])}. It is tried again at its next "
                   "run.", icon=":material/warning:")
    if facts.auto_vacuum != db_upkeep.INCREMENTAL:
        st.caption("This database was made before space could be given back in steps: the engine's next start "
                   "(or `python -m engine upkeep` with the engine stopped) converts it once, when its free space is "
                   "past the setting.")
    if read_only("running the upkeep now", admin=True):
        return
    if st.button("Run upkeep now", key=UPKEEP_NOW, icon=":material/cleaning_services:",
                 help="Optimize, archive the audit rows older than a year and give free space back now (the engine "
                      "does it by itself on its schedule)"):
        remember_answer(post_and_wait(db, "upkeep", {"reason": "dashboard"}, label="Upkeep"),
                        key=f"{UPKEEP_NOW}answer")
    flash(near=UPKEEP_NOW)
