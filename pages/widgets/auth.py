"""The password gate: nothing but these pages is registered until someone logs in.

A login is a name and a password (pages/widgets/logins.py: the administrator's of `.env`, with the
name left empty as before roles, and the users an administrator added); its role and venue are read
again on every run, and by every auto-refreshing fragment (common.live_fragment), so a user removed,
demoted or given a new password is logged out or held to the new role at the next click or refresh;
every write of theirs is checked again by its writer as the login is then
(storage/desk/dashboard_logins.py). A login survives a page reload for DASHBOARD_SESSION_HOURS through a
signed, expiring token in the page's address (`?s=…`, storage/desk/dashboard_sessions.py): it holds
neither the password nor its hash. Log out revokes it. A page opened before logging in (a bookmark, a
link from a notification) is where one lands after logging in. Wrong passwords are slowed per session
and, across every session and dashboard process, by the desk-wide guess budget of
storage/desk/login_budget.py: a guess takes its token before the password is checked. Every write
here goes through those two storage modules, audited.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from urllib.parse import urlparse

import streamlit as st
from streamlit.errors import StreamlitAPIException

from contracts.roles import Role
from contracts.venues import LABELS
from pages.widgets.common import ACCESS_KEY, ROLE_KEY, _database, settings
from pages.widgets.logins import every_login, login_named, matching
from storage.desk import dashboard_sessions, dashboard_users
from storage.desk.dashboard_logins import Login
from storage.desk.dashboard_users import ADMIN_NAME
from storage.desk.login_budget import REFILL_S, WINDOW_S, Admission, DatabaseBudget, MemoryBudget
from storage.sqlite.db import Database
from storage.sqlite.migrations import is_migrated

AUTH_KEY = "authenticated"
USER_KEY, FINGERPRINT_KEY = "login_user", "login_fingerprint"  # who logged in, and with which secret
TOKEN_KEY = "session_token"
NEXT_PAGE_KEY = "after_login"
ROUTED_KEY = "routed_by_app"  # app.py has run in this session (its navigation and sidebar are in place)
TOKEN_PARAM = "s"
FAILED_LOGIN_DELAY_S = 1.0


# The budget's clock (seconds): a test moves it instead of waiting.
login_clock = time.time


@st.cache_resource(show_spinner=False)
def _memory_budget() -> MemoryBudget:
    """Before the database exists: one budget for this dashboard process."""
    return MemoryBudget()


def login_budget() -> DatabaseBudget | MemoryBudget:
    """The desk-wide budget in the database once there is one (every session and process
    shares it), else this process's."""
    db = _db()
    return DatabaseBudget(db) if db is not None else _memory_budget()


def _db() -> Database | None:
    path = settings().db_path
    return _database(str(path)) if is_migrated(path) else None


def is_authenticated() -> bool:
    """Logged in, as a login that still exists with the secret it logged in with (its role and venue
    as they are now); a login removed or given a new password since is logged out here."""
    if not st.session_state.get(AUTH_KEY):
        return False
    login = login_named(str(st.session_state.get(USER_KEY, "")), settings(), _db())
    if login is None or login.fingerprint != st.session_state.get(FINGERPRINT_KEY):
        _forget_login()
        return False
    _hold(login)
    return True


def _hold(login: Login) -> None:
    st.session_state[AUTH_KEY] = True
    st.session_state[USER_KEY] = login.name
    st.session_state[FINGERPRINT_KEY] = login.fingerprint
    st.session_state[ROLE_KEY] = login.role.value
    st.session_state[ACCESS_KEY] = login.access


def _forget_login() -> None:
    for key in (AUTH_KEY, USER_KEY, FINGERPRINT_KEY, ROLE_KEY, ACCESS_KEY):
        st.session_state.pop(key, None)


def restore_session() -> bool:
    """Log in from the address's session token, if it is valid (signed, unexpired, not logged out)."""
    token = st.query_params.get(TOKEN_PARAM)
    db, hours = _db(), settings().dashboard_session_hours
    logins = every_login(settings(), db) if token and db is not None and hours > 0 else []
    if not token or not logins or db is None:
        return False
    login = next((login for login in logins
                  if dashboard_sessions.session_of(db, token, login.signing, max_hours=hours) is not None), None)
    if login is None:
        del st.query_params[TOKEN_PARAM]  # an expired or forged token: drop it from the address
        return False
    _hold(login)
    st.session_state[TOKEN_KEY] = token
    return True


def require_login(page_file: str) -> None:
    """Each page checks the gate itself. Streamlit also serves a file of pages/ straight from its
    address (/risk) without running app.py, so app.py's gate alone would let that page render
    to anyone. An operator not logged in is sent to the login, and lands on this page after it.

    A page served straight is sent through app.py even when the address's token logs it in: a tab
    left open across a dashboard restart reconnects to a new session that has not run app.py, and
    Streamlit then serves the page alone, under its own raw list of pages/ and without the sidebar
    app.py draws (the pages' names, Log out) until the next click."""
    logged_in = is_authenticated() or restore_session()
    if logged_in and st.session_state.get(ROUTED_KEY):
        return
    st.session_state[NEXT_PAGE_KEY] = Path(page_file).stem
    try:
        st.switch_page("app.py")
    except StreamlitAPIException:  # no app.py to switch to (not run through it): refuse plainly
        st.error("Log in first: open the dashboard's address without a page name.", icon=":material/lock:")
        st.stop()


def mark_routed(page: str) -> None:
    """app.py, before it runs the page it routed to: this session's pages run through it. On a
    narrow screen the page list (the sidebar, drawn over the page there) closes once a page is
    chosen: Streamlit closes it itself only for a phone's browser, not for a narrow window."""
    st.session_state[ROUTED_KEY] = True
    # Our own script, the page's path in it so that it runs again (only) when the page changes.
    st.sidebar.html(CLOSE_ON_NARROW.replace("PAGE", json.dumps(page)), unsafe_allow_javascript=True)


CLOSE_ON_NARROW = """<script data-page=PAGE>
if (window.matchMedia('(max-width: 768px)').matches) {
  const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
  if (close && close.getAttribute('aria-expanded') === 'true') close.click();
}
</script>"""


def keep_session_in_address() -> None:
    """Put the token back in the address after a page change dropped it, so a reload keeps the login."""
    token = st.session_state.get(TOKEN_KEY)
    if token and st.query_params.get(TOKEN_PARAM) != token:
        st.query_params[TOKEN_PARAM] = token


def page_path(url: str | None, known: set[str]) -> str | None:
    """The page a URL asks for (its last path segment), if it is one of the dashboard's pages."""
    if not url:
        return None
    segment = urlparse(url).path.rstrip("/").rpartition("/")[2]
    return segment if segment in known else None


def remember_requested_page(known: set[str]) -> None:
    """Before login: note which page the address asked for, to open it after login."""
    wanted = page_path(st.context.url, known)
    if wanted:
        st.session_state[NEXT_PAGE_KEY] = wanted


def requested_page() -> str | None:
    """After login: the page asked for before it (once)."""
    return st.session_state.pop(NEXT_PAGE_KEY, None)


def login_page() -> None:
    st.title("Polymarket desk")
    st.write("Log in to watch and steer the engine.")
    with st.form("login"):
        name = st.text_input("User", key="user", placeholder="empty: the desk's own password (admin)",
                             help="The name an administrator gave you on the Settings page. Leave it empty "
                                  "for the desk's own password (DASHBOARD_PASSWORD_HASH in .env), the "
                                  "administrator's.")
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    budget = login_budget()
    admitted = budget.take(login_clock())
    if not admitted.allowed:
        _alert_if_burst(admitted)
        st.error(f"Too many failed logins: try again in {max(1, math.ceil(admitted.wait_s))} s "
                 f"(one guess every {REFILL_S:.0f} s, for everyone).", icon=":material/lock_clock:")
        return
    login = matching(name, password, settings(), _db())
    if login is not None:
        start_session(login)
        st.rerun()
    _alert_if_burst(budget.failed(login_clock()))
    time.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing; the hash check itself is ~0.1 s
    st.error("Wrong user or password." if name.strip() else "Wrong password.")


def start_session(login: Login) -> None:
    """Logged in as `login` (audited `dashboard.login` under its actor), with a session token when
    sessions last (DASHBOARD_SESSION_HOURS)."""
    _hold(login)
    hours = settings().dashboard_session_hours
    token = None
    if hours > 0:
        token = dashboard_sessions.issue(login.signing, hours)
        st.session_state[TOKEN_KEY] = token
        st.query_params[TOKEN_PARAM] = token
    db = _db()
    if db is not None:  # before the first migration there is no audit log to write to
        dashboard_sessions.audit_login(db, token, actor=login.access.actor)


def _alert_if_burst(answer: Admission) -> None:
    db = _db()
    if db is not None and answer.alert:
        dashboard_sessions.record_login_failures(db, answer.misses, window_s=WINDOW_S)


def login_caption() -> None:
    """Who is logged in, in the sidebar, and what their role lets them do. The administrator of a desk
    with no other user yet (a desk that upgraded to roles, or a new one) reads where users are added."""
    access = st.session_state.get(ACCESS_KEY)
    if access is None:
        return
    if access.role is Role.VIEWER:
        st.sidebar.caption(f":material/visibility: Logged in read-only as {access.user} (viewer): every page, "
                           "no changes.")
    elif access.role is Role.OPERATOR:
        only = f", {LABELS.get(access.venue, access.venue)} only" if access.venue else ""
        st.sidebar.caption(f":material/person: Logged in as {access.user} (operator{only}): trading and strategies; "
                           "settings, arming and users are the administrator's.")
    else:
        db = _db()
        alone = db is not None and not dashboard_users.users(db)
        st.sidebar.caption(f":material/admin_panel_settings: Logged in as {access.user} (administrator)."
                           + (" This desk's password is the administrator's: add operators and viewers under "
                              "Settings, Users." if alone and access.user == ADMIN_NAME else ""))


def logout_button() -> None:
    if st.sidebar.button("Log out", key="logout"):
        token = st.session_state.pop(TOKEN_KEY, None)
        db, access = _db(), st.session_state.get(ACCESS_KEY)
        if db is not None:
            dashboard_sessions.revoke(db, token, actor=access.actor if access is not None else "dashboard")
        _forget_login()
        st.query_params.clear()
        st.rerun()
