"""Settings page: the dashboard's users, managed by an administrator (storage/desk/dashboard_users.py).

Each change (add, change a role, a venue or a password, remove) is confirmed by typing the user's
name, and audited; the writer checks again that whoever asks is an administrator. A new password or
a removal ends that user's sessions at once: their open pages write nothing more and show the login
within seconds (storage/desk/dashboard_logins.py). The administrator's own password (`admin`)
stays in `.env`, changed from the shell.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts import text
from contracts.roles import ROLE_WORDS, Role
from contracts.venues import LABELS, VENUES
from pages.widgets.common import actor, current_access, flash, time_column
from storage.desk import dashboard_users
from storage.desk.config import ConfigError
from storage.desk.dashboard_users import ADMIN_NAME, role_words
from storage.sqlite.db import Database

USERS = "users"  # where the panel's answers show
EVERY_VENUE = "every venue"
ROLES = [Role.OPERATOR.value, Role.VIEWER.value, Role.ADMIN.value]
ROLE_HELP = ("administrator: everything (settings, keys, arming, users); operator: trading and strategies, "
             "optionally on one venue; viewer: sees every page, changes nothing")


def users_panel(db: Database) -> None:
    access = current_access()
    if access is not None and access.role is not Role.ADMIN:
        st.caption(f"Only an administrator manages the dashboard's users; you are {access.described}.")
        return
    found = dashboard_users.users(db)
    st.caption(f"`{ADMIN_NAME}` is the desk's own password (`DASHBOARD_PASSWORD_HASH` in `.env`), an administrator: "
               "change it with `.venv/bin/python -m engine set-password`. " + ROLE_HELP + ".")
    if found:
        st.dataframe(pd.DataFrame([{"user": u.name, "role": role_words(u.role, u.venue),
                                    "changed": pd.Timestamp(u.updated_at, unit="ms", tz="UTC"), "by": u.updated_by}
                                   for u in found]),
                     hide_index=True, column_config={"changed": time_column("changed")}, placeholder="—")
    flash(near=USERS)
    add, change = st.tabs(["Add a user", "Change or remove a user"])
    with add:
        _add_form(db)
    with change:
        if found:
            _change_form(db, found)
        else:
            st.caption("No user yet.")


def _role_fields(prefix: str, role: str = Role.OPERATOR.value, venue: str | None = None) -> tuple[str, str | None]:
    chosen = st.selectbox("Role", ROLES, index=ROLES.index(role), key=f"{prefix}_role",
                          format_func=lambda r: ROLE_WORDS[Role(r)], help=ROLE_HELP)
    venues = [EVERY_VENUE, *VENUES]
    picked = st.selectbox("An operator's venue", venues, index=venues.index(venue or EVERY_VENUE),
                          key=f"{prefix}_venue", format_func=lambda v: LABELS.get(v, v),
                          help="An operator limited to one venue trades only there: what names another venue, "
                               "or adds risk across the desk (start, resume, re-arm), is refused.")
    return chosen, None if picked == EVERY_VENUE or chosen != Role.OPERATOR.value else picked


def _add_form(db: Database) -> None:
    with st.form("users_add_form", clear_on_submit=False):
        name = st.text_input("Name", key="users_add_name", max_chars=32)
        password = st.text_input("Password (at least 8 characters)", type="password", key="users_add_password")
        repeat = st.text_input("Repeat it", type="password", key="users_add_repeat")
        role, venue = _role_fields("users_add")
        typed = st.text_input("Type the name again to confirm", key="users_add_confirm")
        if not st.form_submit_button("Add the user", key="users_add", icon=":material/person_add:"):
            return
    if _refused(name, typed, password, repeat):
        return
    try:
        added = dashboard_users.add_user(db, name=name, password=password, role=role, venue=venue, actor=actor())
    except ConfigError as exc:
        st.error(f"Nothing saved: {text.markdown(str(exc))}.")
        return
    _said(f"User {added.name} added as {role_words(added.role, added.venue)} (audited). They log in with that name "
          "and password.")


def _change_form(db: Database, found: list[dashboard_users.User]) -> None:
    names = [u.name for u in found]
    picked = st.selectbox("User", names, key="users_edit_pick")
    chosen = next(u for u in found if u.name == picked)
    # Keyed by the user and its version: another pick, or a change saved, shows that user's role as stored.
    keyed = edit_prefix(chosen.name, chosen.version)
    with st.form("users_edit_form"):
        role, venue = _role_fields(keyed, chosen.role.value, chosen.venue)
        password = st.text_input("New password (empty: unchanged)", type="password", key="users_edit_password")
        repeat = st.text_input("Repeat it", type="password", key="users_edit_repeat")
        typed = st.text_input("Type the user's name to confirm", key="users_edit_confirm")
        save = st.form_submit_button("Save the change", key="users_edit_save", icon=":material/save:")
        remove = st.form_submit_button("Remove the user", key="users_edit_remove", icon=":material/person_remove:")
    if not (save or remove) or _refused(chosen.name, typed, password, repeat):
        return
    try:
        if remove:
            dashboard_users.remove_user(db, name=chosen.name, version=chosen.version, actor=actor())
            _said(f"User {chosen.name} removed (audited): their sessions end now.")
        else:
            dashboard_users.change_user(db, name=chosen.name, version=chosen.version, role=role, venue=venue,
                                        password=password or None, actor=actor())
            _said(f"User {chosen.name} is now {role_words(Role(role), venue)} (audited)"
                  + (": their new password ends their sessions." if password else "."))
    except ConfigError as exc:
        st.error(f"Nothing saved: {text.markdown(str(exc))}.")


def edit_prefix(name: str, version: int) -> str:
    """The keys of the change form's role and venue for this user at this version."""
    return f"users_edit_{name}_v{version}"


def _refused(name: str, typed: str, password: str, repeat: str) -> bool:
    """Said on the page, and True, when the confirmation or the repeated password does not match."""
    if typed.strip().lower() != name.strip().lower() or not name.strip():
        st.error("Nothing saved: type the user's name in the confirmation box.")
        return True
    if password != repeat:
        st.error("Nothing saved: the two passwords differ.")
        return True
    return False


def _said(message: str) -> None:
    st.session_state[f"{USERS}flash"] = message
    st.rerun()
