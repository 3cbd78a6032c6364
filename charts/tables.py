"""Read-only tables that read at 1366 px (the dashboard's, through pages/widgets/tables.py, and
the saved reports'): the key columns first and always in view, long names
cut to a fixed length with the full text on hover, units in the headers, "—" for nothing.

st.dataframe draws on a canvas: it cannot show a cell's full text on hover, and at laptop
widths its key columns (price, size, fee, PnL) sat past the right edge behind a scroll. These
tables are HTML (st.table) styled through pandas' Styler: the page wraps them to its width, and
a cut name shows its full text when the pointer rests on it. The data itself is left as it
was read (AppTest and any code reading the element see the real values); only the shown text
is formatted, and the columns carry the headers the operator reads ("price (prob.)").
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import pandas as pd

from charts import text

# text: a short word (one line); long: a message or payload (wraps, cut past TEXT_CHARS with the
# full text on hover); name: a market question or the like (one line, cut past NAME_CHARS).
Kind = Literal["text", "long", "name", "time", "prob", "shares", "usdc", "int", "pct", "money4", "flag", "list",
               "ratio"]
# Where the table is drawn, and so how its text is made literal (charts/text.py): Streamlit's
# st.table draws each cell as Markdown; a saved report is HTML.
Markup = Literal["markdown", "html"]
_LITERAL: dict[Markup, Callable[[str], str]] = {"markdown": text.markdown, "html": html.escape}
DASH = "—"
NAME_CHARS = 44  # a market question this long still leaves the key columns room at 1366 px
TEXT_CHARS = 90  # messages, reasons, payloads: cut (with the full text on hover) past this
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Words for the engine's order statuses where its own word misleads: a resting paper order is
# "LIVE" at the venue's level, which reads as live trading on a paper desk.
STATUS_WORDS = {"LIVE": "RESTING", "PENDING_SUBMIT": "SUBMITTING", "PARTIALLY_FILLED": "PARTLY FILLED",
                "CANCEL_PENDING": "CANCELING"}
_UNITS = {"time": " (UTC)", "prob": " (prob.)", "shares": " (sh)", "usdc": " (pUSD)", "pct": " (%)",
          "money4": " (pUSD)"}
_NUMBERS = {"prob": "{:.4f}", "shares": "{:,.2f}", "usdc": "{:,.2f}", "int": "{:,.0f}", "pct": "{:,.2f}",
            "money4": "{:,.4f}", "ratio": "{:.3f}"}
# How a cell's text wraps, by kind (the rest stay on one line): a message at least this wide, a
# name between these widths, a time no narrower than its date.
_WRAP = {"long": "min-width: 8rem;", "name": "min-width: 8rem; max-width: 16rem;", "time": "min-width: 5.2rem;",
         "text": "", "list": "min-width: 8rem;"}
# The hover box lies on the hovered row, from the table's left edge and at most the table's width,
# growing down: never clipped by the table's sticky header or its bottom edge, and never wider
# than the table (a hidden box past its right edge made the table scroll sideways).
_TOOLTIP = ("visibility: hidden; position: absolute; z-index: 4; left: 0; top: auto; width: max-content; "
            "max-width: min(560px, 100%); white-space: normal; background: #31333f; color: #fff; "
            "padding: 4px 8px; border-radius: 4px; font-size: 0.85rem; pointer-events: none;")


@dataclass(frozen=True)
class Col:
    """One shown column: its header (the unit is added from `kind`) and how its cells read;
    `more`: a detail, shown when the operator asks for every column (pages/widgets/tables.py)."""

    label: str
    kind: Kind = "text"
    more: bool = False

    @property
    def header(self) -> str:
        return self.label + _UNITS.get(self.kind, "")


def brief(columns: dict[str, Col]) -> dict[str, Col]:
    """The columns a trader decides on (every column but the details asked for on demand)."""
    return {name: col for name, col in columns.items() if not col.more}


def promoted(columns: dict[str, Col], *names: str) -> dict[str, Col]:
    """`columns` with the details `names` among the first (a detail that matters on these rows)."""
    return {name: replace(col, more=False) if name in names else col for name, col in columns.items()}


def headers(columns: dict[str, Col]) -> dict[str, str]:
    """Column name -> the header it is shown (and found) under."""
    return {name: col.header for name, col in columns.items()}


# What a trade table reads first, after the market's name: side, outcome, price, size.
TRADE_HEAD = {"question": Col("market", "name"), "side": Col("side"), "outcome": Col("outcome"),
              "price": Col("price", "prob"), "size": Col("size", "shares")}


def cut(words: str, limit: int) -> str:
    """`words` within `limit` characters, ending in "…" when it was cut."""
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (list, dict, tuple)) and bool(pd.isna(value)))


def _formatter(col: Col, literal: Callable[[str], str]) -> Any:
    """How a cell of `col` reads; words (names, messages, lists) made literal for the markup."""
    if col.kind in _NUMBERS:
        pattern = _NUMBERS[col.kind]
        return lambda v: DASH if _missing(v) else pattern.format(float(v))
    if col.kind == "time":
        return lambda v: DASH if _missing(v) else pd.Timestamp(v).strftime(TIME_FORMAT)
    if col.kind == "flag":
        return lambda v: DASH if _missing(v) else "yes" if bool(v) else "no"
    if col.kind == "list":
        return lambda v: DASH if _missing(v) or not v else literal(cut(", ".join(map(str, v)), TEXT_CHARS))
    limit = NAME_CHARS if col.kind == "name" else TEXT_CHARS
    return lambda v: DASH if _missing(v) or str(v) == "" else literal(cut(str(v), limit))


def _tooltips(shown: pd.DataFrame, columns: dict[str, Col]) -> pd.DataFrame:
    """The full text of every cut cell, as a CSS string (the hover box is a `content: "…"`
    rule: charts/text.py), and empty elsewhere (no hover box)."""
    tips = pd.DataFrame("", index=shown.index, columns=list(columns))
    for name, col in columns.items():
        if col.kind in ("name", "text", "long"):
            limit = NAME_CHARS if col.kind == "name" else TEXT_CHARS
            full = shown[name].map(lambda v: "" if _missing(v) else str(v))
            tips[name] = full.where(full.str.len() > limit, "").map(text.css_string)
    return tips


def styled(frame: pd.DataFrame, columns: dict[str, Col], *, markup: Markup) -> Any:
    """The Styler that shows `frame`'s `columns` (in that order, under their headers) the way
    these tables read, its text literal in `markup` (where it is drawn). The values stay as
    read; only their shown text is formatted."""
    shown = frame[list(columns)].reset_index(drop=True)
    shown_as = headers(columns)
    assert len(set(shown_as.values())) == len(shown_as), f"two columns share a header: {shown_as}"
    tips = _tooltips(shown, columns).rename(columns=shown_as)
    shown = shown.rename(columns=shown_as)
    literal = _LITERAL[markup]
    styler = shown.style.format({col.header: _formatter(col, literal) for col in columns.values()})
    styler = styler.format_index(literal, axis=1)
    if (tips != "").to_numpy().any():
        styler = styler.set_tooltips(tips, props=_TOOLTIP)
    # Figures stay on one line; words wrap (a name within its bounds, a time between its date
    # and its clock, a strategy at its hyphens), so a table narrows to the page's width before
    # anything scrolls sideways. (Streamlit keeps pandas' "colN" class on each cell, not
    # classes set on the Styler.)
    numeric = [col.header for col in columns.values() if col.kind in _NUMBERS]
    styler = styler.set_properties(subset=numeric, **{"text-align": "right"})
    rules = [{"selector": "", "props": "position: relative;"}]  # the table: the hover boxes' frame
    for i, col in enumerate(columns.values()):
        rules.append({"selector": f"td.col{i} p", "props": _WRAP.get(col.kind, "white-space: nowrap;")})
    styler = styler.set_table_styles(rules, overwrite=False)
    return styler.hide(axis="index")


def order_status_words(status: pd.Series) -> pd.Series:
    return status.map(lambda s: STATUS_WORDS.get(s, s) if isinstance(s, str) else s)
