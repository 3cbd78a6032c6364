"""The first page after the dashboard starts came slowly: its script imported pandas, plotly and every
widget module on the spot (~1 s of CPU on a 2-core VPS, several seconds of wall time under load; issue
87 measured a 4.8 s login). While the login page waits for the password, a thread of the dashboard's own
imports them, once per process, so the page after the login finds them loaded."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading

import streamlit as st

log = logging.getLogger(__name__)
PACKAGES = ("charts", "pages.widgets", "pages.venues", "storage.dashboard_queries", "storage.research")
ALSO = ("pandas", "plotly.graph_objects", "plotly.subplots")


def _modules() -> list[str]:
    names = list(ALSO)
    for package in PACKAGES:
        found = importlib.import_module(package)
        names += [info.name for info in pkgutil.walk_packages(found.__path__, f"{package}.")]
    return names


def _import_all() -> None:
    for name in _modules():
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001  # a module that fails here fails again, said, where a page imports it
            log.debug("warm import of %s failed: %s", name, exc)


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Start the imports (once per dashboard process): the login page calls this."""
    thread = threading.Thread(target=_import_all, name="dashboard-warm-up", daemon=True)
    thread.start()
    return thread
