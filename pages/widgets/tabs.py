"""Tabs that stay where the operator was.

Streamlit's plain tabs keep their choice in the browser only: an element drawn above them on the
next run (an answer, a warning, a dialog's close) makes them a new element, back on the first
tab. These track their choice on the server, so every rerun draws the one the operator chose.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def kept_tabs(labels: Sequence[str], key: str) -> Sequence[DeltaGenerator]:
    """`st.tabs` that keep the operator's choice across reruns; `key` names the set (its labels
    stay the same between runs: a label that changes is a new tab, started on the first)."""
    wanted = st.session_state.pop(f"{key}_next", None)
    if wanted in labels:
        st.session_state[key] = wanted
    elif key in st.session_state and st.session_state[key] not in labels:
        del st.session_state[key]
    return st.tabs(list(labels), key=key, on_change="rerun")


def open_tab(key: str, label: str) -> None:
    """Show `label` of the tab set `key` on the next run (an action that lands the operator on
    its result, such as a launched sweep's progress)."""
    st.session_state[f"{key}_next"] = label  # the tabs' own key cannot change once they are drawn this run
