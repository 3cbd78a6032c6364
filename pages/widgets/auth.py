"""The password gate: nothing but these pages is registered until the operator logs in."""

from __future__ import annotations

import time

import streamlit as st

from storage.passwords import verify_password

from pages.widgets.common import settings

AUTH_KEY = "authenticated"
FAILED_LOGIN_DELAY_S = 1.0


def is_authenticated() -> bool:
    return bool(st.session_state.get(AUTH_KEY))


def login_page() -> None:
    st.title("Polymarket desk")
    st.write("Log in to watch and steer the engine.")
    with st.form("login"):
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    hashed = settings().dashboard_password_hash
    if hashed is not None and password and verify_password(password, hashed.reveal()):
        st.session_state[AUTH_KEY] = True
        st.rerun()
    time.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing; the hash check itself is ~0.1 s
    st.error("Wrong password.")


def no_password_page() -> None:
    st.title("Set a dashboard password first")
    st.error("No dashboard password is configured, so the dashboard stays locked.")
    st.markdown(
        """
The dashboard never runs open. Set a password once, from the project folder:

```bash
.venv/bin/python -m engine set-password
```

It asks for the password twice and writes its scrypt hash to `.env` as
`DASHBOARD_PASSWORD_HASH` (the password itself is stored nowhere). Then reload this page.
"""
    )


def logout_button() -> None:
    if st.sidebar.button("Log out", key="logout"):
        st.session_state.pop(AUTH_KEY, None)
        st.rerun()
