"""Hostile session files cannot poison the desk: a real paper engine trades the simulator, then
each hostile file goes through `python -m engine session import` (and `import-history --file`):
a file that would take over a traded market's tokens, rename a known market's tokens, carry
unreadable tags, a tick off the venue's set, a minimum size of 0, a market missing a column, a
book of 100,000 brackets, a price off the grid, or one endless line is refused with its reason,
never a traceback, and nothing changes; a valid file of an unknown market claiming an absurd
liquidity, and one with every line twice, are imported (once each line) as markets apart from
the live desk's. The engine then starts again and trades exactly the markets it traded before,
none of them refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.testing import SimHandle, approved_simulator
from tests.helpers import EngineProcess, paper_desk, run_cli, wait_until

pytestmark = pytest.mark.slow
MARKETS = {"filter": {"max_markets": 2, "sort": "liquidity"}}
# A filter only the imported markets' question matches: it must select none of them.
IMPORTED_ONLY = {"filter": {"text": "rain on the import", "sort": "liquidity", "tradable_only": False}}
PARAMS = {"size": 20, "half_spread": 0.02, "max_inventory": 100, "refresh_threshold": 0.015}
T0 = 1_600_000_000_000  # the files' span: long before anything this desk recorded
UNKNOWN = ("0x" + "ab" * 32, "1" * 40, "2" * 40)  # a market the simulator does not list


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=31, agents=True, agent_interval_s=0.1) as handle:
        yield handle


def _market(cid: str, yes: str, no: str, **changes: Any) -> dict[str, Any]:
    """A market row as `session export` writes it."""
    row = {"condition_id": cid, "question": "Will it rain on the import?", "slug": "rain", "yes_token": yes,
           "no_token": no, "outcomes": '["Yes", "No"]', "tick": 10_000, "min_size": 5_000_000, "neg_risk": 0,
           "active": 1, "closed": 0, "accepting_orders": 1, "volume": 0, "volume_24h": 0, "liquidity": 0,
           "tags": '["weather"]', "tradable": 1, "fee_rate_ppm": 0, "fee_exponent": 1, "first_seen_at": T0,
           "updated_at": T0}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not ...}


def _book(at: int, token: str, mid: int = 500_000) -> list[Any]:
    levels = {"b": [[mid - 10_000, 50_000_000]], "a": [[mid + 10_000, 50_000_000]]}
    return [at, token, "book", None, None, None, mid, json.dumps(levels)]


def _lines(market: dict[str, Any]) -> list[list[Any]]:
    yes, no = market["yes_token"], market["no_token"]
    return [*(_book(T0 + i * 100, token) for i in range(5) for token in (yes, no)),
            [T0 + 600, yes, "trade", "BUY", 510_000, 3_000_000, 500_000, None],
            [T0 + 700, "", "decide", None, None, T0 + 650, None, None]]


def _write(path: Path, markets: list[dict[str, Any]], lines: list[Any], *, name: str) -> Path:
    header = {"format": "polymarket-desk-recording-session", "version": 1,
              "session": {"name": name, "notes": "", "started_at": T0, "stopped_at": T0 + 60_000,
                          "markets": [m["condition_id"] for m in markets]},
              "markets": markets}
    with path.open("w") as out:
        out.write(json.dumps(header) + "\n")
        out.writelines((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return path


def _hostile(tmp: Path, traded: tuple[str, str, str]) -> dict[str, tuple[Path, str]]:
    """Each refused file, and the reason its refusal must give."""
    cid, yes, no = traded
    fake = _market(*UNKNOWN)
    book = _lines(fake)
    files: dict[str, tuple[list[Any], list[Any], str]] = {
        "takeover": ([_market("0x" + "cd" * 32, yes, no, closed=1, tick=100_000, min_size=900_000_000)],
                     [_book(T0, yes)], f"are those of market {cid}"),
        "new tokens": ([_market(cid, "3" * 40, "4" * 40)], [], "knows it with other tokens"),
        "tags": ([{**fake, "tags": "weather, not JSON"}], book, "tags is not a JSON list"),
        "tick": ([{**fake, "tick": "abc"}], book, "tick is not one of the venue's tick sizes"),
        "min size": ([{**fake, "min_size": 0}], book, "min_size is not above 0"),
        "missing column": ([_market(*UNKNOWN, tick=...)], book, "it lacks tick"),
        "brackets": ([fake], [[T0, fake["yes_token"], "book", None, None, None, 500_000, "[" * 100_000]], "line 2"),
        "off the grid": ([fake], [[T0, fake["yes_token"], "trade", "BUY", 500_050, 1_000_000, None, None]],
                         "line 2: a trade is not side BUY or SELL, a price on the grid"),
        "endless line": ([fake], ["[" + "1," * 1_000_000 + "1]"], "line 2 is longer than"),
        "marker from the future": ([fake], [*book[:-1], [T0 + 700, "", "decide", None, None, T0 + 800, None, None]],
                                   "line 13: a decide marker says its books were current since after its own time"),
    }
    return {name: (_write(tmp / f"{name}.jsonl", markets, lines, name=name), reason)
            for name, (markets, lines, reason) in files.items()}


def _desk_state(engine: EngineProcess) -> tuple[Any, ...]:
    return tuple(engine.rows(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("markets", "ticks", "recording_sessions"))


def _quoted(engine: EngineProcess, since_id: int) -> set[str]:
    return {cid for (cid,) in engine.rows("SELECT DISTINCT condition_id FROM orders WHERE id > ?", since_id)}


def test_hostile_session_files_are_refused_and_the_engine_trades_as_before(tmp_path: Path, sim: SimHandle) -> None:
    engine = paper_desk(tmp_path, sim, [("demo", "market_making", PARAMS, MARKETS),
                                        ("rain", "market_making", PARAMS, IMPORTED_ONLY)])
    try:
        engine.start()
        wait_until(lambda: len(_quoted(engine, 0)) == 2, 120, 0.2, "quotes on the two most liquid markets")
        before = _quoted(engine, 0)
        assert engine.terminate() == 0
        traded = engine.rows("SELECT condition_id, yes_token, no_token FROM markets WHERE condition_id = ?",
                       sorted(before)[0])[0]
        state = _desk_state(engine)
        for name, (path, reason) in _hostile(tmp_path, traded).items():
            done = run_cli(["session", "import", str(path)], engine.env, timeout=120)
            assert done.returncode == 1 and reason in done.stderr, (name, done.stderr[-2000:])
            assert "Traceback" not in done.stderr, name
            assert _desk_state(engine) == state, name
        _imports_apart(tmp_path, engine)
        last = engine.rows("SELECT COALESCE(MAX(id), 0) FROM orders")[0][0]
        engine.start()
        wait_until(lambda: len(_quoted(engine, last)) >= len(before), 120, 0.2, "quotes after the restart")
        assert _quoted(engine, last) == before  # the same markets as before
        assert engine.status().state == "RUNNING"
        selected = dict(engine.rows("SELECT name, selected FROM strategy_selection"))
        assert selected == {"demo": 2, "rain": 0}  # an imported market is never a live candidate
        assert engine.rows("SELECT COUNT(*) FROM alerts WHERE code = 'ENGINE_ERROR'") == [(0,)]
        refused = engine.rows("SELECT COUNT(*) FROM orders WHERE id > ? AND status = 'REJECTED'", last)
        assert refused == [(0,)]
    finally:
        engine.cleanup()


def _imports_apart(tmp: Path, engine: EngineProcess) -> None:
    """A valid file of an unknown market claiming an absurd liquidity is imported, marked
    imported with no activity figures; a file with every line twice imports each line once."""
    rich = _market(*UNKNOWN, liquidity=10**15, volume=10**15)
    lines = _lines(rich)
    done = run_cli(["import-history", "--file", str(_write(tmp / "rich.jsonl", [rich], lines, name="rich"))],
                   engine.env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert engine.rows("SELECT origin, liquidity, volume FROM markets WHERE condition_id = ?", UNKNOWN[0]) == [
        ("imported", 0, 0)]
    other = _market("0x" + "ef" * 32, "5" * 40, "6" * 40)
    twice = [line for line in _lines(other) for _ in range(2)]
    done = run_cli(["session", "import", str(_write(tmp / "twice.jsonl", [other], twice, name="twice"))],
                   engine.env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout[done.stdout.index("{"):])["ticks"] == len(_lines(other))
    tokens = (other["yes_token"], other["no_token"], "")
    assert engine.rows("SELECT COUNT(*) FROM ticks WHERE at >= ? AND at <= ? AND token_id IN (?, ?, ?)",
                 T0, T0 + 60_000, *tokens) == [(len(_lines(other)) + 1,)]  # the rich file's marker too
