"""Shared dashboard plumbing: settings, the database handle, the health header, formatting."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import streamlit as st
from sqlalchemy import Connection
from streamlit.elements.lib.column_types import ColumnConfig

from charts import text
from contracts.roles import Access, Role, Scope, why_not
from contracts.settings import Settings, load_settings
from contracts.venue_policies import policy_of
from storage.dashboard_queries import status_queries as queries
from storage.desk import dashboard_logins, desk_state, desk_status
from storage.desk.audit import record_refusal
from storage.sqlite.db import Database
from storage.sqlite.migrations import is_migrated

ACTOR = "dashboard"  # the audit's actor of a write made without a login (the administrator's, before roles)
# Who is logged in (pages/widgets/auth.py, read again every run): their role's word, and their Access,
# which every database handle a page is given writes as (contracts/roles.py). A viewer's pages read
# through a read-only handle besides, so a write no writer checks cannot change the desk either.
ROLE_KEY = "login_role"
ACCESS_KEY = "login_access"
VIEWER_REFUSAL = ("you are logged in read-only (a viewer sees every page and changes nothing), so nothing was "
                  "changed. Log in as an operator or the administrator to steer the desk")
HEADER_REFRESH_S = 5
TIME_FORMAT = "YYYY-MM-DD HH:mm:ss"


def settings() -> Settings:
    """Read per rerun (cheap), so a new password hash or host applies without a restart."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def _database(path: str) -> Database:
    # Keyed on the path: AppTests in one process each get their own file's engines.
    return Database(Path(path))


class ViewerDatabase(Database):
    """A viewer's handle: reads as the operator's do; a write, whatever widget, fragment or dialog
    asked for it, is refused on the page in words and the run stops there (a script stop, which no
    `except Exception` swallows), before anything is changed or launched."""

    def __init__(self, path: Path):
        super().__init__(path, read_only=True)

    def write(self, *, synced: bool = True) -> AbstractContextManager[Connection]:
        self.refuse(VIEWER_REFUSAL[:1].upper() + VIEWER_REFUSAL[1:])


@st.cache_resource(show_spinner=False)
def _viewer_database(path: str) -> Database:
    return ViewerDatabase(Path(path))


def is_viewer() -> bool:
    return st.session_state.get(ROLE_KEY) == Role.VIEWER


def current_access() -> Access | None:
    """Who is logged in in this session (None: nobody, or the first run before its password)."""
    found = st.session_state.get(ACCESS_KEY)
    return found if isinstance(found, Access) else None


def login_holds() -> bool:
    """Whether this session's login is still the one its pages were drawn for: it exists, with the same
    password, role and venue (the writers' own rule, storage/desk/dashboard_logins.py)."""
    access = current_access()
    path = settings().db_path
    if access is None or access.credential is None or not is_migrated(path):
        return True
    with _database(str(path)).read() as conn:
        return dashboard_logins.why_not_now(conn, access) is None


Body = TypeVar("Body", bound=Callable[..., Any])


def live_fragment(run_every: float | None) -> Callable[[Body], Body]:
    """`st.fragment(run_every=...)` whose every refresh first asks whether the login still holds: a fragment
    runs without the page's login check, so one whose login was removed, demoted or given a new password
    reruns the whole app instead, whose gate then logs the user out (the open page shows the login, no
    longer the desk) or draws the page for the new role. The dashboard's auto-refreshing fragments are all
    made here (tests/dashboard/test_live_fragments.py); their writes are checked by the writers anyway."""

    def make(body: Body) -> Body:
        @functools.wraps(body)
        def refresh(*args: Any, **kwargs: Any) -> Any:
            if not login_holds():
                st.rerun(scope="app")
            return body(*args, **kwargs)

        return st.fragment(refresh, run_every=run_every)  # type: ignore[return-value]  # (wraps keeps its name)

    return make


def actor() -> str:
    """What the audit names this session's writes by: `dashboard` for the administrator's own password,
    `dashboard:<user>` for a user, `dashboard-viewer` for the legacy viewer."""
    access = current_access()
    return ACTOR if access is None else access.actor


def may_not(scope: Scope, venues: frozenset[str] = frozenset()) -> str | None:
    """Why this session's login may not make a write reaching `scope` (a control is then disabled, this on
    hover), or None. A courtesy only: the writer checks again, whatever the browser sends."""
    why = why_not(current_access(), scope, venues)
    return None if why is None else f"Not yours to do: {why}."


def read_only(what: str, *, admin: bool = False) -> bool:
    """True when this session's login may change nothing of `what` (a viewer: anything; an operator:
    what is the administrator's, `admin`), said in one caption where its controls would be: the page
    then leaves those controls out. A courtesy only: the writers refuse such a write whatever is sent."""
    access = current_access()
    if access is None or access.role is Role.ADMIN or (access.role is Role.OPERATOR and not admin):
        return False
    whose = "the administrator's" if access.role is Role.OPERATOR else "not a viewer's"
    st.caption(f":material/visibility: {what[:1].upper()}{what[1:]}: changing it is {whose} "
               f"(you are {access.described}).")
    return True


def _refused(access: Access, path: str) -> Callable[[str], None]:
    def say_and_stop(reason: str) -> None:
        st.error(reason, icon=":material/block:")
        record_refusal(_database(path), access, reason, entity="dashboard")  # a viewer's own handle only reads
        st.stop()  # a script stop, which no `except Exception` swallows: the run ends before any write

    return say_and_stop


def database() -> Database:
    """The shared handle (read-only for a viewer), writing as whoever is logged in (every writer a page
    reaches checks their role first: a refusal is said on the page, audited, and the run stops there),
    or a plain 'waiting for the engine' page if there is no schema yet."""
    path = settings().db_path
    if not is_migrated(path):
        st.info(
            f"Waiting for the engine to create the database at `{path}`. "
            "Start it with `make run` (or `supervisorctl -c supervisord.conf start engine`)."
        )
        st.stop()
    shared = _viewer_database(str(path)) if is_viewer() else _database(str(path))
    access = current_access()
    return shared if access is None else shared.acting_as(access, on_refused=_refused(access, str(path)))


# -- formatting (units always shown; times always UTC) ---------------------------------------------


def money(value: float | None, *, signed: bool = False) -> str:
    """A value already in pUSD."""
    return "—" if value is None else f"{usdc(value, signed=signed)} pUSD"


def usdc(value: float | None, *, signed: bool = False) -> str:
    """A pUSD amount without its unit, for a metric whose label carries it ("Equity (pUSD)"):
    a metric's big type cuts a value that does not fit its column, and the unit is what costs."""
    if value is None:
        return "—"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} %"


def utc(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_day_ms(day: date | None, *, end: bool) -> int | None:
    """A UTC calendar day as epoch ms: its first millisecond, or with `end` its last (so a
    date-range filter includes the whole end day)."""
    if day is None:
        return None
    moment = datetime.combine(day, time.min, tzinfo=UTC) + timedelta(days=int(end))
    return int(moment.timestamp() * 1000) - int(end)


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# -- table columns with their units ----------------------------------------------------------------


def time_column(label: str) -> ColumnConfig:
    return st.column_config.DatetimeColumn(f"{label} (UTC)", format=TIME_FORMAT, timezone="UTC")


def usdc_column(label: str, *, pinned: bool = False) -> ColumnConfig:
    """Money in a table; `pinned` keeps a key column (PnL) in view when a wide table scrolls."""
    return st.column_config.NumberColumn(f"{label} (pUSD)", format="%.2f", pinned=pinned)


def shares_column(label: str) -> ColumnConfig:
    return st.column_config.NumberColumn(f"{label} (shares)", format="%.2f")


def prob_column(label: str) -> ColumnConfig:
    return st.column_config.NumberColumn(f"{label} (probability)", format="%.4f")


def pct_column(label: str) -> ColumnConfig:
    return st.column_config.NumberColumn(f"{label} (%)", format="%.2f")


# -- the header every page shows -----------------------------------------------------------------


def mode_badge(mode: str, host: str | None = None, venue: str = "") -> None:
    """PAPER, or LIVE: red with "real money" only against a real venue (storage/desk/desk_state.py)."""
    label = desk_state.money_label(mode, host, venue)
    if mode == "live":
        real = label.endswith("real money")
        st.badge(label, icon=":material/bolt:", color="red" if real else "orange")
    else:
        st.badge(label, icon=":material/description:", color="blue")


STATE_COLORS = {
    "RUNNING": "green",
    "PAUSED": "orange",
    "STARTING": "blue",
    "STOPPING": "blue",
    "STOPPED": "gray",
    "IDLE": "gray",
    "KILLED": "red",
    "ERROR": "red",
}
TRADING_COLORS = {"ACTIVE": "green", "REDUCING": "orange", "HALTED": "red"}
LEVEL_COLORS = {"ok": "green", "info": "gray", "warning": "orange", "critical": "red"}


def health_header(db: Database) -> desk_status.EngineStatus:
    """Mode badge, lifecycle and the desk's one state (storage/desk/desk_state.py), heartbeat age,
    kill latch: on every page."""
    status = queries.engine_status(db)
    desk = desk_state.desk_state(status)
    cols = st.columns([2.3, 1, 1.8, 2.9])  # the mode and the desk state in full at 1366 px
    with cols[0]:
        mode_badge(status.mode, status.venue_host)
        for venue in status.armed_live():  # a venue armed on its own: its own words, whatever the desk's mode
            mode_badge("live", status.host_of(venue), policy_of(venue).label)
    with cols[1]:
        st.badge(status.state, color=STATE_COLORS.get(status.state, "gray"))  # type: ignore[arg-type]  # the colours are Streamlit's literals, looked up by state
    with cols[2]:
        st.badge(desk.label, color=LEVEL_COLORS[desk.level],  # type: ignore[arg-type]  # Streamlit's literals
                 help=text.markdown(desk.reason or "no limit is binding"))
    with cols[3]:
        if status.heartbeat_stale:
            seen = (
                "never seen" if status.heartbeat_age_s is None else f"last {age(status.heartbeat_age_s)} ago"
            )
            st.error(
                f"Engine heartbeat is stale ({seen}): "
                "the engine is not running or is stuck. Nothing you press here will happen "
                "until it is back.",
                icon=":material/heart_broken:",
            )
        else:
            st.caption(f"Engine alive · heartbeat {age(status.heartbeat_age_s)} ago · pid {status.pid}"
                       + tier_caption(status.venue_tier))
    if status.cannot_decide:
        st.error(f"The desk cannot decide: {status.cannot_decide}. Its quotes are not being updated; trading "
                 "resumes when its passes succeed and you start it.", icon=":material/report:")
    if status.kill_latched:
        st.error(
            f"KILL LATCH SET: {text.markdown(status.kill_reason or 'no reason given')}. No orders can be placed "
            "until you re-arm (Overview or Risk page).",
            icon=":material/block:",
        )
    venue_banner(status)
    return status


VENUE_BANNERS = {
    "maintenance": "Venue maintenance: Polymarket's matching engine is restarting. Orders are held back and "
                   "resting quotes stay; trading resumes by itself when the venue answers again.",
    "post_only": "Venue in its post-only phase after a restart: only post-only orders are accepted for now; "
                 "the engine holds the others back and resumes them by itself.",
    "rate_limited": "The venue is rate-limiting the engine: placements wait for its Retry-After.",
}


def tier_caption(tier: dict[str, Any]) -> str:
    """The live venue's rate-limit tier, what the desk paces its orders and cancels by ("" when no
    live venue is connected)."""
    if not tier:
        return ""
    said = "" if tier.get("read_at") else " (assumed: the venue has not named it yet)"
    return (f" · venue rate tier {text.markdown(str(tier['tier']))}{said}: {tier.get('order_rate')} orders/s, "
            f"{tier.get('cancel_rate')} cancels/s")


def venue_banner(status: desk_status.EngineStatus) -> None:
    """The venue's conditions (not engine failures) while it is not plainly open: its phase, and
    every other condition the engine sees now (no answer, heartbeats refused, a rate-limit
    warning, the wallet drifting from the ledger), each with the time it began."""
    if status.heartbeat_stale:
        return  # a stale engine's view of the venue is stale too; the heartbeat error says so
    text_ = VENUE_BANNERS.get(status.venue_status)
    if text_ is not None:
        st.warning(text_ + _since(status.venue_status_at), icon=":material/construction:")
    for condition in status.venue_conditions:
        since = condition.get("since")
        st.warning(f"Venue: {text.markdown(condition.get('detail') or condition['code'])}"
                   f"{_since(since if isinstance(since, int) else None)}", icon=":material/warning:")


def _since(at_ms: int | None) -> str:
    return "" if at_ms is None else f" (since {datetime.fromtimestamp(at_ms / 1000, tz=UTC):%H:%M:%S} UTC)"


@live_fragment(run_every=HEADER_REFRESH_S)
def live_header(db: Database) -> None:
    """The header as a live panel, for pages whose body does not refresh by itself."""
    health_header(db)



@dataclass(frozen=True)
class Answer:
    """What became of one posted command, in words the operator reads."""

    command_id: int
    kind: str
    state: Literal["done", "partial", "failed", "queued"]  # partial: done, and something was left undone
    message: str
    result: str | None = None


def remember_answer(answer: Answer, key: str, *, holds: str | None = None) -> None:
    """Keep an answer for `flash` (a dialog closes with st.rerun). `key`: f"{near}answer", the answer
    drawn by `flash(near=...)` next to its control. `holds`: what the answer says of the desk now
    (e.g. the engine's phase, `controls.engine_phase`); once `flash` is given another, it goes."""
    st.session_state[key] = answer
    st.session_state[key.removesuffix("answer") + "holds"] = holds


def render_answer(answer: Answer) -> None:
    """Green done, amber partly done (what remains and why), red failed with the engine's reason, amber
    queued."""
    if answer.state == "done":
        st.success(answer.message, icon=":material/check_circle:")
    elif answer.state == "partial":
        st.warning(answer.message, icon=":material/rule:")
    elif answer.state == "failed":
        st.error(answer.message, icon=":material/error:")
    else:
        st.warning(answer.message, icon=":material/schedule:")


def forget(near: str) -> None:
    """Drop what the control `near` said (read, or no longer true)."""
    for part in ("flash", "answer", "holds", "shown"):
        st.session_state.pop(f"{near}{part}", None)


def flash(*, near: str, holds: str | None = None) -> None:
    """What the last action at the control `near` said: a message, and the engine's answer to a
    command posted then (done, failed with its reason, or still queued), kept under
    f"{near}flash" / f"{near}answer" (`remember_answer`), drawn where the page calls this, right
    by that control and nowhere else. Kept on every run (refreshes, other clicks) until the operator
    closes it (read), acts there again, or, when it was kept with what it `holds` of the desk, the
    desk no longer does (`holds` here is the same reading now: the engine started after "Stop:
    done", a strategy changed after "paused")."""
    message, answer = st.session_state.get(f"{near}flash"), st.session_state.get(f"{near}answer")
    if not message and not isinstance(answer, Answer):
        return
    kept = st.session_state.get(f"{near}holds")
    if kept is not None and holds is not None and kept != holds:
        forget(near)  # no longer true: the state it answered has moved on
        return
    with st.container(key=f"said_{near}", horizontal=True, vertical_alignment="top", gap="small"):
        with st.container():
            if message:
                st.success(message, icon=":material/check_circle:")
            if isinstance(answer, Answer):
                render_answer(answer)
        if st.button("Close", key=f"said_{near}_close", icon=":material/close:", type="tertiary",
                     help="Close this answer (read)"):
            forget(near)
            st.rerun()
    if st.session_state.get(f"{near}shown") != (message, answer):  # new here: brought into view, once
        st.session_state[f"{near}shown"] = (message, answer)
        st.html(IN_VIEW.replace("KEY", json.dumps(f"said_{near}")), unsafe_allow_javascript=True)


# An answer drawn where its control was, which the page's rerun left out of the window (a strategy created at
# the foot of its form is said under the picker at the top, thousands of pixels above), is brought into the
# middle of the window once; an answer already wholly in sight stays where it is. Looked at again a moment
# later: the rest of the page is still being drawn when the answer first is.
IN_VIEW = """<script>
(() => {  // (its own scope: the page runs one of these for each answer, and a second global `const` would not run)
  const show = () => {
    const box = document.querySelector('.st-key-' + CSS.escape(KEY));
    if (!box) return;
    const r = box.getBoundingClientRect();
    if (r.height > 0 && (r.top < 0 || r.bottom > window.innerHeight)) box.scrollIntoView({block: 'center'});
  };
  setTimeout(show, 100);
  setTimeout(show, 800);
})();
</script>"""


def plural(count: int, noun: str, many: str | None = None) -> str:
    """"1 alert", "2 alerts", "1 worker": a count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"
