"""The market as it was, in the replay's own terms: tick size changes spliced into the recording's rows
at their time, and a print's own fee taken as its market's taker fee from then on (a print reading 0
is not taken as "no fee")."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from contracts.domain import MarketInfo
from engine.backtest import as_it_was
from engine.backtest.runner import _print_fee
from engine.feeds.catalog import MarketCatalog
from storage.research.backtest_recording import CHANGE, TICK
from storage.research.session_history import tick_sizes_in_span
from storage.sqlite.migrations import migrate

MARKET = MarketInfo(condition_id="0xc", question="q", yes_token="Y", no_token="N", tick=1_000, min_size=5_000_000,
                    fee_rate_ppm=20_000)


def test_tick_changes_are_spliced_before_the_first_row_at_their_time() -> None:
    rows: list[Any] = [(10, 0, CHANGE, 1, 1, 1, None), (20, 0, CHANGE, 1, 1, 1, None)]
    later: list[Any] = [(30, 1, CHANGE, 1, 1, 1, None)]
    out = list(as_it_was.spliced(iter([rows, later]), [("Y", 15, 10_000, 1_000), ("N", 30, None, 10_000)],
                                 ["Y", "N"]))
    assert out[0] == [rows[0], (15, 0, TICK, None, 1_000, 10_000, None), rows[1]]
    assert out[1] == [(30, 1, TICK, None, 10_000, None, None), later[0]]
    assert list(as_it_was.spliced(iter([rows]), [], ["Y", "N"])) == [rows]  # nothing to splice: the batch as is


def test_a_prints_own_fee_becomes_its_markets_taker_fee() -> None:
    catalog = MarketCatalog([MARKET])
    seen = _print_fee(SimpleNamespace(catalog=catalog))  # type: ignore[arg-type]  # the core's catalog is all it reads
    seen("Y", '{"tx":"0xab","fee_bps":300}')
    assert catalog.get("0xc").fee_rate_ppm == 30_000
    seen("N", '{"tx":"0xcd","fee_bps":0}')  # measured: a fee-charged fill's record can read 0
    assert catalog.get("0xc").fee_rate_ppm == 30_000
    assert as_it_was.print_fee_ppm('{"tx":"0x"}') is None and as_it_was.print_fee_ppm("not json") is None


def test_a_run_starts_on_the_tick_a_change_after_its_end_says_it_was(tmp_path: Path) -> None:
    """Recorded on 0.01 from 1,000 to 2,000 ms; the desk recorded the change to today's 0.001 at
    5,000 ms, after the run: the run starts on 0.01, and a change outside it is not applied in it."""
    path = tmp_path / "t.db"
    migrate(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany("INSERT INTO tick_sizes (token_id, at, old_tick, tick) VALUES (?, ?, ?, ?)",
                         [("Y", 5_000, 10_000, 1_000), ("N", 5_000, 10_000, 1_000)])
    assert as_it_was.ticks_at_start(path, [MARKET], 1_000, 2_000) == ({"0xc": 10_000}, [])
    inside = as_it_was.ticks_at_start(path, [MARKET], 1_000, 6_000)  # a run over the change: it is applied
    assert inside == ({"0xc": 10_000}, [("N", 5_000, 10_000, 1_000), ("Y", 5_000, 10_000, 1_000)])


def test_a_session_states_the_tick_at_its_start_from_a_change_before_or_after_it() -> None:
    """What a session file (a PMXT import's, an export's) says of the ticks over [1,000, 2,000]."""
    changes = [("Y", 100, None, 1_000), ("Y", 500, 1_000, 10_000),  # before: the last one is in force
               ("Y", 1_500, 10_000, 1_000),  # inside: at its time
               ("N", 3_000, 10_000, 1_000), ("N", 4_000, 1_000, 10_000),  # after: the first says what it was
               ("Z", 3_000, None, 1_000)]  # after, the tick before it unknown: nothing to state
    assert tick_sizes_in_span(changes, (1_000, 2_000)) == [
        ["N", 1_000, None, 10_000], ["Y", 1_000, 1_000, 10_000], ["Y", 1_500, 10_000, 1_000]]
