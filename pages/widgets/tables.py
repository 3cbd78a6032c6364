"""Drawing the read-only tables of charts/tables.py on a page (st.table: HTML the page wraps to
its width, with the hover text of cut names; Streamlit draws each cell as Markdown, so the
cells' text is made literal Markdown).

A table whose column set marks details (`Col(..., more=True)`) shows the columns a trader
decides on, which fit a 1366 px window, and a switch above it to show every column (kept per
table for the session)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from charts.tables import Col, brief, styled

EVERY_COLUMN = "Every column"


def show_table(frame: pd.DataFrame, columns: dict[str, Col], *, height: int | None = None,
               key: str | None = None) -> None:
    """Render `frame`'s `columns`; `height` (px) scrolls a long table under a sticky header; `key`
    names the table's switch to its details (needed when `columns` marks any)."""
    shown = columns
    details = [c.label for c in columns.values() if c.more]
    if details:
        assert key is not None, "a table with details needs a key for its switch"
        with st.container(horizontal=True, horizontal_alignment="right", key=f"cols_{key}_box"):
            every = st.toggle(EVERY_COLUMN, key=f"cols_{key}", help=f"Also show: {', '.join(details)}")
        shown = columns if every else brief(columns)
    st.table(styled(frame, shown, markup="markdown"), height=height if height is not None else "content",
             border="horizontal")


def rows_height(rows: int, *, most: int = 420) -> int | None:
    """A scroll height for a table of `rows` rows: None (all of it) while it is short."""
    return None if rows <= 12 else most
