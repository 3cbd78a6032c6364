"""The wallet finder (issue 61, item 2): the simulator serves the Data API's leaderboard and closed
positions strictly, in the venue's documented shapes; the finder reads the board and scores a
wallet over a window (realized PnL and hit rate of what it closed, its trades, markets and mix);
`python -m engine wallets` prints and stores it for the Strategies page."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.venues.polymarket.follow.finder import FinderError, WalletFinder
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import ROOT, isolated_env, wait_until

SHARP, DULL = "0x" + "5a" * 20, "0x" + "d0" * 20
BOARD_KEYS = {"rank", "proxyWallet", "userName", "vol", "pnl", "profileImage", "xUsername", "verifiedBadge"}
CLOSED_KEYS = {"proxyWallet", "asset", "conditionId", "avgPrice", "totalBought", "realizedPnl", "curPrice",
               "timestamp", "title", "slug", "icon", "eventSlug", "outcome", "outcomeIndex", "oppositeOutcome",
               "oppositeAsset", "endDate"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=62, agents=False, mined_delay_s=0.05, confirmed_delay_s=0.05,
                           resolution_delay_s=0.2) as handle:
        markets = [handle.market(neg_risk=False, index=i) for i in (1, 2, 3)]
        # SHARP: 10 YES at 0.40 in a market that resolves YES (+6), 5 YES at 0.60 in one that resolves NO (-3)
        handle.burst(SHARP, markets[0]["yes_token_id"], count=1, price="0.40", size="10")
        handle.burst(SHARP, markets[1]["yes_token_id"], count=1, price="0.60", size="5")
        # DULL: 20 YES at 0.50 in a market still open (nothing closed)
        handle.burst(DULL, markets[2]["yes_token_id"], count=1, price="0.50", size="20")
        handle.resolve(markets[0]["condition_id"], "YES")
        handle.resolve(markets[1]["condition_id"], "NO")
        wait_until(lambda: len(_get(handle, "/closed-positions", user=SHARP)) == 2, 20, 0.1, what="both final")
        yield handle


def _get(sim: SimHandle, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{sim.data_api_host}{path}", params=params)
    return answer.json() if answer.status_code == 200 else (answer.status_code, answer.text)


def test_the_leaderboard_and_closed_positions_are_served_strictly_in_the_venues_shapes(sim: SimHandle) -> None:
    board = _get(sim, "/v1/leaderboard")  # defaults: OVERALL, DAY, PNL, 25
    assert board and all(set(row) == BOARD_KEYS for row in board)
    assert [row["rank"] for row in board] == [str(n) for n in range(1, len(board) + 1)]
    assert board[0]["proxyWallet"] == SHARP and board[0]["pnl"] == pytest.approx(3.0)
    assert board[0]["vol"] == pytest.approx(7.0)
    by_volume = _get(sim, "/v1/leaderboard", orderBy="VOL", timePeriod="ALL", limit=1)
    assert len(by_volume) == 1 and by_volume[0]["vol"] >= 10.0
    [dull] = _get(sim, "/v1/leaderboard", user=DULL)
    assert dull["pnl"] == pytest.approx(0.0) and int(dull["rank"]) > 1
    bad_board: dict[str, Any]
    for bad_board in ({"category": "overall"}, {"category": "CHESS"}, {"timePeriod": "YEAR"}, {"orderBy": "ROI"},
                {"limit": 0}, {"limit": 51}, {"offset": 1001}, {"offset": -1}, {"user": "0x12"}, {"limit": "ten"}):
        status, _ = _get(sim, "/v1/leaderboard", **bad_board)
        assert status == 400, bad_board
    closed = _get(sim, "/closed-positions", user=SHARP)
    assert all(set(row) == CLOSED_KEYS for row in closed)
    assert [row["realizedPnl"] for row in closed] == [pytest.approx(6.0), pytest.approx(-3.0)]  # REALIZEDPNL, DESC
    assert closed[0]["avgPrice"] == pytest.approx(0.4) and closed[0]["curPrice"] == 1.0
    assert _get(sim, "/closed-positions", user=DULL) == []  # open: nothing closed
    assert len(_get(sim, "/closed-positions", user=SHARP, limit=1, sortDirection="ASC")) == 1
    bad: dict[str, Any]
    for bad in ({}, {"user": "nobody"}, {"user": SHARP, "limit": 51}, {"user": SHARP, "sortBy": "PNL"},
                {"user": SHARP, "sortDirection": "UP"}, {"user": SHARP, "offset": 100_001},
                {"user": SHARP, "market": "0x12"}):
        status, _ = _get(sim, "/closed-positions", **bad)
        assert status == 400, bad


def test_the_finder_scores_a_wallet_over_its_window(sim: SimHandle) -> None:
    async def read() -> Any:
        finder = WalletFinder(sim.data_api_host)
        try:
            leaders = await finder.leaderboard(period="DAY", limit=5)
            sharp = await finder.score(SHARP, 30, int(time.time() * 1000))
            dull = await finder.score(DULL, 30, int(time.time() * 1000))
            later = await finder.score(SHARP, 1, int(time.time() * 1000) + 3 * 86_400_000)  # the window past it
            with pytest.raises(FinderError, match="category must be one of"):
                await finder.leaderboard(category="CHESS")
            return leaders, sharp, dull, later
        finally:
            await finder.close()

    leaders, sharp, dull, later = asyncio.run(read())
    assert leaders[0].wallet == SHARP and leaders[0].pnl == 3_000_000 and leaders[0].rank == 1
    assert (sharp.realized_pnl, sharp.closed, sharp.hit_rate, sharp.trades, sharp.markets, sharp.volume) == (
        3_000_000, 2, 500_000, 2, 2, 7_000_000)
    assert [share for _, share in sharp.mix()] == [571_428, 428_571] and sharp.complete
    assert (dull.closed, dull.hit_rate, dull.trades, dull.volume) == (0, None, 1, 10_000_000)
    assert (later.closed, later.trades, later.realized_pnl) == (0, 0, 0)


def test_the_cli_prints_and_stores_the_board_scored(tmp_path: Path, sim: SimHandle) -> None:
    env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
    Path(env["TRADER_ENV_FILE"]).write_text("")
    migrate(Path(env["TRADER_DB"]))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine", "wallets", *args], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)

    top = cli("top", "--period", "day", "--limit", "3", "--days", "30", "--json")
    assert top.returncode == 0, top.stderr
    rows = json.loads(top.stdout)
    assert rows[0]["wallet"] == SHARP and rows[0]["realized_pnl"] == 3.0 and rows[0]["hit_rate"] == 0.5
    assert rows[0]["rank"] == 1 and rows[0]["category"] == "OVERALL" and rows[0]["period"] == "DAY"
    one = cli("score", SHARP.upper().replace("0X", "0x"), "--days", "7")
    assert one.returncode == 0, one.stderr
    assert "+3.00" in one.stdout and "50%" in one.stdout and "Strategies page" in one.stdout
    refused = cli("score", "0x12")
    assert refused.returncode == 1 and "is not a wallet address" in refused.stderr
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        stored = conn.execute("SELECT wallet, category, window_days, realized_pnl, hit_rate FROM wallet_scores "
                              "WHERE wallet = ? ORDER BY window_days", (SHARP,)).fetchall()
    assert stored == [(SHARP, "", 7, 3_000_000, 500_000), (SHARP, "OVERALL", 30, 3_000_000, 500_000)]
