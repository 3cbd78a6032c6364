"""Import from the PMXT archive on the Backtest page's Sessions tab: a form whose every field is
checked before anything starts (all problems at once), then `python -m engine import-history
--pmxt ...` in a process of its own (the dashboard never imports the engine; an hour of the
archive is hundreds of MB and the page must stay usable), asked for and audited through
storage/research/launch_requests.py, followed here until it ends with what it imported and left
out, or why it imported nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from charts import text
from contracts.child_env import without_secrets
from contracts.market_rows import CONDITION_ID
from pages.widgets.backtest_launch import keep_child, log_dir
from pages.widgets.common import actor, live_fragment, read_only
from storage.research import recording_sessions as rs
from storage.research.launch_requests import request_pmxt_import
from storage.sqlite.db import Database, now_ms

PX_PATH, PX_MARKETS, PX_MARKETS_FILE, PX_TRADES, PX_NAME, PX_GO = (
    "px_path", "px_markets", "px_markets_file", "px_trades", "px_name", "px_go")
PX_PUBLIC_TRADES = "px_public_trades"
RUNNING = "px_running"  # the import this session of the page launched: Started


@dataclass(frozen=True)
class Started:
    child: subprocess.Popen[bytes]
    out: Path
    err: Path


@dataclass(frozen=True)
class Asked:
    path: str
    markets: list[str]
    markets_file: str
    trades: str
    name: str
    public_trades: bool = False  # fetch the span's public trades from the Data API instead of a file


def problems(asked: Asked) -> list[str]:
    """Every problem of the form at once (none: it may start)."""
    found = []
    if not asked.path.strip():
        found.append("Archive file or folder: give the path of an hourly .parquet file or a folder of them")
    elif not Path(asked.path).expanduser().exists():
        found.append(f"Archive file or folder: nothing at {asked.path!r} on this machine")
    if not asked.markets:
        found.append("Markets: give at least one condition id")
    bad = [m for m in asked.markets if not CONDITION_ID.fullmatch(m)]
    if bad:
        found.append(f"Markets: {', '.join(b[:20] for b in bad[:3])} is not a condition id (0x and 64 hex digits)")
    for label, value in (("Markets file", asked.markets_file), ("Trades file", asked.trades)):
        if value.strip() and not Path(value).expanduser().is_file():
            found.append(f"{label}: no file at {value!r}")
    if asked.public_trades and asked.trades.strip():
        found.append("Trades: give a trades file or fetch them from the Data API, not both")
    if asked.name.strip():
        try:
            rs.check_name(asked.name)
        except rs.SessionError as exc:
            found.append(f"Session name: {exc}")
    return found


def command(asked: Asked) -> list[str]:
    args = [sys.executable, "-m", "engine", "import-history", "--pmxt", str(Path(asked.path).expanduser()),
            "--market", ",".join(asked.markets)]
    for flag, value in (("--markets-file", asked.markets_file), ("--trades", asked.trades), ("--name", asked.name)):
        if value.strip():
            args += [flag, value.strip()]
    if asked.public_trades:
        args.append("--public-trades")
    return args


def launch(db: Database, asked: Asked, root: Path) -> Started:
    """Ask for the import (its audit row) and start its process; returns at once."""
    request_pmxt_import(db, path=asked.path, markets=asked.markets, name=asked.name or None, actor=actor())
    folder = log_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"pmxt-import-{now_ms()}"
    out, err = stem.with_suffix(".json"), stem.with_suffix(".log")
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        child = subprocess.Popen(command(asked), cwd=root, env=without_secrets({"TRADER_DB": str(db.path)}),
                                 stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
    keep_child(child)
    return Started(child, out, err)


def _markets(raw: str) -> list[str]:
    return [part for part in re.split(r"[\s,]+", raw.strip()) if part]


def pmxt_form(db: Database, root: Path) -> None:
    if read_only("importing from the PMXT archive"):
        return
    with st.form("px_form"):
        st.markdown("**Import from the PMXT archive**: hourly Parquet files of Polymarket's order books, "
                    "as a session to backtest on (where to get them: docs/research.md)")
        path = st.text_input("Archive file or folder (on this machine)", key=PX_PATH,
                             placeholder="/home/me/pmxt/ or …/polymarket_orderbook_2026-04-17T12.parquet")
        markets = st.text_area("Markets (condition ids, comma or newline separated)", key=PX_MARKETS, height=80)
        left, right = st.columns(2)
        markets_file = left.text_input("Markets file (optional: Gamma market objects; else asked of Gamma)",
                                       key=PX_MARKETS_FILE)
        trades = right.text_input("Trades file (optional: the Data API's /trades answer)", key=PX_TRADES)
        public = right.checkbox("Or fetch the span's public trades from the Data API", key=PX_PUBLIC_TRADES,
                                help="Its /trades pages reach a market's newest ~11,000 trades: an older hour of "
                                     "a busy market needs a trades file")
        name = st.text_input("Session name (optional)", key=PX_NAME, max_chars=rs.NAME_CHARS)
        go = st.form_submit_button("Import", key=PX_GO, icon=":material/upload_file:")
    if go:
        asked = Asked(path.strip(), _markets(markets), markets_file.strip(), trades.strip(), name.strip(), public)
        found = problems(asked)
        if found:
            st.error("Nothing started:\n\n" + "\n".join(f"- {text.markdown(p)}" for p in found),
                     icon=":material/error:")
        else:
            st.session_state[RUNNING] = launch(db, asked, root)
    started = st.session_state.get(RUNNING)
    if isinstance(started, Started):
        _progress(started)


@live_fragment(run_every=2)
def _progress(started: Started) -> None:
    code = started.child.poll()
    said = started.err.read_text(errors="replace").strip().splitlines() if started.err.exists() else []
    if code is None:
        st.info(f"Importing… {text.markdown(said[-1]) if said else 'starting'}", icon=":material/hourglass_top:")
        return
    if code == 0:
        report = json.loads(started.out.read_text())
        left_out = ", ".join(f"{n:,} {why}" for why, n in report.get("left_out", {}).items()) or "nothing"
        st.success(f"Imported {report['ticks']:,} ticks of {len(report['markets'])} market(s) as session "
                   f"'{text.markdown(report['session'])}' (left out: {text.markdown(left_out)}).",
                   icon=":material/check_circle:")
    else:
        reason = next((line for line in reversed(said) if line.startswith("error:")), said[-1] if said else "")
        st.error(f"The import failed and imported nothing: {text.markdown(reason.removeprefix('error: '))}",
                 icon=":material/error:")
