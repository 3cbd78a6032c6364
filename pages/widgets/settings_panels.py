"""Settings page pieces: the paper/live switch with its safeguards, the data source and hosts,
the dashboard password, and the engine settings (runtime_config) form."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import pandas as pd
import streamlit as st

from contracts.runtime_settings import SETTINGS, SettingError, SettingSpec, parse_setting
from contracts.settings import Settings
from contracts.venues import POLYMARKET
from pages.widgets import arming_panel
from pages.widgets.arming_panel import Arming
from pages.widgets.common import actor, mode_badge, remember_answer
from pages.widgets.controls import post_and_wait
from pages.widgets.kv_form import versioned_form
from pages.widgets.setting_fields import setting_field
from storage.dashboard_queries import status_queries as queries
from storage.desk import config, desk_state
from storage.sqlite.db import Database

LIVE_WORD = "LIVE"
LIVE_CONFIRM, GO_LIVE, GO_PAPER = "live_confirm", "go_live", "go_paper"
MODE_SWITCH = "set_mode"  # where the paper/live switch answers (pages/settings.py draws it by the panel)
SETTINGS_PREFIX = "setting_"
POLYMARKET_ARMING = Arming(POLYMARKET, LIVE_WORD, "set_mode", {"mode": "live"}, "Switch to LIVE",
                           "Not switched to live", "live", GO_LIVE, f"{MODE_SWITCH}answer")


API_CREDENTIALS = ("POLY_API_KEY", "POLY_API_SECRET", "POLY_API_PASSPHRASE")


def credential_words(present: dict[str, bool]) -> dict[str, str]:
    """Each credential's status as the operator should read it: the CLOB API credentials are
    derived from the wallet key at start when not set, so they are not "missing" then; nor is a
    plain key that a keystore replaces. The wallet key is one setting of two (POLY_KEYSTORE, or
    POLY_PRIVATE_KEY in plain text), needed only to trade live: neither is "missing" on its own."""
    keyed = present.get("POLY_KEYSTORE", False) or present.get("POLY_PRIVATE_KEY", False)
    words = {}
    for name, configured in present.items():
        if configured:
            words[name] = "configured"
        elif name in API_CREDENTIALS:
            words[name] = "derived from the wallet key at start" if keyed else "derived once a wallet key is set"
        elif name in WALLET_KEY:
            words[name] = _wallet_key_words(name, present)
        else:
            words[name] = "missing"
    return words


WALLET_KEY = ("POLY_KEYSTORE", "POLY_PRIVATE_KEY")


def _wallet_key_words(name: str, present: dict[str, bool]) -> str:
    """An unset half of the wallet key: what the other half means for it."""
    if name == "POLY_PRIVATE_KEY" and present.get("POLY_KEYSTORE", False):
        return "not needed (the keystore holds the key)"
    if name == "POLY_KEYSTORE" and present.get("POLY_PRIVATE_KEY", False):
        return "not set: the key is in plain text in POLY_PRIVATE_KEY (encrypt it: engine keystore import)"
    if name == "POLY_KEYSTORE":
        return "not set: one wallet key (this, encrypted, or POLY_PRIVATE_KEY) is needed to trade live"
    return "not set: POLY_KEYSTORE or this, one of the two, is needed to trade live"


def check_line(ok: bool, text: str) -> None:
    st.markdown(f"{':material/check_circle:' if ok else ':material/cancel:'} {text}")


def mode_panel(db: Database, current: Settings) -> None:
    status = queries.engine_status(db)
    mode_badge(status.mode, status.venue_host)
    creds = credential_words(current.credential_status())
    st.dataframe(
        pd.DataFrame({"credential": list(creds), "status": list(creds.values())}),
        hide_index=True,
        key="credentials_table", placeholder="—",
    )
    st.caption(
        "Credentials live only in `.env`; the dashboard shows whether they are set, never their values."
    )
    if status.mode == "live":
        st.warning(desk_state.armed_sentence(status.mode, status.venue_host, desk_state.desk_state(status)),
                   icon=":material/bolt:")
        if st.button("Back to PAPER", key=GO_PAPER, type="primary", icon=":material/description:"):
            with st.spinner("Switching to paper: the engine stops live trading first…"):
                remember_answer(post_and_wait(db, "set_mode", {"mode": "paper"}, slot="set_mode:paper",
                                              label="Switch to paper"), key=f"{MODE_SWITCH}answer")
            st.rerun()
        return
    _live_switch(db, current)


def _live_switch(db: Database, current: Settings) -> None:
    gate = queries.arming_gate(db, POLYMARKET)
    arming_panel.checklist(gate)
    if current.keystore is None and current.private_key is not None:
        st.warning("The wallet key is kept in plain text in `.env`. Encrypt it before going live: "
                   "`.venv/bin/python -m engine keystore import` (docs/going-live.md).", icon=":material/key:")
    arming_panel.preflight_button(db, POLYMARKET_ARMING)
    arming_panel.arm_controls(db, gate, POLYMARKET_ARMING)


def hosts_panel(current: Settings) -> None:
    rows = [
        ("DATA_SOURCE", current.data_source),
        ("CLOB_HOST", current.clob_host),
        ("GAMMA_HOST", current.gamma_host),
        ("WS_HOST", current.ws_host),
        ("TRADER_DB", str(current.db_path)),
        ("settings file", str(current.env_file)),
    ]
    if current.data_source == "simulator":
        rows.insert(1, ("SIMULATOR_PORT", str(current.simulator_port)))
    st.dataframe(pd.DataFrame(rows, columns=["setting", "value"]), hide_index=True, key="hosts_table", placeholder="—")
    st.caption(
        "These come from `.env` (or the environment) and apply when the processes restart: edit `.env`, "
        "then `supervisorctl -c supervisord.conf restart engine dashboard`."
    )


def password_panel(current: Settings) -> None:
    state = "configured" if current.dashboard_password_hash is not None else "missing"
    st.markdown(
        f"The dashboard password hash (`DASHBOARD_PASSWORD_HASH` in `.env`) is **{state}**. To change the "
        "password, run from the project folder:"
    )
    st.code(".venv/bin/python -m engine set-password", language="bash")
    st.caption("It asks twice and stores only the scrypt hash. Log out and back in with the new password.")



def stored_problem(spec: SettingSpec, row: dict[str, Any] | None) -> str:
    """Why a stored setting is not in force ("" when it is): unreadable, or out of its bounds."""
    if not row:
        return ""
    if row.get("problem"):
        return f"{spec.title}: {row['problem']}"
    try:
        parse_setting(spec, row["value"])
    except SettingError as exc:
        return str(exc)
    return ""


def invalid_stored_settings(stored: dict[str, dict[str, Any]], specs: Iterable[SettingSpec]) -> None:
    """Name every stored setting that does not validate, so the operator can correct it below."""
    problems = [p for p in (stored_problem(spec, stored.get(spec.key)) for spec in specs) if p]
    if problems:
        st.error("Stored settings that do not validate (the engine keeps the value in force before, or the "
                 "default, and raised a CONFIG_INVALID alert): " + "; ".join(problems)
                 + ". Correct them below.",
                 icon=":material/error:")


def engine_settings_form(db: Database) -> None:
    stored = queries.engine_settings(db)
    specs = [s for s in SETTINGS if s.group == "engine"]  # notifications have their own panel
    invalid_stored_settings(stored, specs)
    fields = []
    for spec in specs:
        fields.append(setting_field(spec, stored.get(spec.key)))

    def save(changes: dict[str, tuple[Any, int | None]], _confirmed: Collection[str]) -> config.Saved:
        return config.save_settings(db, changes, actor=actor())  # settings switch no protection off

    versioned_form(prefix=SETTINGS_PREFIX, fields=fields, save=save, what="settings", admin=True)
