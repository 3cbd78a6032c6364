"""Live panels: a page refreshes what changed, when it changed, and nothing while its tab is hidden.

Streamlit's timed fragments (`st.fragment(run_every=...)`) are driven by a timer in the browser that
knows nothing of the tab: a forgotten Overview reran its panels every two seconds, queries and charts
included, whether anyone looked or not (~31 % of a core on a 2-core VPS, issue 87). Here instead:

- a live panel is a fragment with a key, an interval and a probe (storage/dashboard_queries/
  change_probes.py): a cheap read of what it shows depends on, taken when it draws;
- one small component on every page, the pulse, beats every BEAT_S while the browser shows the tab
  and once the moment it is shown again (the Page Visibility API); a hidden tab sends nothing but the
  pulse's own once-a-day run (RECONNECT_S, which reads and draws no panel);
- each beat's callback probes the panels that are due (each at most every its interval) and reruns
  only those whose probe reads otherwise than at their last draw (`st.rerun` with their keys); when
  none changed, only the pulse's own fragment, which draws nothing else, reruns: no panel's query.

A panel also redraws once it is STALE_S old, changed or not: what time alone moves on a page (a pause
"within a day", a window of the last two minutes) is never older than that. A panel without a probe
redraws whenever it is due (a job's progress read from files). None of them while the tab is hidden.
Widgets inside a panel rerun it as any fragment's do.

A panel runs without the page's login check, so, as `common.live_fragment` does, each draw and each beat
first asks whether the session's login still holds (removed, demoted or given a new password: the whole
app reruns, whose gate logs the user out or draws the page for the new role).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner import get_script_run_ctx

from storage.sqlite.db import Database

BEAT_S = 2.0
LEAVING_S = 20.0  # the longest a click on a page link holds the beats back (a page already open: no new address)
STALE_S = 60.0  # the oldest a shown panel gets: drawn again after this, whatever its probe reads
# Streamlit's own timer on the pulse's fragment, once a day (under setInterval's 24.8-day limit). It does
# nothing but keep the fragment among the browser's timed fragments, and those are what make the browser
# run the page again the moment it reconnects to a restarted dashboard (Streamlit 1.67: it asks for a run
# on reconnect only when a timed fragment, a fragment run or a script run is under way). Without it, a tab
# open across a restart stayed on the old page: the new session dropped every beat (a fragment it never
# drew), nothing ran, and the first click on a page link, which drops `?s=` from the address, opened the
# new session at the login page.
RECONNECT_S = 24 * 3600.0
PANELS_KEY = "live_panels"  # session state: key -> _Panel, the live panels the page drew in its last full run
PULSE_KEY = "live_pulse"
Probe = Callable[[Database], Hashable]
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)
_MOVED = object()  # what a panel was drawn from when its probe moved during the draw: equal to no reading

# The browser side: a beat every `every_ms` while the document is visible, one as soon as it is shown
# again, none while it is hidden; the timer stops with the tab (and with the component, on unmount).
# None either from a click on a page link until the browser shows the new page's address: the pulse sits in
# the sidebar, which outlives the page, and until the new page's run begins in the browser a beat is sent as
# the old page's; the server then runs the old page's pulse, takes it for a page change back, and the new
# page is left blank. A click on the page already open leaves the address as it is: beats resume after
# `hold_ms`.
PULSE_JS = """
export default function ({ data, setTriggerValue }) {
  const LINKS = '[data-testid="stSidebarNav"] a, [data-testid="stTopNav"] a, [data-testid^="stPageLink"] a, '
    + 'a[data-testid^="stPageLink"]';
  let timer = null;
  let beats = 0;
  let leaving = null;  // {path, until}: a page link was clicked on the page at `path`
  const beat = () => {
    if (leaving !== null && location.pathname === leaving.path && Date.now() < leaving.until) return;
    leaving = null;
    setTriggerValue("beat", ++beats);
  };
  const away = (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest(LINKS)) {
      leaving = { path: location.pathname, until: Date.now() + data.hold_ms };
    }
  };
  const start = () => { if (timer === null) timer = setInterval(beat, data.every_ms); };
  const stop = () => { if (timer !== null) { clearInterval(timer); timer = null; } };
  const seen = () => {
    if (document.visibilityState === "visible") { beat(); start(); } else { stop(); }
  };
  document.addEventListener("visibilitychange", seen);
  document.addEventListener("click", away, true);
  if (document.visibilityState === "visible") start();
  return () => {
    stop();
    document.removeEventListener("visibilitychange", seen);
    document.removeEventListener("click", away, true);
  };
}
"""
_pulse = st.components.v2.component("desk_live_pulse", js=PULSE_JS)


@dataclass
class _Panel:
    every_s: float
    probe: Probe | None
    drawn: Hashable = None  # what its probe read when it last drew
    drawn_at: float = 0.0  # time.monotonic() of that draw
    probed_at: float = 0.0  # of the last look: that draw, or the last probe that found no change


def panel(key: str, *, every_s: float, probe: Probe | None = None) -> Callable[[F], F]:
    """A live panel: `st.fragment(key=key)` that the pulse reruns, at most every `every_s`, when
    `probe(db)` reads otherwise than at its last draw (no probe: whenever due)."""

    def wrap(draw: F) -> F:
        @functools.wraps(draw)
        def body(*args: Any, **kwargs: Any) -> Any:
            if not _login_holds():
                st.rerun(scope="app")
            before = _drawing(key, every_s, probe)
            result = draw(*args, **kwargs)
            _drawn(key, probe, before)
            return result

        return st.fragment(body, key=key)  # type: ignore[return-value]  # the same signature as `draw`

    return wrap


def _drawing(key: str, every_s: float, probe: Probe | None) -> Hashable:
    """Note what the panel `key` is drawn from, read before it draws, and return that reading."""
    drawn = _read(probe, _database()) if probe is not None else None
    now = time.monotonic()
    _panels()[key] = _Panel(every_s, probe, drawn, now, now)
    return drawn


def _drawn(key: str, probe: Probe | None, before: Hashable) -> None:
    """After the panel `key` drew: if what its probe reads moved during the draw, mark it to draw
    again at its next look, whatever the probe reads then. The reading before the draw is not what
    the panel shows when the draw itself moved it (a Resume clicked in the panel: drawn from PAUSED,
    showing RUNNING and "Resume: done"); kept as it was, a pause made elsewhere before the next look
    (RUNNING -> PAUSED) would read the same as at the draw, and the panel would show a running
    engine for up to STALE_S."""
    found = _panels().get(key)
    if probe is None or found is None or _read(probe, _database()) == before:
        return
    found.drawn = _MOVED


def _panels() -> dict[str, _Panel]:
    panels = st.session_state.get(PANELS_KEY)
    if not isinstance(panels, dict):
        panels = st.session_state[PANELS_KEY] = {}
    return panels


def _read(probe: Probe, db: Database) -> Hashable:
    try:
        return probe(db)
    except Exception as exc:  # noqa: BLE001  # a probe that fails says "changed": the panel shows what is wrong
        log.warning("a live panel's probe failed: %s", exc)
        return ("probe failed", time.monotonic())


def begin_page() -> None:
    """Forget the live panels of the page drawn before: every full run draws its own again
    (app.py calls this before the page runs)."""
    st.session_state[PANELS_KEY] = {}


def due_changes(db: Database, *, now: float | None = None) -> list[str]:
    """The keys of the panels due for a look whose probe now reads otherwise than at their last draw."""
    now = time.monotonic() if now is None else now
    changed = []
    for key, found in _panels().items():
        if now - found.probed_at < found.every_s - BEAT_S / 2:  # half a beat early counts: beats are not exact
            continue
        found.probed_at = now
        if found.probe is None or now - found.drawn_at >= STALE_S or _read(found.probe, db) != found.drawn:
            changed.append(key)
    return changed


def _database() -> Database:
    from pages.widgets.common import database  # imported here: common's live header is a live panel

    return database()


def _login_holds() -> bool:
    from pages.widgets.common import login_holds  # imported here: common's live header is a live panel

    return login_holds()


def _on_beat() -> None:
    ctx = get_script_run_ctx()
    if ctx is None or len(ctx.fragment_ids_this_run or ()) != 1:
        # The beat was folded into another run (a click on the page, or in a panel): that run is the one to
        # keep, or the click's effect is lost to a rerun of panels asked for here; it draws what it draws,
        # and the next beat looks again.
        return
    if not _login_holds():
        st.rerun(scope="app")
    changed = due_changes(_database())
    if not changed:
        return  # only the pulse's fragment reruns: nothing of any panel is read or drawn
    try:
        st.rerun(changed)
    except StreamlitAPIException:  # a panel of a run cut short (a page switch): forget it, look again next beat
        _panels().clear()


@st.fragment(key="live_pulse_fragment", run_every=RECONNECT_S)
def _pulse_fragment() -> None:
    _pulse(key=PULSE_KEY, data={"every_ms": int(BEAT_S * 1000), "hold_ms": int(LEAVING_S * 1000)},
           on_beat_change=_on_beat, height=0)


def pulse() -> None:
    """The beat that keeps the page's live panels current while its tab is shown (once per page, in the
    sidebar: it takes no room)."""
    with st.sidebar:
        _pulse_fragment()
