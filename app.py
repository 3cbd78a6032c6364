"""Dashboard entry point: page config, the login gate, the one navigation registry.

Run with `streamlit run app.py` (supervisord does this, bound to 127.0.0.1).
"""

from __future__ import annotations

import streamlit as st

from contracts.jsonsafe import keep_recursion_limit_sane
from contracts.settings import Settings, SettingsError
from pages.widgets.auth import (
    is_authenticated,
    keep_session_in_address,
    login_caption,
    login_page,
    logout_button,
    mark_routed,
    remember_requested_page,
    requested_page,
    restore_session,
)
from pages.widgets.common import settings
from pages.widgets.first_run import first_password_page

st.set_page_config(page_title="Polymarket desk", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Desk": [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/markets.py", title="Markets", icon=":material/storefront:"),
        st.Page("pages/orders.py", title="Orders & trades", icon=":material/receipt_long:"),
    ],
    "Configure": [
        st.Page("pages/strategies.py", title="Strategies", icon=":material/psychology:"),
        st.Page("pages/risk.py", title="Risk", icon=":material/shield:"),
        st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
    ],
    "Review": [
        st.Page("pages/backtest.py", title="Backtest", icon=":material/history:"),
        st.Page("pages/audit.py", title="Audit & alerts", icon=":material/fact_check:"),
    ],
}

# On a phone (390 px) a table of several columns is wider than the page: Streamlit clips it at the right edge
# (overflow-x: clip), with no way to reach the columns past it. There it scrolls sideways in its own frame
# instead; at a laptop's width every table fits (tests/browser/layout.py measures it) and nothing changes.
NARROW_TABLES = """<style>
@media (max-width: 768px) { [data-testid="stTable"] { overflow-x: auto !important; } }
</style>"""

# url path -> page, for a link opened before login (the default page's path is "")
BY_PATH = {p.url_path: p for group in PAGES.values() for p in group if p.url_path}


def checked_settings() -> Settings:
    """The settings, or (on a malformed `.env`) the reason in plain words and nothing else:
    without settings there is no database, password or page to show."""
    try:
        return settings()
    except SettingsError as exc:
        # The message names the setting and the fix, and never echoes a secret's value.
        st.error(f"The dashboard cannot start: {exc}", icon=":material/error:")
        st.caption("Settings are read on every page load: fix `.env` (or the environment), then reload.")
        st.stop()


keep_recursion_limit_sane()  # a page may have imported the signing stack (contracts/jsonsafe.py says why)
if checked_settings().dashboard_password_hash is None:
    page = st.navigation([st.Page(first_password_page, title="Set a password", url_path="setup")])
elif not is_authenticated() and not restore_session():
    remember_requested_page(set(BY_PATH))
    # The login answers at every page's address too: a bookmark opened while logged out shows the
    # login (and its page after it), never Streamlit's "Page not found" over it.
    page = st.navigation([st.Page(login_page, title="Log in", url_path="login", default=True),
                          *(st.Page(login_page, title="Log in", url_path=path) for path in BY_PATH)],
                         position="hidden")
else:
    page = st.navigation(PAGES)
    keep_session_in_address()
    wanted = requested_page()
    if wanted in BY_PATH and wanted != page.url_path:  # the default page (Overview) is where login lands anyway
        st.switch_page(BY_PATH[wanted])
    logout_button()
    login_caption()
    mark_routed(page.url_path)
    st.html(NARROW_TABLES)
page.run()
