"""A backtest of a configured strategy trades the markets it trades (issue 85): an accumulation with a 30-share
target on one market of a desk that recorded two bought 30 on paper, and 60 in a backtest of the same span
"from its params", because that backtest traded every market recorded in the range, each to its own 30. Its
markets are now its list's, or what its filter selects among the markets with data in the range
(storage/research/backtest_recording.py `configured_strategy`, which the Backtest page's preset and the
command line's `backtest --like NAME` read), so the backtest buys what the paper desk bought."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync
from storage.research.backtest_recording import configured_strategy
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import _book, _market_row  # noqa: E402

START = 1_800_000_000_000
S = 1_000
ACC = {"target_shares": 30, "size": 10, "interval_s": 5, "price_cap": 0.9}


def _desk(path: Path, strategies: dict[str, tuple[str, Any]]) -> list[str]:
    """Two markets recorded for a minute (the second more liquid), and the desk's strategies (name: kind, markets)."""
    migrate(path)
    rows = [_market_row(i, START) for i in range(2)]
    rows[1]["liquidity"] = 900 * 1_000_000
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                         [tuple(r.values()) for r in rows])
        ticks = [(START + t * S, token, "book", None, None, None, mid, json.dumps(_book(mid)))
                 for t in range(0, 61, 2) for row in rows
                 for token, mid in ((row["yes_token"], 500_000), (row["no_token"], 500_000))]
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ticks)
        for name, (kind, markets) in strategies.items():
            conn.execute("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                updated_by) VALUES (?, ?, ?, ?, 1, 0, 0, 't')""",
                         (name, kind, json.dumps(ACC if kind == "accumulate" else {}), json.dumps(markets)))
    return [r["condition_id"] for r in rows]


def _bought(tmp: Path, path: Path, markets: tuple[str, ...]) -> float:
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    result = run_sync(BacktestSpec("accumulate", ACC, START, START + 60 * S, markets, seed=1, latency="zero"), path,
                      settings, work_dir=tmp / f"bt{len(markets)}")
    return sum(f["size"] for f in result.fills if f["side"] == "BUY") / 1e6


@pytest.mark.parametrize("selects", ["list", "filter"])
def test_a_backtest_of_a_strategy_trades_its_markets_and_buys_its_target_once(tmp_path: Path, selects: str) -> None:
    path = tmp_path / "desk.db"
    spec: Any = {"filter": {"max_markets": 1, "sort": "liquidity"}}  # (the more liquid: market 1)
    markets = _desk(path, {"acc": ("accumulate", None), "mm": ("market_making", [])})
    own = markets[0] if selects == "list" else markets[1]
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE strategies SET markets = ? WHERE name = 'acc'",
                     (json.dumps([own] if selects == "list" else spec),))
    found = configured_strategy(path, "acc", "recorded", START, START + 60 * S, START)
    assert found is not None and (found.kind, found.params, found.markets) == ("accumulate", ACC, (own,))
    assert _bought(tmp_path, path, found.markets) == 30  # what the paper desk bought: its target, on its market
    assert _bought(tmp_path, path, tuple(markets)) == 60  # every recorded market: the 60 the issue measured
    assert configured_strategy(path, "nobody", "recorded", START, START + 60 * S, START) is None


def test_the_command_line_backtests_a_strategy_like_it_trades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m engine backtest --like acc`: its kind, params (--params changes some) and markets."""
    from engine.main import main

    path = tmp_path / "desk.db"
    markets = _desk(path, {"acc": ("accumulate", None)})
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE strategies SET markets = ? WHERE name = 'acc'", (json.dumps(markets[1:]),))
    monkeypatch.setenv("TRADER_DB", str(path))
    monkeypatch.setenv("TRADER_ENV_FILE", str(tmp_path / "none"))
    span = ["--from", str(START), "--to", str(START + 60 * S), "--latency", "zero"]
    assert main(["backtest", "--like", "acc", "--params", '{"size": 15}', *span]) == 0
    answer = json.loads(capsys.readouterr().out)
    with sqlite3.connect(path) as conn:
        kind, params, traded = conn.execute("SELECT strategy_kind, params, markets FROM strategy_runs").fetchone()
    assert (kind, json.loads(params)["size"], json.loads(traded)) == ("accumulate", 15, markets[1:])
    assert answer["fills"] == 2  # 15 + 15: its target, on its one market
    assert main(["backtest", "--like", "acc", "--markets", markets[0], *span]) == 1
    assert "--like sets the kind and markets: drop --markets" in capsys.readouterr().err
    assert main(["backtest", "--like", "nobody", *span]) == 1
    assert "there is no strategy named 'nobody'" in capsys.readouterr().err
