"""Settings page: arming a venue live behind its gate (storage/desk/arming.py), the same for Polymarket
and Kalshi. Every requirement shows up front with its fix; a button runs the venue's preflight
(`engine preflight` / `engine kalshi-preflight`, recorded where the gate reads it); arming needs the
typed word and every check passing, or each failing one that may be overridden named in the
override box (the engine checks again, audits it and raises a critical alert)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from charts import text
from contracts.roles import Scope
from contracts.venues import KALSHI, POLYMARKET
from pages.widgets.common import actor, remember_answer
from pages.widgets.controls import post_and_wait
from storage.desk.arming import Gate, override_names
from storage.sqlite.db import Database

ROOT = Path(__file__).resolve().parents[2]
PREFLIGHT_TIMEOUT_S = 300  # it places and cancels test orders: seconds, a few minutes at worst
PREFLIGHT_COMMAND: dict[str, str] = {POLYMARKET: "preflight", KALSHI: "kalshi-preflight"}


@dataclass(frozen=True)
class Arming:
    """One venue's arming controls: its command, confirmation word and widget keys."""

    venue: str
    word: str  # typed to confirm
    kind: str  # the command
    payload: dict[str, str]
    label: str  # the button's
    refused: str  # how a refusal starts
    key: str  # widget keys' prefix
    button: str  # the arm button's key
    answer_key: str  # where its answer is kept, drawn by its panel (pages/settings.py)


def checklist(gate: Gate) -> None:
    st.markdown("**Arming needs all of** (each with its fix; 🔒 no override):")
    for check in gate.checks:
        mark = ":material/check_circle:" if check.ok else ":material/cancel:"
        line = f"{mark} **{text.markdown(check.name)}**: {text.markdown(check.detail)}"
        if not check.ok:
            line += f"  \n  fix: {text.markdown(check.fix)}" + ("" if check.overridable else " 🔒")
        st.markdown(line)


def arm_refusals(gate: Gate, *, typed: str, word: str, override: str) -> list[str]:
    """Every reason arming is refused now, in the checklist's order (empty: it may go)."""
    named = override_names(override)
    reasons = [f"{c.name}: {c.detail}. Fix: {c.fix}" + ("" if c.overridable else " (no override)")
               for c in gate.failing if not (c.overridable and c.name in named)]
    unknown = sorted(named - {c.name for c in gate.failing if c.overridable})
    if unknown:
        reasons.append(f"The override names what is not a failing check it may pass: {', '.join(unknown)}.")
    if typed.strip() != word:
        reasons.append(f"Type {word} (capitals) in the confirmation box.")
    return reasons


def run_preflight(venue: str, db_path: Path) -> tuple[bool, str]:
    """Run the venue's preflight as its own process (it records its run for the gate); (passed, what it said)."""
    command = [sys.executable, "-m", "engine", PREFLIGHT_COMMAND[venue], "--json", "--actor", actor()]
    try:
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, "TRADER_DB": str(db_path)},
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PREFLIGHT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return False, f"the preflight did not finish within {PREFLIGHT_TIMEOUT_S} s: run it in a terminal"
    try:
        report = json.loads(done.stdout)
    except ValueError:
        said = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"the preflight could not run: {said}"
    failed = [c["check"] for c in report.get("checks", []) if not c.get("ok")]
    return bool(report.get("ok")), ("passed" if report.get("ok") else f"failed: {', '.join(failed)}")


def preflight_button(db: Database, arming: Arming) -> None:
    said = st.session_state.pop(f"{arming.key}_preflight_said", None)
    if said is not None:
        (st.success if said[0] else st.error)(f"Preflight {text.markdown(said[1])}")
    if st.button("Run the preflight now", key=f"{arming.key}_preflight", icon=":material/fact_check:"):
        db.require("running the preflight", Scope.ADMIN)  # it places a test order at the venue: arming's
        with st.spinner("Running the preflight: it places and cancels one harmless test order (up to a few "
                        "minutes)…"):
            st.session_state[f"{arming.key}_preflight_said"] = run_preflight(arming.venue, db.path)
        st.rerun()
    st.caption(f"Or in a terminal: `.venv/bin/python -m engine {PREFLIGHT_COMMAND[arming.venue]}` (a run of the "
               "last hour, for the account the engine holds, counts). A keystore's passphrase comes from "
               "POLY_KEYSTORE_PASSWORD_FILE here: without one, run it in the terminal.")


def arm_controls(db: Database, gate: Gate, arming: Arming) -> None:
    typed = st.text_input(f"Type {arming.word} to confirm", key=f"{arming.key}_confirm")
    override = ""
    if gate.failing and not gate.blocking:
        with st.expander("Arm past the failing checks (override: typed, audited, a critical alert)"):
            st.warning("Only if you know why each failing check does not apply: it is named in the audit log and "
                       "in a critical alert.", icon=":material/warning:")
            override = st.text_input("The failing checks to arm past, by name, comma-separated ("
                                     + ", ".join(c.name for c in gate.failing) + ")", key=f"{arming.key}_override")
    if st.button(arming.label, key=arming.button, icon=":material/bolt:"):
        refusals = arm_refusals(gate, typed=typed, word=arming.word, override=override)
        if refusals:
            st.error(f"{arming.refused}:\n\n" + "\n".join(f"- {text.markdown(r)}" for r in refusals),
                     icon=":material/block:")
            return
        payload = {**arming.payload, **({"override": ", ".join(sorted(override_names(override)))} if override
                                         else {})}
        with st.spinner(f"{arming.label}: the engine checks the gate again before it applies…"):
            remember_answer(post_and_wait(db, arming.kind, payload, slot=f"{arming.kind}:live", label=arming.label),
                            key=arming.answer_key)
        st.rerun()
