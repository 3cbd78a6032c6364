"""A backtest to keep: its HTML report (one self-contained file with the page's metrics, charts
and tables, the trades drawn on each traded market's price) and the CSV of its fills and orders,
from the page and from `python -m engine backtest ... --report FILE.html`."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from charts.text import css_string
from reports import backtest as report
from reports.backtest import ReportError, finished_run, write_backtest_report
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.dashboard.seed import BTC, YES_BTC, seed
from tests.dashboard.test_backtest_page import METRICS, insert_run
from tests.helpers import ROOT, isolated_env, run_cli

sys.path.insert(0, str(ROOT / "bench"))
from _recording import write_recording  # noqa: E402

M = 1_000_000


def _charted(text_: str) -> str:
    """`text_` as it appears inside a chart's JSON in the page (non-ASCII escaped)."""
    return json.dumps(text_)[1:-1]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    path = tmp_path / "trader.db"
    migrate(path)
    seed(path)
    return Database(path)


def _orders(start: int) -> list[dict[str, object]]:
    base = {"condition_id": BTC, "token_id": YES_BTC, "outcome": "YES", "tif": "GTC"}
    return [
        {**base, "id": 1, "created_at": start + 30_000, "closed_at": start + 60_000, "side": "BUY", "price": 480_000,
         "size": 20 * M, "filled": 20 * M, "status": "FILLED"},
        {**base, "id": 2, "created_at": start + 30_000, "closed_at": None, "side": "SELL", "price": 520_000,
         "size": 20 * M, "filled": 0, "status": "LIVE"},
    ]


def _run(db: Database, now: int) -> int:
    start = now - 3_600_000  # over the seed's recorded ticks of the BTC YES token
    sure = {**METRICS, "pnl_low": -12.25, "pnl_high": 301.0, "pnl_p_value": 0.062, "interval_fills": 40,
            "interval_units": 12, "interval_unit": "round trip"}
    return insert_run(db, start=start, orders=json.dumps(_orders(start)), metrics=json.dumps(sure))


def test_the_report_holds_the_pages_figures_and_tables_in_one_file(db: Database) -> None:
    with db.read() as conn:
        now = int(conn.execute(text("SELECT MAX(at) FROM ticks")).scalar_one()) + 200_000
    run = finished_run(db, _run(db, now))
    page = report.backtest_report(db, run)
    assert page.startswith("<!DOCTYPE html>")
    # Self-contained: plotly.js inline, nothing fetched from anywhere.
    assert "<script src" not in page and "<link" not in page and "Plotly.newPlot" in page
    assert len(re.findall(r'<div id="chart-\d+" class="plotly-graph-div"', page)) == 5  # + markouts
    for title in ("Equity and drawdown (run #1)", "Exposure", "Fills",
                  "Will Bitcoin reach $100k by June? · YES: trades on the price"):
        assert _charted(title) in page, title
    assert "<h1>Backtest #1 mm run</h1>" in page
    assert "Start equity" in page and "10,000.00 pUSD" in page and "+1.50 %" in page
    # how sure the PnL is, on what it rests
    assert "+150.50 pUSD (95 %: -12.25 to +301.00, p = 0.06, over 12 round trips (40 fills))" in page
    assert ">0.4800<" in page and ">0.5000<" in page  # the fills table
    assert ">RESTING<" in page and ">FILLED<" in page and "2 orders, by placement" in page  # the orders table
    # The price chart: both fills as markers, both orders as segments over their lifetime.
    price = page[page.index(_charted("· YES: trades on the price")) - 20_000:]
    assert '"name":"' + _charted("buys (size ∝ sh)") + '"' in price and '"name":"resting sells"' in price


def test_fills_and_orders_download_as_csv(db: Database) -> None:
    run = finished_run(db, insert_run(db, orders=json.dumps(_orders(1_800_000_000_000))))
    fills = list(csv.DictReader(io.StringIO(report.fills_csv(run).decode())))
    assert [(f["side"], f["price"], f["size"], f["fee"]) for f in fills] == [("BUY", "0.48", "20.0", "0.0"),
                                                                           ("SELL", "0.5", "20.0", "0.12")]
    assert fills[0]["at"] == "2027-01-15T08:01:00.000Z" and fills[0]["question"] == "Will Bitcoin reach $100k by June?"
    orders = list(csv.DictReader(io.StringIO(report.orders_csv(run).decode())))
    assert [(o["side"], o["status"], o["end"]) for o in orders] == [("BUY", "FILLED", "2027-01-15T08:01:00.000Z"),
                                                                   ("SELL", "LIVE", "")]


def test_a_csv_download_carries_no_formula_and_keeps_a_question_in_its_cell(db: Database) -> None:
    """A question from the venue's listing that starts a formula, or holds a bare carriage return, is text
    in the downloaded CSV (contracts/spreadsheet_csv.py, as the tax file): apostrophe first, every field
    quoted, the row whole; prices stay numbers."""
    hostile = '=HYPERLINK("http://x.example","open")\r=1+1'
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET question = :q"), {"q": hostile})
    run = finished_run(db, insert_run(db, orders=json.dumps(_orders(1_800_000_000_000))))
    raw = report.fills_csv(run).decode()
    fills = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert [f["question"] for f in fills] == ["'" + hostile] * 2 and [f["price"] for f in fills] == ["0.48", "0.5"]
    assert raw.count("\r\n") == 3 and raw.startswith('"')  # a header and two rows, every field quoted


def test_only_a_finished_run_has_a_report(db: Database, tmp_path: Path) -> None:
    running = insert_run(db, status="running")
    target = tmp_path / "r.html"
    with pytest.raises(ReportError, match="is running"):
        write_backtest_report(db, running, target)
    with pytest.raises(ReportError, match="no backtest run 99"):
        write_backtest_report(db, 99, target)
    assert not target.exists()
    done = insert_run(db)
    assert write_backtest_report(db, done, target) == target and target.read_text().startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob("*.tmp"))


def test_the_command_line_writes_the_same_report(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    markets, start, end = write_recording(Path(env["TRADER_DB"]), markets=1, events=600)
    target = tmp_path / "out" / "bt.html"
    args = ["backtest", "--strategy", "market_making", "--params", '{"size": 20, "max_spread": 0.5}',
            "--from", str(start), "--to", str(end), "--report", str(target)]
    missing = run_cli(args, env)
    assert missing.returncode == 2 and "no folder" in missing.stderr and "out" in missing.stderr
    not_html = run_cli([*args[:-1], str(tmp_path / "bt.txt")], env)
    assert not_html.returncode == 2 and "an HTML file" in not_html.stderr
    with Database(Path(env["TRADER_DB"])).read() as conn:  # refused before anything ran
        assert conn.execute(text("SELECT COUNT(*) FROM strategy_runs")).scalar_one() == 0
    target.parent.mkdir()
    done = run_cli(args, env, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["report"] == str(target)
    assert result["interval_fills"] == result["trades"] and "pnl_p_value" in result  # how sure, beside the PnL
    assert result["interval_unit"] == "round trip" and (result["pnl_p_value"] is not None or result["interval_none"])
    page = target.read_text()
    assert f"Backtest #{result['run_id']} market_making" in page and "Equity and drawdown" in page
    assert _charted("Synthetic market 0? · ") in page and ": trades on the price" in page


HOSTILE = '<img src=x onerror="alert(1)"></style><script>alert(2)</script>"} * { background: url(//x.example) }'


def test_outside_text_is_escaped_and_only_the_reports_own_scripts_may_run(db: Database) -> None:
    """Without a browser (tests/browser/test_foreign_text.py opens the page in Chromium): a market
    question and a run name of hostile text appear only escaped, and the page's policy allows
    exactly its own inline scripts, by hash, and loads nothing."""
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET question = :q"), {"q": HOSTILE})
        now = int(conn.execute(text("SELECT MAX(at) FROM ticks")).scalar_one()) + 200_000
    run = finished_run(db, insert_run(db, name=HOSTILE, start=now - 3_600_000,
                                      orders=json.dumps(_orders(now - 3_600_000))))
    page = report.backtest_report(db, run)
    assert HOSTILE not in page and "<img" not in page and "<script>alert(" not in page
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", page, re.DOTALL))
    # A cut cell's hover text is a CSS string its quote cannot end, nor its "</style>" the element.
    assert f'content: "{css_string(HOSTILE)}"' in styles and '"} * {' not in styles and "</style" not in styles
    assert html.escape(HOSTILE) in page  # the title, the facts and the tables, as text
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert policy is not None and "unsafe-inline" not in policy.group(1).split("style-src")[0]
    allowed = set(re.findall(r"'sha256-([^']+)'", policy.group(1)))
    scripts = re.findall(r"<script(?:\s[^>]*)?>(.*?)</script>", page, re.DOTALL)
    assert len(scripts) == 1 + 5  # plotly.js and the five charts' calls
    assert {base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts} == allowed
    assert "default-src 'none'" in policy.group(1) and "img-src data: blob:" in policy.group(1)


def test_every_text_block_of_a_report_is_escaped_where_it_is_written() -> None:
    """A note, a warning, a metric and a table's note come from outside (run names, notes, market
    questions): each is written as text, never as markup the page would run."""
    import pandas as pd

    from charts.tables import Col
    from reports.page import Section, render

    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    section = (Section(hostile).text(hostile).warning(hostile).metrics([(hostile, hostile, hostile)])
               .table(pd.DataFrame({"name": [hostile]}), {"name": Col("Name")}, note=hostile))
    page = render(hostile, hostile, [section])
    assert "<script>alert" not in page and "<img src=x" not in page
    assert page.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 8  # title, facts, heading, each block
