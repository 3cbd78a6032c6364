"""`python -m engine pairs`, run as a user runs it against the simulator (its Gamma and its Kalshi
side): a link shows both markets side by side with the differences warned, is stored only when
confirmed, is audited, listed and removed; bad links are refused in words and change nothing; find
lists Kalshi's binary markets past its parlay legs (`mve_filter=exclude`), as data a page can call."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.cross_venue import FIND_EXAMPLE
from contracts.settings import load_settings
from engine.cli import pairs
from engine.cli.errors import open_db
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env
from tests.kalshi import binary_tickers


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=13, agents=False, prefill_books=False, kalshi_markets=2) as handle:
        yield handle


@pytest.fixture
def desk(tmp_path: Path, sim: SimHandle) -> dict[str, str]:
    """A desk that has discovered the simulator's first Polymarket market (as a run would store it)."""
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    Path(env["TRADER_ENV_FILE"]).write_text("")
    migrate(Path(env["TRADER_DB"]))
    market = sim.market(neg_risk=False)
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, end_at,
                        first_seen_at, updated_at) VALUES (?, ?, ?, ?, 10000, 5000000, ?, 0, 0)""",
                     (market["condition_id"], market["question"], "y", "n", 1_000))
    env["CONDITION"] = market["condition_id"]
    return env


def _pairs(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "engine", "pairs", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _rows(env: dict[str, str], sql: str) -> list[Any]:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return conn.execute(sql).fetchall()


def _ticker(sim: SimHandle) -> str:
    return binary_tickers(sim)[0]


def test_a_pair_is_shown_side_by_side_confirmed_audited_listed_and_removed(desk: dict[str, str],
                                                                           sim: SimHandle) -> None:
    ticker = _ticker(sim)
    unconfirmed = _pairs(desk, "add", desk["CONDITION"], ticker)  # no terminal and no --yes: shown, not stored
    assert unconfirmed.returncode == 1 and "not linked" in unconfirmed.stdout + unconfirmed.stderr
    assert "question" in unconfirmed.stdout and "Will simulated outcome 1 happen?" in unconfirmed.stdout
    assert "Polymarket rules:" in unconfirmed.stdout and "(Gamma did not answer)" not in unconfirmed.stdout
    categories = next(line for line in unconfirmed.stdout.splitlines() if line.startswith("categories"))
    assert categories.endswith("Simulated")  # the Kalshi series' discovery categories (Series.categories)
    assert _rows(desk, "SELECT COUNT(*) FROM venue_pairs") == [(0,)]
    linked = _pairs(desk, "add", desk["CONDITION"], ticker, "--inverted", "--yes")
    assert linked.returncode == 0, linked.stderr
    out = linked.stdout
    assert "YES means" in out and "NO" in out.split("YES means")[1].splitlines()[0]  # inverted, said so
    assert "WARNING: end times differ" in out and "WARNING: the questions read differently" in out
    assert "linked as pair 1" in out
    listed = json.loads(_pairs(desk, "list", "--json").stdout)
    assert [(p["polymarket"], p["kalshi"], p["inverted"]) for p in listed] == [(desk["CONDITION"], ticker, True)]
    assert any("end times differ" in w for w in listed[0]["warnings"])
    again = _pairs(desk, "add", desk["CONDITION"], ticker, "--yes")
    assert again.returncode == 1 and "already linked" in again.stderr
    with sqlite3.connect(desk["TRADER_DB"]) as conn:  # a live position on Kalshi's side of the pair
        conn.execute("""INSERT INTO positions (mode, venue, strategy, token_id, condition_id, outcome, settled,
                            pending, cost, realized, fees, updated_at)
                        VALUES ('live', 'kalshi', 'kx', ?, ?, 'YES', 3000000, 0, 1200000, 0, 0, 1)""",
                     (f"kalshi:{ticker}:yes", f"kalshi:{ticker}"))
    held = _pairs(desk, "remove", "1")  # unpaired, the position would be followed no more: refused
    assert held.returncode == 1 and f"Kalshi market {ticker} is still held (1 position)" in held.stderr
    assert "Exit those positions" in held.stderr and _rows(desk, "SELECT COUNT(*) FROM venue_pairs") == [(1,)]
    with sqlite3.connect(desk["TRADER_DB"]) as conn:  # exited: nothing held there any more
        conn.execute("UPDATE positions SET settled = 0")
    removed = _pairs(desk, "remove", "1")
    assert removed.returncode == 0 and "unlinked pair 1" in removed.stdout
    assert _rows(desk, "SELECT action FROM audit_log WHERE entity = 'venue_pairs:1' ORDER BY id") == \
        [("pair.add",), ("pair.remove",)]
    assert _pairs(desk, "list").stdout.strip() == "no pairs"


def test_bad_links_are_refused_in_words(desk: dict[str, str], sim: SimHandle) -> None:
    ticker = _ticker(sim)
    same_venue = _pairs(desk, "add", desk["CONDITION"], desk["CONDITION"], "--yes")
    assert same_venue.returncode == 1 and "is a Polymarket condition id: a pair links one market of each venue" \
        in same_venue.stderr
    backwards = _pairs(desk, "add", ticker, desk["CONDITION"], "--yes")
    assert backwards.returncode == 1 and "is not a Polymarket market" in backwards.stderr
    unknown = _pairs(desk, "add", desk["CONDITION"], "KXNOPE-1", "--yes")
    assert unknown.returncode == 1 and "Kalshi has no market KXNOPE-1 (404)" in unknown.stderr
    undiscovered = _pairs(desk, "add", "0x" + "ab" * 32, ticker, "--yes")
    assert undiscovered.returncode == 1 and "no Polymarket market" in undiscovered.stderr
    scalar = binary_tickers(sim)[1]
    sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[scalar], "market_type", "scalar"))
    try:
        not_binary = _pairs(desk, "add", desk["CONDITION"], scalar, "--yes")
    finally:
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[scalar], "market_type", "binary"))
    assert not_binary.returncode == 1 and f"Kalshi's {scalar} is a scalar market" in not_binary.stderr
    sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[scalar], "settlement_bounds", "floor"))
    try:  # Kalshi's settlement floors pay YES holders part before settlement: not a binary to pair
        floored = _pairs(desk, "add", desk["CONDITION"], scalar, "--yes")
    finally:
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[scalar], "settlement_bounds", "default"))
    assert floored.returncode == 1 and "binary with a settlement floor" in floored.stderr
    missing = _pairs(desk, "remove", "7")
    assert missing.returncode == 1 and "no pair 7" in missing.stderr
    assert _rows(desk, "SELECT COUNT(*) FROM venue_pairs") == [(0,)]
    assert _rows(desk, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'pair.%'") == [(0,)]


def test_find_lists_candidates_on_both_venues_and_links_nothing(desk: dict[str, str], sim: SimHandle) -> None:
    found = _pairs(desk, "find", "simulated outcome 2")
    assert found.returncode == 0, found.stderr
    kalshi_part = found.stdout.split("Kalshi (open markets")[1]
    tickers = binary_tickers(sim)
    assert tickers[1] in kalshi_part and tickers[0] not in kalshi_part  # every word must match
    assert "KXMVE" not in kalshi_part  # the parlay legs naming "simulated outcome 2" are left out
    assert "bid " in kalshi_part and "ask " in kalshi_part
    question = _rows(desk, "SELECT question FROM markets")[0][0]
    word = question.split()[1]
    both = _pairs(desk, "find", word)
    assert desk["CONDITION"] in both.stdout.split("Kalshi (open markets")[0]  # the desk's own market, by a word
    assert _rows(desk, "SELECT COUNT(*) FROM venue_pairs") == [(0,)]  # finding links nothing
    assert _pairs(desk, "find", "   ").returncode == 1


def test_spreads_say_what_each_way_locks_in_after_both_venues_fees(tmp_path: Path, sim: SimHandle) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    Path(env["TRADER_ENV_FILE"]).write_text("")
    migrate(Path(env["TRADER_DB"]))
    market = sim.market(neg_risk=False, index=1)
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, end_at,
                        first_seen_at, updated_at, fee_rate_ppm, fee_exponent, fees_at)
                        VALUES (?, ?, ?, ?, 10000, 5000000, ?, 0, 0, 0, 1, 1)""",
                     (market["condition_id"], market["question"], market["yes_token_id"], market["no_token_id"],
                      1_000))
    ticker = _ticker(sim)
    assert _pairs(env, "add", market["condition_id"], ticker, "--yes").returncode == 0
    yes_bids, _ = sim.call(lambda: sim.sim.kalshi.exchange.books[ticker].levels())
    kalshi_no_ask = (1_000_000 - max(yes_bids)) / 1e6  # Kalshi's NO ask: 1 - its best YES bid
    cheap_yes = (max(yes_bids) - 80_000) / 1e6  # YES here 8 cents under Kalshi's YES bid: the pair costs 0.92
    sim.place_liquidity(market["yes_token_id"], "SELL", f"{cheap_yes:.2f}", "40")
    sim.place_liquidity(market["no_token_id"], "SELL", "0.90", "40")  # a dear NO: no edge the other way
    done = _pairs(env, "spreads", "--json")
    assert done.returncode == 0, done.stderr
    [row] = json.loads(done.stdout)
    cheap, dear = row["ways"]
    assert cheap["buy"] == "YES on Polymarket + NO on Kalshi" and cheap["shares"] == 40  # all 40 asked here
    assert cheap["limits"] == {"polymarket": pytest.approx(cheap_yes), "kalshi": kalshi_no_ask}
    assert cheap["locks_in"] == pytest.approx(cheap["shares"] - cheap["polymarket_cost"] - cheap["kalshi_cost"])
    assert cheap["locks_in"] > 0.01 * cheap["shares"] and cheap["fees"] > 0  # Kalshi's taker fee counted
    assert dear["buy"] == "NO on Polymarket + YES on Kalshi" and dear["shares"] == 0  # 0.90 + Kalshi's YES > 1
    text = _pairs(env, "spreads", "--capital", "5").stdout
    assert "locks in" in text and "Nothing was placed" in text
    refused = _pairs(env, "spreads", "--margin", "1.5")
    assert refused.returncode != 0 and "--margin 1.5: a share of a dollar from 0 to under 1" in refused.stderr


def test_find_is_data_a_page_calls(desk: dict[str, str], sim: SimHandle, capsys: pytest.CaptureFixture[str]) -> None:
    """`pairs.find` (what `pairs find` prints, and what the Markets page reads through `pairs find
    --json`): both venues' matches as data, nothing printed, Kalshi's bid and ask in cents (exact:
    a sub-penny price is a decimal of cents); Kalshi's parlay legs (listed before its other markets,
    their titles naming the same outcomes) are never among them."""
    settings = load_settings(desk)
    found = pairs.find(settings, open_db(settings), "simulated outcome")
    assert capsys.readouterr().out == ""
    tickers = [m["ticker"] for m in found["kalshi"]]
    assert tickers == binary_tickers(sim)  # every binary market, no parlay leg
    books = sim.call(lambda: {t: sim.sim.kalshi.exchange.books[t].levels() for t in tickers})
    assert [(m["yes_bid"], m["yes_ask"]) for m in found["kalshi"]] == [
        (max(yes) / 10_000, (1_000_000 - max(no)) / 10_000) for yes, no in books.values()]
    assert found["kalshi_more"] == 0 and isinstance(found["polymarket"], list)
    as_json = _pairs(desk, "find", "simulated outcome", "--json")
    assert json.loads(as_json.stdout)["kalshi"] == found["kalshi"]


def test_the_simulator_offers_a_pair_asking_the_same_question(tmp_path: Path) -> None:
    """The rehearsal's search finds one market on each venue asking the Fed's February 25 bps question
    (worded each venue's way), and they link with nothing to warn of: cross-venue linking and arbitrage
    can be rehearsed offline (docs/going-live.md)."""
    import asyncio

    from engine.venues.polymarket.discovery import refresh_markets
    from simulator.kalshi.twin import POLYMARKET_QUESTION, TITLE
    from storage.sqlite.db import Database

    with running_simulator(seed=13, agents=False, prefill_books=False, kalshi_markets=1, kalshi_pair=True) as twin:
        env = isolated_env(tmp_path, SIMULATOR_PORT=str(twin.port))
        Path(env["TRADER_ENV_FILE"]).write_text("")
        migrate(Path(env["TRADER_DB"]))
        db = Database(Path(env["TRADER_DB"]))
        asyncio.run(refresh_markets(db, f"http://127.0.0.1:{twin.port}/gamma"))  # as the engine's first run
        db.dispose()
        # The finder's own example (the Markets page's placeholder, `pairs find --help`): it finds the pair offline.
        found = json.loads(_pairs(env, "find", FIND_EXAMPLE, "--json").stdout)
        assert [m["question"] for m in found["polymarket"]] == [POLYMARKET_QUESTION]
        assert [m["title"] for m in found["kalshi"]] == [TITLE] and found["kalshi"][0]["yes_ask"] > 0
        linked = _pairs(env, "add", found["polymarket"][0]["condition_id"], found["kalshi"][0]["ticker"], "--yes")
        assert linked.returncode == 0, linked.stdout + linked.stderr
        warned = [line for line in linked.stdout.splitlines() if line.startswith("WARNING")]
        # Same question, same end: the one warning left is that the seed data names no resolution source
        # field (its rules do: read them, as the warning says).
        assert "linked as pair 1" in linked.stdout and warned == [
            "WARNING: Polymarket names no resolution source for this market: read its rules"], linked.stdout
