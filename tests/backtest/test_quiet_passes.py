"""A replay skips the timed passes that cannot act (engine/backtest/quiet_passes.py) and stores
exactly what it stores running every pass: the same orders, fills, positions, cash, decisions,
curve and refusal counts, row for row; its check (`verify`) runs the passes it would skip and fails
the run when one acted, as it does with a threshold left out; and the thresholds the parts give are
the first instant their pass would differ."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contracts import limits
from contracts.domain import Side
from contracts.settings import load_settings
from engine.backtest import quiet_passes
from engine.backtest.quiet_passes import QuietPasses
from engine.backtest.runner import BacktestSpec, run_sync
from engine.feeds.books import BookCache
from engine.risk import volatility
from engine.risk.breakers import ErrorCounter, RiskMemory
from engine.risk.correlation import CorrelationWatch
from engine.risk.correlation import Settings as CorrelationSettings
from engine.risk.correlation_guard import CORRELATION, CorrelationGuard
from engine.risk.decisions_log import REPEAT_MS, DecisionsLog
from engine.risk.gate import Decision, Reason, RiskGate, TradingState
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
REAL_INIT = QuietPasses.__init__
TABLES = ("orders", "fills", "positions", "cash_ledger", "paper_orders", "paper_trades", "decisions")


@pytest.fixture(scope="module")
def sparse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], int, int]:
    """Two markets' recording without decision markers (the timed pass every 500 ms decides), its
    events seconds apart and a minute without any: most passes see nothing new, some a book grown stale,
    a fill, a new mid.
    One market pays liquidity rewards, sampled every 20 s, and its maker fills earn rebates: the
    income a skipped pass adds to the curve."""
    path = tmp_path_factory.mktemp("quiet") / "recorded.db"
    markets, start, _ = write_recording(path, markets=2, events=1_200, events_per_decision=10**9, seed=5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide'")
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 300", (start, start))
        conn.execute("UPDATE markets SET fee_rate_ppm = 250000, fee_exponent = 1, fees_at = ?, rebate_ppm = 150000",
                     (start,))
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES "
                     "('reward_sample_s', '20', 1, 0, 't')")
        conn.execute("INSERT INTO reward_programs VALUES (?, ?, ?, ?, 0)", (markets[0], 10**9, 50_000, 10**7))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
        # A minute without data, past the volatility warm-up (30 min; its passes all run): every book
        # grows stale (a market stream's pause).
        pause = start + (end - start) * 3 // 4
        conn.execute("DELETE FROM ticks WHERE at BETWEEN ? AND ?", (pause, pause + 60_000))
    return path, markets, start, end


def _run(tmp: Path, recording: tuple[Path, list[str], int, int], mode: str,
         monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, list[tuple]], list[QuietPasses]]:
    """(the result, the run's ledger and decisions rows, the quiet passes it kept)."""
    path, markets, start, end = recording
    made: list[QuietPasses] = []

    def spied(self: QuietPasses, *args: Any, **kwargs: Any) -> None:
        REAL_INIT(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(QuietPasses, "__init__", spied)
    monkeypatch.setattr(quiet_passes, "MODE", mode)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    work = tmp / mode
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
                      work_dir=work)
    with sqlite3.connect(work / "backtest.db") as conn:
        rows = {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in TABLES}
    return result, rows, made


def test_skipping_the_quiet_passes_stores_what_running_every_pass_stores(
        tmp_path: Path, sparse: tuple[Path, list[str], int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    every, every_rows, none = _run(tmp_path, sparse, "run", monkeypatch)
    skipping, rows, made = _run(tmp_path, sparse, "skip", monkeypatch)
    assert not none and len(made) == 1
    passes = every.decisions
    # (none in its first 30 minutes: the volatility baseline still grows with the clock)
    assert made[0].skipped > passes // 4, "a sparse recording's quiet passes are skipped"
    assert made[0].skipped_after_rows > 0, "and some after rows that changed nothing a pass reads"
    assert made[0].quiet_after_writes > 0, "and after passes that wrote only before deciding or to the log"
    assert every_rows["orders"] and every_rows["fills"] and every_rows["decisions"], "it must trade to prove anything"
    assert every.metrics.rewards > 0 and every.metrics.rebates > 0, "and earn, for the curve's income"
    assert rows == every_rows  # every order, fill, position, cash and decision row, as stored
    assert (skipping.metrics, skipping.fill_count, skipping.order_count, skipping.decisions, skipping.refusals) == (
        every.metrics, every.fill_count, every.order_count, every.decisions, every.refusals)
    assert list(skipping.curve) == list(every.curve) and list(skipping.exposure) == list(every.exposure)


def test_the_check_runs_the_passes_it_would_skip_and_fails_the_run_on_one_that_acted(
        tmp_path: Path, sparse: tuple[Path, list[str], int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, made = _run(tmp_path, sparse, "verify", monkeypatch)
    assert made[0].checked > 0 and made[0].skipped == 0  # every quiet pass ran, and changed nothing

    monkeypatch.setattr(QuietPasses, "_fresh_until", lambda self: 2**62)  # the books growing stale left out
    with pytest.raises(quiet_passes.QuietPassActed, match="would have been skipped"):
        _run(tmp_path / "missing", sparse, "verify", monkeypatch)


def test_a_run_of_one_market_skips_the_correlation_buckets_and_each_pass_it_skips_changes_nothing(
        tmp_path: Path, sparse: tuple[Path, list[str], int, int], monkeypatch: pytest.MonkeyPatch) -> None:
    path, markets, start, end = sparse
    _, _, made = _run(tmp_path, (path, markets[:1], start, end), "verify", monkeypatch)
    assert len(made[0].core.catalog.all()) == 1 and made[0].checked > 0 and made[0].skipped == 0


@pytest.mark.parametrize(("markets", "reason", "skipped"), [(1, None, True), (2, None, False),
                                                          (1, CORRELATION, False)])
def test_the_correlation_buckets_are_skipped_only_with_no_pair_to_measure_and_no_state_to_relax(
        markets: int, reason: str | None, skipped: bool) -> None:
    guard = CorrelationGuard(None)  # type: ignore[arg-type]  # a close that changes nothing writes nothing
    s = CorrelationSettings(bucket_ms=60_000, window_ms=3_600_000, threshold=0.8, spike=0.9)
    guard.watch.observe({"m": 500_000}, 10_000, s)
    memory = RiskMemory(TradingState.REDUCING if reason else TradingState.ACTIVE, reason, None, None, None)
    assert (guard.next_close(10_000, s, memory, markets) is None) is skipped


def test_rows_that_keep_the_books_fresh_put_off_their_growing_stale() -> None:
    books = BookCache()
    books.apply_snapshot("yes", [(400_000, 10)], [(420_000, 10)], at_ms=1_000)
    books.apply_snapshot("no", [(580_000, 10)], [(600_000, 10)], at_ms=1_000)
    core = SimpleNamespace(books=books, risk=SimpleNamespace(limits=limits.defaults()))  # data age: 10 s
    quiet = QuietPasses(core, None, None, None)  # type: ignore[arg-type]  # `_fresh_until` reads the core alone
    quiet._ran_at = 1_000  # the last pass
    assert quiet._fresh_until() == 11_001
    books.confirm({"yes", "no"}, 8_000)  # a row since, on their connection, that moved nothing a pass reads
    assert quiet._fresh_until() == 18_001


def test_a_book_is_stale_from_the_first_millisecond_past_the_age_limit() -> None:
    books = BookCache()
    books.apply_snapshot("yes", [(400_000, 10)], [(420_000, 10)], at_ms=1_000)
    books.apply_snapshot("no", [(580_000, 10)], [(600_000, 10)], at_ms=4_000)
    assert books.next_stale(1_000, 10_000) == 11_001
    assert books.next_stale(11_001, 10_000) == 14_001  # the older one is stale already: the next one
    assert books.next_stale(14_001, 10_000) is None


def test_the_volatility_breaker_reads_the_clock_until_its_baseline_is_full_then_at_each_change_leaving() -> None:
    s = volatility.Settings(window_ms=60_000, baseline_ms=1_800_000, reduce=3.0, halt=0.0, clear=1.5, floor=0)
    breaker = volatility.VolatilityBreaker()
    breaker.observe({"m": 500_000}, 0)
    assert breaker.next_change(1_000, s) == 1_000  # the baseline still grows: every pass
    breaker.observe({"m": 510_000}, 1_900_000)  # a change
    assert breaker.next_change(1_900_000, s) == 1_960_000  # it leaves the window
    assert breaker.next_change(1_960_000, s) == 3_700_000  # then the baseline
    off = volatility.Settings(window_ms=60_000, baseline_ms=1_800_000, reduce=0.0, halt=0.0, clear=1.5, floor=0)
    assert breaker.next_change(1_960_000, off) is None
    # A baseline shorter than the warm-up (two windows): judged only from the warm-up's end, which the
    # clock alone reaches.
    short = volatility.Settings(window_ms=60_000, baseline_ms=100_000, reduce=3.0, halt=0.0, clear=1.5, floor=0)
    assert breaker.next_change(110_000, short) == 110_000


def test_the_volatility_breaker_tells_when_a_state_would_change_not_each_reading() -> None:
    s = volatility.Settings(window_ms=60_000, baseline_ms=1_800_000, reduce=3.0, halt=0.0, clear=1.5, floor=0)
    breaker = volatility.VolatilityBreaker()
    for minute in range(33):  # a change a minute, each as large: a ratio near 1 all along
        breaker.observe({"m": 500_000 + 1_000 * (minute % 2)}, minute * 60_000)
    now = 32 * 60_000 + 30_000
    breaker.observe({"m": 501_000}, now)
    assert breaker.evaluate(s, now, TradingState.ACTIVE)[1] is TradingState.ACTIVE
    assert breaker.next_change(now, s) == 32 * 60_000 + 60_000  # a reading moves within the minute...
    assert breaker.next_judgement(now, s, TradingState.ACTIVE, now + 600_000) is None  # ...no state does

    spike = now + 1_000
    breaker.observe({"m": 520_000}, spike)
    assert breaker.evaluate(s, spike, TradingState.ACTIVE)[1] is TradingState.REDUCING
    assert breaker.next_judgement(spike, s, TradingState.REDUCING, spike + 600_000) == spike + 60_000  # it leaves
    assert breaker.next_judgement(spike, s, TradingState.REDUCING, spike + 30_000) is None  # not before then
    for at, state in ((spike + 59_999, TradingState.REDUCING), (spike + 60_000, TradingState.ACTIVE)):
        assert breaker.evaluate(s, at, TradingState.REDUCING)[1] is state  # as the passes would judge it


def test_a_correlation_bucket_closes_at_the_next_bucket_and_a_repeated_decision_after_a_minute(
        tmp_path: Path) -> None:
    watch = CorrelationWatch()
    s = CorrelationSettings(bucket_ms=60_000, window_ms=3_600_000, threshold=0.8, spike=0.9)
    assert watch.next_bucket(10_000, s) is None
    watch.observe({"m": 500_000}, 10_000, s)
    assert watch.next_bucket(10_000, s) == 60_000

    migrate(tmp_path / "t.db")
    log = DecisionsLog(Database(tmp_path / "t.db"), "paper")
    assert log.next_repeat(0) is None
    refused = Decision("s", "m", Side.BUY, 500_000, 10, 0, Reason.STALE_DATA, "")
    assert log.write([refused], 5_000) == 1
    assert log.next_repeat(5_000) == 5_000 + REPEAT_MS
    assert log.write([refused], 5_000 + REPEAT_MS - 1) == 0  # not written again before then
    assert log.write([refused], 5_000 + REPEAT_MS) == 1  # and written again then
    trimmed = Decision("s", "m", Side.SELL, 520_000, 10, 5, Reason.MAX_MARKET_EXPOSURE, "")
    assert log.write([trimmed], 70_000) == 1  # the refusal no longer made: only this one repeats
    assert log.next_repeat(70_000) == 70_000 + REPEAT_MS
    assert log.rows == 3  # every row it wrote, counted


def test_a_pass_decided_nothing_when_it_wrote_only_before_deciding_or_to_the_decisions_log() -> None:
    """The ledger's own steps (a trade's settlement step) come before the pass decides on them; the
    decisions log's rows are read by no pass; any other row, or a row replayed, is a decision."""
    log, changes = SimpleNamespace(rows=3), [10]
    core = SimpleNamespace(risk=SimpleNamespace(decisions=log), db=SimpleNamespace(batch_changes=lambda: changes[0]))
    cursor = SimpleNamespace(batch_number=1, i=5)
    quiet = QuietPasses(core, cursor, None, None)  # type: ignore[arg-type]  # what the rule reads, alone
    changes[0] = 12  # the ledger's own steps wrote two rows
    quiet.prepared()
    assert quiet._decided_nothing(quiet._here())
    changes[0], log.rows = 14, 5  # two decisions written
    assert quiet._decided_nothing(quiet._here())
    changes[0] = 15  # and an order's row
    assert not quiet._decided_nothing(quiet._here())
    changes[0], cursor.i = 14, 6  # a row replayed while it decided
    assert not quiet._decided_nothing(quiet._here())


def test_the_order_rate_frees_a_placement_only_once_reached_and_an_error_stops_counting_after_its_window() -> None:
    gate = RiskGate()
    gate.placements.extend([1_000, 2_000])
    assert gate.rate_frees_at(30_000, 3) is None  # under the limit: nothing held back
    assert gate.rate_frees_at(30_000, 2) == 61_001  # the first placement older than the window
    assert gate.rate_frees_at(61_001, 2) is None  # (gone from the count then)
    errors = ErrorCounter()
    errors.record(1_000)
    assert errors.leaves_at(1_000) == 301_001 and errors.count(301_000) == 1 and errors.count(301_001) == 0


@pytest.mark.parametrize("prices_only", [True, False])
def test_a_row_that_moves_only_the_touch_size_is_unread_where_the_strategies_read_only_its_prices(
        prices_only: bool) -> None:
    books = BookCache()
    books.apply_snapshot("yes", [(480_000, 100)], [(520_000, 100)], 1_000)
    strategy = SimpleNamespace(reads_touch_prices=lambda: prices_only)
    core = SimpleNamespace(books=books, catalog=SimpleNamespace(get=lambda cid: None),
                           host=SimpleNamespace(hosted={"mm": SimpleNamespace(instance=strategy, markets=["m"])}))
    quiet = QuietPasses(core, None, None, None)  # type: ignore[arg-type]  # `_reads` reads the core alone
    before = quiet._reads()
    books.apply_level("yes", True, 480_000, 250, 2_000)  # the best bid's size, not its price
    assert (quiet._reads() == before) is prices_only
    books.apply_level("yes", True, 490_000, 10, 3_000)  # a new best bid price: read either way
    assert quiet._reads() != before


def test_with_the_order_rate_often_reached_both_ways_report_the_same_decisions_and_refusals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 86 item 10: a placement refused before it was sent (the order rate) marked its market, so
    each refused timed pass cost a decision on events (refused again) that a skipped pass did not: the
    same run counted 22,448 decisions or 14,125, and a refused share above 1. Both ways now count the
    same, and refusals never outnumber checks."""
    path = tmp_path / "rate.db"
    markets, start, _ = write_recording(path, markets=2, events=600, events_per_decision=10**9, seed=5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide'")
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 300", (start, start))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
        conn.execute("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                     "VALUES ('max_order_rate', '1', 1, 0, 't')")  # one order a minute: reached at once
    every, every_rows, _ = _run(tmp_path, (path, markets, start, end), "run", monkeypatch)
    skipping, rows, made = _run(tmp_path, (path, markets, start, end), "skip", monkeypatch)
    assert made[0].skipped > 0 and every.refusals["refused"].get("MAX_ORDER_RATE", 0) > 100
    assert rows == every_rows and skipping.metrics == every.metrics
    assert (skipping.decisions, skipping.refusals) == (every.decisions, every.refusals)
    assert 0 < every.refusals["refused_share"] <= 1
