"""A CSV a spreadsheet opens as data, never as formulas: what the desk's files that people open in
Excel, LibreOffice or Google Sheets are written with (the tax-lot export, reports/tax_lots.py; the
backtest's fills and orders, a sweep's trials, the Orders page's trades: `frame_csv`).

Their text comes from elsewhere (a market's question and ids from the venue's listing, a feed), so a
cell could start a formula: `=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)`. Every field is quoted (RFC 4180:
a quote inside doubled, rows ended by CRLF), so a carriage return or a line feed inside a question stays
inside its cell instead of starting a row; and a cell a spreadsheet could read as a formula (the OWASP
CSV-injection rule: starting with =, +, -, @, a tab or a carriage return, their full-width forms ＝ ＋ －
＠ which some spreadsheets read as the same, or any of them after leading spaces) is written with an
apostrophe first, which spreadsheets read as "this is text". A cell that is exactly a decimal number
(an optional minus sign, digits, an optional point and digits: "-12.05") is a number and stays one: a
loss in the tax file is a negative number a spreadsheet adds up, and no formula has that form.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only where a table is written (the engine never imports it)
    import pandas as pd

FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
TEXT_MARK = "'"


def cell(value: str) -> str:
    """`value` as a cell no spreadsheet reads as a formula (a number stays a number)."""
    if NUMBER.fullmatch(value):
        return value
    if value[:1] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS:
        return TEXT_MARK + value
    return value


def csv_bytes(rows: Iterable[Sequence[str]]) -> bytes:
    """Rows of text as UTF-8 CSV: every field quoted, every formula neutralised, CRLF between rows."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([cell(value) for value in row] for row in rows)
    return out.getvalue().encode()


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A table (its header, then its rows) as `csv_bytes` writes it: an empty cell for a missing value,
    numbers as pandas writes them."""
    rows = frame.astype(object).where(frame.notna(), "")
    return csv_bytes([[str(name) for name in frame.columns],
                      *([str(value) for value in row] for row in rows.itertuples(index=False))])
