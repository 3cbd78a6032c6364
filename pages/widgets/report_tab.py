"""A saved report opened in a browser tab as well as downloaded.

The dashboard serves the report itself: Streamlit's media files hold its bytes and serve them
inline as text/html (at /media/<id>.html, the way a page's images are served), for as long as the
operator's session shows the link; the link opens it in a new tab. The report is the same file the
download gives (reports/page.py: its own Content-Security-Policy, running only its own scripts).
Built once per run (the last few are kept), not on every rerun of the page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import streamlit as st
from streamlit import runtime

KEEP = 3  # reports kept built (a few MB each: plotly.js is inlined)
_BUILT: OrderedDict[tuple[str, int, str], bytes] = OrderedDict()
_LOCK = threading.Lock()


def built(key: tuple[str, int, str], build: Callable[[], str]) -> bytes:
    """The report `key` names (what, its id, what changes it), built on first use."""
    with _LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return _BUILT[key]
    html = build().encode("utf-8")
    with _LOCK:
        _BUILT[key] = html
        while len(_BUILT) > KEEP:
            _BUILT.popitem(last=False)
    return html


def open_in_tab(column: st.delta_generator.DeltaGenerator, label: str, html: bytes, *, key: str) -> None:
    """A link that opens `html` in a new tab (where the page runs without Streamlit's server, as in
    its tests' AppTest, there is nothing to serve it from: nothing is drawn)."""
    if not runtime.exists():
        return
    url = runtime.get_instance().media_file_mgr.add(html, "text/html", f"report-tab:{key}")
    column.link_button(label, url, key=key, icon=":material/open_in_new:", width="stretch",
                       help="The report in a new tab of this browser, as the download would open")
