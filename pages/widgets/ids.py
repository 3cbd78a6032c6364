"""Ids on demand: the pages name a market by its question; the ids the venue and the command line
use are one click away, each in a box with a copy button (st.code)."""

from __future__ import annotations

import streamlit as st

from storage.dashboard_queries.market_names import CONDITION_REF


def ids_popover(ids: dict[str, str], *, key: str, label: str = "Ids") -> None:
    """A small button opening `ids` (what each is -> the id), each copyable."""
    shown = {name: value for name, value in ids.items() if value}
    if not shown:
        return
    with st.popover(label, icon=":material/tag:", type="tertiary", key=key,
                    help="The ids behind the names, to copy (the command line and the venue use them)"):
        for name, value in shown.items():
            st.caption(name)
            st.code(value, language=None, wrap_lines=True)


def market_ids_in(*texts: object) -> list[str]:
    """The whole condition ids written in `texts`, each once, in order."""
    found = [ref for t in texts if isinstance(t, str) for ref in CONDITION_REF.findall(t) if len(ref) == 66]
    return list(dict.fromkeys(found))
