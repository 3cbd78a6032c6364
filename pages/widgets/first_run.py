"""The dashboard's first run: no password is set yet, so choose one here: the administrator's.

`make run` asks for it in the terminal; started without one (in the background, under a
service manager) it cannot, and the dashboard is then the first place the operator meets. The
form writes only the scrypt hash, to `.env` (contracts.passwords: mode 600, every other line kept),
exactly as `python -m engine set-password` does; the password itself is stored nowhere. It is the
administrator's (user `admin`, or the name left empty), who then adds the desk's other users on the
Settings page. The audit row goes through storage/desk/dashboard_sessions.py, like every login write.

Only while no password is set, and only on a dashboard that listens on this machine alone
(127.0.0.1, reached through an SSH tunnel): whoever can open it already holds the machine's SSH
key. On any other address the page gives the shell command instead.
"""

from __future__ import annotations

import streamlit as st

from contracts.passwords import ENV_KEY, PasswordError, hash_password, write_env_value
from contracts.settings import load_settings
from pages.widgets.auth import _db, start_session
from pages.widgets.logins import env_logins
from storage.desk import dashboard_sessions

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
CLI = ".venv/bin/python -m engine set-password"
FP_PASSWORD, FP_REPEAT, FP_SAVE = "first_password", "first_password_repeat", "first_password_save"


def listens_locally() -> bool:
    return str(st.get_option("server.address") or "") in LOOPBACK


def first_password_page() -> None:
    st.title("Set a dashboard password first")
    st.error("No dashboard password is configured, so the dashboard stays locked.")
    if not listens_locally():
        address = st.get_option("server.address") or "every address"
        st.markdown(f"This dashboard listens on **{address}**, so the password is set from the server's shell, "
                    f"not from here:\n\n```bash\n{CLI}\n```\n\nIt asks twice and writes its scrypt hash to `.env`. "
                    "Then reload this page.")
        return
    st.markdown("Choose it now (at least 8 characters): it is the administrator's, who adds the desk's other "
                "users (operators, viewers) on the Settings page. Only its scrypt hash is kept, in `.env` as "
                f"`{ENV_KEY}`; you can change it later with `{CLI}`.")
    with st.form("first_password_form"):
        first = st.text_input("New password", type="password", key=FP_PASSWORD)
        second = st.text_input("Repeat it", type="password", key=FP_REPEAT)
        submitted = st.form_submit_button("Set the password and log in", type="primary", key=FP_SAVE)
    if submitted:
        _set(first, second)


def _set(first: str, second: str) -> None:
    if first != second:
        st.error("The two passwords differ: nothing saved.")
        return
    try:
        hashed = hash_password(first)
    except PasswordError as exc:
        st.error(f"Nothing saved: {exc}.")
        return
    current = load_settings()  # read again: another tab or the shell may have set one meanwhile
    if current.dashboard_password_hash is not None:
        st.error("A password was set meanwhile (elsewhere): nothing saved. Reload the page and log in with it.")
        return
    write_env_value(current.env_file, ENV_KEY, hashed)
    if load_settings().dashboard_password_hash is None:  # the environment sets it empty, and wins
        st.error(f"Saved to `{current.env_file}`, but the environment this dashboard was started with sets "
                 f"`{ENV_KEY}` (empty), which wins over `.env`: unset it and restart the dashboard.")
        return
    db = _db()
    if db is not None:
        dashboard_sessions.record_password_set(db, where=str(current.env_file))
    start_session(env_logins(load_settings())[0])  # the administrator's
    st.rerun()
