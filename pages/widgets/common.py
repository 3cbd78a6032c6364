"""Shared dashboard plumbing: settings, the database handle, the health header, formatting."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from storage import queries
from storage.db import Database
from storage.migrations import is_migrated
from storage.settings import Settings, load_settings

ACTOR = "dashboard"
MICRO = 1_000_000


def settings() -> Settings:
    """Read per rerun (cheap), so a new password hash or host applies without a restart."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    # Keyed on the path: AppTests in one process each get their own file's engines.
    from pathlib import Path

    return Database(Path(path))


def database() -> Database:
    """The shared handle, or a plain 'waiting for the engine' page if there is no schema yet."""
    path = settings().db_path
    if not is_migrated(path):
        st.info(f"Waiting for the engine to create the database at `{path}`. "
                "Start it with `make run` (or `supervisorctl -c supervisord.conf start engine`).")
        st.stop()
    return _database(str(path))


def usdc(micros: int | float | None, *, signed: bool = False) -> str:
    if micros is None:
        return "—"
    value = micros / MICRO
    return f"{value:+,.2f} USDC" if signed else f"{value:,.2f} USDC"


def shares(micros: int | float | None) -> str:
    return "—" if micros is None else f"{micros / MICRO:,.2f} sh"


def utc(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def mode_badge(mode: str) -> None:
    if mode == "live":
        st.badge("LIVE — real money", icon=":material/bolt:", color="red")
    else:
        st.badge("PAPER", icon=":material/description:", color="blue")


STATE_COLORS = {
    "RUNNING": "green", "PAUSED": "orange", "STARTING": "blue", "STOPPING": "blue",
    "STOPPED": "gray", "IDLE": "gray", "KILLED": "red", "ERROR": "red",
}


def health_header(db: Database) -> queries.EngineStatus:
    """Mode badge, lifecycle state and heartbeat age: shown on every page."""
    status = queries.engine_status(db)
    cols = st.columns([1, 1, 2])
    with cols[0]:
        mode_badge(status.mode)
    with cols[1]:
        st.badge(status.state, color=STATE_COLORS.get(status.state, "gray"))  # type: ignore[arg-type]
    with cols[2]:
        if status.heartbeat_stale:
            st.error(f"Engine heartbeat is stale (last {age(status.heartbeat_age_s)} ago): "
                     "the engine is not running or is stuck. Nothing you press here will happen "
                     "until it is back.", icon=":material/heart_broken:")
        else:
            st.caption(f"Engine alive · heartbeat {age(status.heartbeat_age_s)} ago · pid {status.pid}")
    if status.kill_latched:
        st.error(f"KILL LATCH SET: {status.kill_reason or 'no reason given'}. No orders can be placed "
                 "until you re-arm (Overview).", icon=":material/block:")
    return status


def not_built_yet(what: str) -> None:
    st.info(f"{what} is not built yet. It arrives with a later release; nothing on this page works yet.",
            icon=":material/construction:")
