"""A backtest whose span holds a market's end books the payout as the venue pays it (engine/backtest/resolutions.py),
through the paper desk's own settlement: every position there closes at the outcome (a winner's shares owed 1, a
loser's 0), the winning shares are redeemed and paid by the paper venue's settlement at the collections' times,
the cash is booked from its credits, and the tax lots dispose of what was held on the day it ended; a 50/50 pays
each side half. A run that ends before a market it holds ends says, in its result, that those positions are
valued at their last mid, and what is known of their end. Real SQLite files, the real runner, a synthetic
recording written as the recorder writes one (bench/_recording.py); the paper desk's side of the same events is
tests/backtest/test_resolution_parity.py."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from charts.history_words import history_words
from contracts.domain import ONE
from contracts.settings import load_settings
from engine.backtest import quiet_passes
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from reports.tax_lots import tax_export
from storage.sqlite.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
CHECK_S = 5  # the desk's redeem_check_s in these recordings: the collections run every 5 s of the replay
SETTLED = ("positions", "claims", "cash_ledger", "paper_settlements", "resolutions", "settlement_txs")


def _recording(path: Path, *, markers: bool = True) -> tuple[list[str], int, int]:
    """Two markets' recording (every 20 events a decision marker, or none), the collections every CHECK_S."""
    markets, start, end = write_recording(path, markets=2, events=12_000,
                                          events_per_decision=20 if markers else 10**9, seed=7)
    with sqlite3.connect(path) as conn:
        if not markers:
            conn.execute("DELETE FROM ticks WHERE kind = 'decide'")
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('redeem_check_s', ?, 1, 0, 't')", (str(CHECK_S),))
    return markets, start, end


def _ended(path: Path, market: str, at: int, outcome: str, yes_pays: int | None = None) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO market_resolutions VALUES (?, ?, ?, ?, 'feed', 0, 'recorder')",
                     (market, at, outcome, yes_pays))


def _run(tmp: Path, path: Path, markets: list[str], start: int, end: int, name: str) -> tuple[BacktestResult, Path]:
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    work = tmp / name
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3, latency="zero"),
                      path, settings, work_dir=work)
    return result, work / "backtest.db"


def _rows(db: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return [tuple(r) for r in conn.execute(sql, params)]


def _held_at(db: Path, market: str, at: int) -> dict[str, int]:
    """What the run held of each of the market's tokens when it ended, from its fills (as the paper venue
    matched them, a failed one reversed)."""
    held: dict[str, int] = {}
    for token, side, size in _rows(db, """SELECT token_id, side, size FROM fills WHERE condition_id = ?
                                          AND matched_at <= ? AND status != 'FAILED'""", market, at):
        held[token] = held.get(token, 0) + (size if side == "BUY" else -size)
    return {token: size for token, size in held.items() if size}


def _first_run_at_or_after(start: int, at: int) -> int:
    every = CHECK_S * 1000
    return start + -(-(at - start) // every) * every


@pytest.fixture(scope="module")
def spanning(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], int, int, int, int]:
    """A recording over which market 0 resolves YES and market 1 NO (each a few ms before a collections run:
    the redemption is sent in the replay's batch that wrote the claim)."""
    path = tmp_path_factory.mktemp("spanning") / "recorded.db"
    markets, start, end = _recording(path)
    won = _first_run_at_or_after(start, start + (end - start) // 3) - 40
    lost = _first_run_at_or_after(start, start + (end - start) // 2) - 40
    _ended(path, markets[0], won, "yes")
    _ended(path, markets[1], lost, "no")
    return path, markets, start, end, won, lost


def test_a_run_spanning_a_markets_end_settles_redeems_and_books_the_payout_as_the_venue_pays_it(
        tmp_path: Path, spanning: tuple[Path, list[str], int, int, int, int]) -> None:
    path, markets, start, end, won, lost = spanning
    result, db = _run(tmp_path, path, markets, start, end, "bt")
    held_won, held_lost = _held_at(db, markets[0], won), _held_at(db, markets[1], lost)
    with sqlite3.connect(path) as conn:
        yes = dict(conn.execute("SELECT condition_id, yes_token FROM markets").fetchall())
    owed = held_won.get(yes[markets[0]], 0)  # a YES share of the winner pays 1; a NO share nothing
    assert owed > 0 and held_lost.get(yes[markets[1]], 0) > 0, "the run must hold the winner's and the loser's YES"
    # Each ledger closed what it held there at the outcome, on the instant it ended, and owes nothing more.
    assert _rows(db, "SELECT mode, condition_id, payout_yes, payout_no, at FROM resolutions ORDER BY at") == [
        ("paper", markets[0], ONE, 0, won), ("paper", markets[1], 0, ONE, lost)]
    assert _rows(db, "SELECT SUM(settled + pending) FROM positions WHERE condition_id IN (?, ?)", *markets) == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM fills WHERE (condition_id = ? AND matched_at > ?) OR "
                     "(condition_id = ? AND matched_at > ?)", markets[0], won, markets[1], lost) == [(0,)]  # over
    # The winner's shares were a claim, redeemed at the first collections run after it ended and paid by the
    # paper venue; the loser's were none.
    assert _rows(db, "SELECT kind, condition_id, amount, status FROM claims") == [("redeem", markets[0], owed, "paid")]
    [(sent, paid)] = _rows(db, "SELECT created_at, paid FROM paper_settlements WHERE kind = 'redeem'")
    assert paid == owed and _first_run_at_or_after(start, won) <= sent < _first_run_at_or_after(start, won) + 1_000
    [(amount, booked_at)] = _rows(db, "SELECT amount, at FROM cash_ledger WHERE kind = 'redemption'")
    assert amount == owed and booked_at >= sent + CHECK_S * 1000 - 1_000  # booked from the venue's credit, later
    # The tax lots: what was held disposed of at the payout on the day it ended (a loss of the loser's basis).
    ends = [r.sale for r in tax_export(Database(db), 2027, "paper").rows if r.sale.kind != "sale"]
    assert sum(s.shares for s in ends if s.sold_at == won) == sum(held_won.values())
    assert sum(s.proceeds for s in ends if s.sold_at == won) == owed
    assert sum(s.proceeds for s in ends if s.sold_at == lost) == 0 and any(s.sold_at == lost for s in ends)
    # The result says so, and holds nothing it valued at a mid.
    ended = result.history["resolutions"]
    assert [(r["market"], r["outcome"], r["at"]) for r in ended["settled"]] == [
        (markets[0], "YES", won), (markets[1], "NO", lost)]
    assert ended["open"] == [] and ended["owed"] is None
    assert any("Resolved inside the run, booked as the venue pays it" in line for line in history_words(result.history))


def test_a_run_that_ends_before_a_market_it_holds_ends_says_it_values_them_at_the_last_mid(
        tmp_path: Path, spanning: tuple[Path, list[str], int, int, int, int]) -> None:
    path, markets, start, end, won, lost = spanning
    result, db = _run(tmp_path, path, markets, start, won - 1, "before")  # both end after this run
    assert _rows(db, "SELECT COUNT(*) FROM claims") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM resolutions") == [(0,)]
    held = {cid for (cid,) in _rows(db, "SELECT DISTINCT condition_id FROM positions WHERE settled + pending > 0")}
    ended = result.history["resolutions"]
    assert ended["settled"] == [] and {h["market"] for h in ended["open"]} == held and held
    assert all("after the run's end" in h["known"] for h in ended["open"])
    words = " ".join(history_words(result.history))
    assert "valued at its last mid" in words and "after the run's end" in words


def test_a_market_whose_end_the_desk_does_not_know_is_said_so(tmp_path: Path) -> None:
    path = tmp_path / "recorded.db"
    markets, start, end = _recording(path)
    result, _ = _run(tmp_path, path, markets, start, end, "unknown")
    ended = result.history["resolutions"]
    assert ended["settled"] == [] and ended["open"]
    assert all("not known to the desk" in h["known"] and "resolutions set" in h["known"] for h in ended["open"])


def test_a_5050_pays_each_side_half_and_a_value_not_known_is_not_booked(tmp_path: Path) -> None:
    path = tmp_path / "recorded.db"
    markets, start, end = _recording(path)
    half = start + (end - start) // 2
    _ended(path, markets[0], half, "value", ONE // 2)
    _ended(path, markets[1], half, "value")  # heard on the feed as a 50/50, its payouts never asked
    result, db = _run(tmp_path, path, markets, start, end, "split")
    held = _held_at(db, markets[0], half)
    owed = sum(size * (ONE // 2) // ONE for size in held.values() if size > 0)
    assert owed > 0
    assert _rows(db, "SELECT condition_id, payout_yes, payout_no FROM resolutions") == [
        (markets[0], ONE // 2, ONE // 2)]
    assert _rows(db, "SELECT SUM(amount) FROM claims WHERE status = 'paid'") == [(owed,)]
    ended = result.history["resolutions"]
    assert [r["market"] for r in ended["settled"]] == [markets[0]]
    refused = [h for h in ended["open"] if h["market"] == markets[1]]
    assert refused and "not known" in refused[0]["refused"]


def test_a_recordings_payouts_known_today_never_settle_a_replay_before_its_end(tmp_path: Path) -> None:
    """The markets' rows hold what the desk knows today: a market resolved since must still trade in a replay of
    the hours before (its payouts on the scratch row would fold every fill at the outcome at once)."""
    path = tmp_path / "recorded.db"
    markets, start, end = _recording(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE markets SET payout_yes = ?, payout_no = 0, resolved_outcome = 'YES'", (ONE,))
    result, db = _run(tmp_path, path, markets, start, end, "today")
    assert _rows(db, "SELECT COUNT(*) FROM resolutions") == [(0,)]
    assert _rows(db, "SELECT COUNT(*) FROM positions WHERE settled + pending > 0") != [(0,)]
    ended = result.history["resolutions"]
    assert ended["open"] and all("did not record" in h["known"] for h in ended["open"])


def test_skipping_quiet_passes_collects_what_the_venue_owes_as_running_every_pass_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording without decision markers (an import's): its quiet passes are skipped in runs, but not while a
    claim is owed, whose collections run with the time alone."""
    path = tmp_path / "recorded.db"
    markets, start, end = _recording(path, markers=False)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 50", (start, start))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
    ends = _first_run_at_or_after(start, start + (end - start) // 2) - 40
    _ended(path, markets[0], ends, "yes")
    with sqlite3.connect(path) as conn:  # half a minute without data after it: its passes are skipped in runs
        conn.execute("DELETE FROM ticks WHERE at > ? AND at < ?", (ends, ends + 30_000))
    stored: dict[str, dict[str, list[Any]]] = {}
    for mode in ("run", "skip"):
        monkeypatch.setattr(quiet_passes, "MODE", mode)
        result, db = _run(tmp_path, path, markets, start, end, mode)
        stored[mode] = {table: _rows(db, f"SELECT * FROM {table} ORDER BY rowid") for table in SETTLED}
        stored[mode]["curve"] = list(result.curve)
    assert stored["run"]["claims"] and stored["run"]["paper_settlements"], "it must redeem to prove anything"
    assert stored["skip"] == stored["run"]
