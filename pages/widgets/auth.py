"""The password gate: nothing but these pages is registered until the operator logs in.

A login survives a page reload for DASHBOARD_SESSION_HOURS through a signed, expiring token in
the page's address (`?s=…`, storage/dashboard_queries/dashboard_sessions.py): it holds neither the password nor
its hash. Log out revokes it. A page opened before logging in (a bookmark, a link from a
notification) is where the operator lands after logging in. Wrong passwords are slowed per
session and, across every session and dashboard process, by the desk-wide guess budget of
storage/dashboard_queries/login_budget.py: a guess takes its token before the password is checked.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from urllib.parse import urlparse

import streamlit as st
from streamlit.errors import StreamlitAPIException

from contracts.passwords import verify_password
from pages.widgets.common import ACTOR, OPERATOR, ROLE_KEY, VIEWER, _database, settings
from storage.dashboard_queries import dashboard_sessions
from storage.dashboard_queries.login_budget import REFILL_S, WINDOW_S, Admission, DatabaseBudget, MemoryBudget
from storage.desk.audit import raise_alert, write_audit
from storage.sqlite.db import Database
from storage.sqlite.migrations import is_migrated

AUTH_KEY = "authenticated"
TOKEN_KEY = "session_token"
NEXT_PAGE_KEY = "after_login"
ROUTED_KEY = "routed_by_app"  # app.py has run in this session (its navigation and sidebar are in place)
TOKEN_PARAM = "s"
FAILED_LOGIN_DELAY_S = 1.0
VIEWER_ACTOR = "dashboard-viewer"  # the audit's actor for a viewer's login and logout


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


def _logins() -> list[tuple[str, str]]:
    """(role, password hash) of each login, the operator's first: a password both verified (set
    by hand) logs in as the operator. No viewer without an operator."""
    found = settings()
    if found.dashboard_password_hash is None:
        return []
    logins = [(OPERATOR, found.dashboard_password_hash.reveal())]
    if found.dashboard_viewer_password_hash is not None:
        logins.append((VIEWER, found.dashboard_viewer_password_hash.reveal()))
    return logins


def is_authenticated() -> bool:
    return bool(st.session_state.get(AUTH_KEY))


def restore_session() -> bool:
    """Log in from the address's session token, if it is valid (signed, unexpired, not logged out)."""
    token = st.query_params.get(TOKEN_PARAM)
    logins, db, hours = _logins(), _db(), settings().dashboard_session_hours
    if not token or not logins or db is None or hours <= 0:
        return False
    role = next((role for role, hashed in logins
                 if dashboard_sessions.session_of(db, token, hashed, max_hours=hours) is not None), None)
    if role is None:
        del st.query_params[TOKEN_PARAM]  # an expired or forged token: drop it from the address
        return False
    st.session_state[AUTH_KEY] = True
    st.session_state[ROLE_KEY] = role
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
    for role, hashed in _logins():
        if password and verify_password(password, hashed):
            _start_session(hashed, role)
            st.rerun()
    _alert_if_burst(budget.failed(login_clock()))
    time.sleep(FAILED_LOGIN_DELAY_S)  # slows guessing; the hash check itself is ~0.1 s
    st.error("Wrong password.")


def _start_session(hashed: str, role: str) -> None:
    st.session_state[AUTH_KEY] = True
    st.session_state[ROLE_KEY] = role
    hours = settings().dashboard_session_hours
    token = None
    if hours > 0:
        token = dashboard_sessions.issue(hashed, hours)
        st.session_state[TOKEN_KEY] = token
        st.query_params[TOKEN_PARAM] = token
    db = _db()
    if db is not None:  # before the first migration there is no audit log to write to
        dashboard_sessions.audit_login(db, token, actor=ACTOR if role == OPERATOR else VIEWER_ACTOR)


def _alert_if_burst(answer: Admission) -> None:
    db = _db()
    if db is None or not answer.alert:
        return
    failures = answer.misses
    message = (f"{failures} failed dashboard logins in the last {WINDOW_S / 60:.0f} minutes: someone may be "
               "guessing the password. Logins are slowed for every session; change the password if this was "
               "not you (python -m engine set-password).")
    with db.write() as conn:
        raise_alert(conn, level="warning", source="dashboard", code="LOGIN_FAILURES", message=message)
        write_audit(conn, actor="dashboard", action="login.failures", entity="dashboard",
                    before=None, after={"failures": failures, "window_s": WINDOW_S})


def logout_button() -> None:
    if st.sidebar.button("Log out", key="logout"):
        token = st.session_state.pop(TOKEN_KEY, None)
        db = _db()
        if db is not None:
            dashboard_sessions.revoke(db, token, actor=ACTOR if st.session_state.get(ROLE_KEY) != VIEWER
                                      else VIEWER_ACTOR)
        st.session_state.pop(AUTH_KEY, None)
        st.session_state.pop(ROLE_KEY, None)
        st.query_params.clear()
        st.rerun()
