"""Every strategy kind as the desk runs it (issue 85 item 2), on the real backtest runner and real SQLite:
each kind the desk can run (tests/strategies/kinds.py: the built-ins, the example plugin, the desk's own
plugins; a kind added to any of them is covered here without an edit) × {timed passes only, decisions on
events} × {one market, several}, on a small scripted recording.

- Several markets: a strategy on two markets trades each exactly as a strategy on that market alone does
  (the same orders, at the same simulated instants), so a decision on one market's event never costs the
  other market its warm-up, window, interval or cooldown. Desk-wide limits that would make two markets
  interfere (the order rate, exposure across markets, the desk's pooled volatility, the bankroll a Kelly
  size reads) are raised, so what is compared is the strategy alone.
- Cadences: the rules a kind states hold on both (a slice an interval apart and the target reached, an
  entry only after the warm-up or a whole window, an order in every market), and where the rules say the
  outcome cannot depend on the cadence (the accumulation's target, the breakout's entry), the two agree.

A kind with no scenario below runs on its defaults over a swinging market: it is held to the first rule
(several markets traded as each alone) without one. The paper engine's side is the process tier's
(tests/process/test_every_kind_live.py: one engine hosting every kind on several markets at once)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Outcome, Side, yes_space
from contracts.settings import load_settings
from contracts.venues.kalshi import ids as kalshi_ids
from engine.backtest.runner import BacktestSpec, run_sync
from storage.sqlite.migrations import migrate
from tests.strategies.kinds import EXAMPLES, every_kind

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import TICK, _market_row  # noqa: E402

START = 1_800_000_000_000
S = 1_000
SPAN_S = 240
END = START + SPAN_S * S
SEVERAL = 2  # markets of the "several" runs (a pair of legs each, for a kind that trades one against another)
OFFSET_MS = 370  # market n's rows come n × this later: no two markets move at the same instant
Path_ = list[tuple[float, float]]  # (seconds from the start, price)
Orders = dict[str, list[tuple[Any, ...]]]  # market -> its orders (sent at, YES side, YES price, size, tif, filled)
# Desk-wide limits raised: what two markets share must not decide what one of them trades.
LIMITS = {"max_order_rate": "100000", "max_total_exposure": "10000000", "max_strategy_exposure": "10000000",
          "max_event_exposure": "10000000", "max_open_orders": "10000", "max_data_age": "3600",
          "volatility_reduce": "0", "volatility_halt": "0", "max_daily_loss": "10000000", "max_drawdown": "100",
          "kill_switch_drawdown": "100", "error_rate_breaker": "10000"}
CAPITAL = 1_000_000 * 1_000_000  # a bankroll no Kelly size or cash check runs into


def _book(mid: int, fresh: int) -> str:
    """A full book around `mid` whose sizes differ from one row to the next (`fresh`): each row is a new
    book, so what a take used up of the last one is there again (the paper venue keeps what it took until
    the book changes, and a take it cannot fill is refused)."""
    sizes = [(50 + 10 * k + fresh % 7) * 1_000_000 for k in range(10)]
    return json.dumps({"b": [[mid - TICK * (k + 1), size] for k, size in enumerate(sizes)],
                       "a": [[mid + TICK * (k + 1), size] for k, size in enumerate(sizes)]})


def _swing(n: int, every: float = 4, base: float = 0.5) -> Path_:
    """A mid swinging a cent or two around `base`, a move every `every` seconds (market n its own phase)."""
    steps = (0, 1, 2, 1, 0, -1, -2, -1)
    return [(t * every, base + steps[(t + 3 * n) % 8] / 100) for t in range(int(SPAN_S / every) + 1)]


def _flat_then(n: int, at: float, to: float, base: float = 0.5, every: float = 2) -> Path_:
    """A mid still at `base` (a fresh book every `every` seconds) until `at`, then at `to`."""
    return [(t * every, base if t * every < at else to) for t in range(int(SPAN_S / every) + 1)]


def _blips(n: int, to: float, base: float = 0.5) -> Path_:
    """A mid at `base` (a fresh book every half second) but at `to` for a second from 100 s and from 180 s."""
    return [(t / 2, to if any(at <= t / 2 < at + 1 for at in (100, 180)) else base) for t in range(2 * SPAN_S + 1)]


def _trend(n: int) -> Path_:
    """Flat for a minute, a climb of a cent every 4 s (market 1: a fall), then flat again."""
    sign = 1 if n % 2 == 0 else -1
    return [(t, 0.5 + sign * min(max(0, t - 60) // 4, 15) / 100) for t in range(0, SPAN_S + 1, 2)]


@dataclass(frozen=True)
class Scenario:
    """What a kind is given to act on, and what its idea says must hold of what it did."""

    params: dict[str, Any] = field(default_factory=dict)
    path: Callable[[int], Path_] = _swing  # market n's YES mid
    no_path: Callable[[int], Path_] | None = None  # its NO mid, when the NO book is not YES's mirror
    kalshi: Callable[[int], Path_] | None = None  # the YES mid of a Kalshi market paired with it
    signals: Callable[[int], list[tuple[str, float, float | None]]] | None = None  # standing fair values
    verdicts: dict[str, float] = field(default_factory=dict)  # the breaker's Brier score of each source
    followed: Callable[[int], list[tuple[float, str, float, float]]] | None = None  # (s, side, price, size)
    legs: int = 1  # markets one of its units trades together (a pair: 2)
    rules: Callable[[dict[str, Orders]], None] | None = None  # cadence -> market -> orders: what must hold
    trades: bool = True  # it must place orders in every market (a scenario that trades nothing proves nothing)


def _accumulated(runs: dict[str, Orders]) -> None:
    """Each market: slices at least `interval_s` apart and the target bought, whatever the cadence."""
    for cadence, by_market in runs.items():
        for cid, orders in by_market.items():
            sent = [o[0] for o in orders]
            assert all(b - a >= 30 * S for a, b in zip(sent, sent[1:], strict=False)), (cadence, cid, sent)
            assert sum(o[5] for o in orders) == 30_000_000, (cadence, cid, orders)  # the target, not more


def _warmed_up(after_s: int) -> Callable[[dict[str, Orders]], None]:
    def rule(runs: dict[str, Orders]) -> None:
        for cadence, by_market in runs.items():
            for cid, orders in by_market.items():
                assert all(o[0] >= START + after_s * S for o in orders), (cadence, cid, orders[:2])
    return rule


def _broke_out(runs: dict[str, Orders]) -> None:
    """No entry before a whole window was watched and the mid left its range; the same entry on both cadences."""
    _warmed_up(120)(runs)
    entries = {cadence: {cid: [(o[1], o[5]) for o in orders] for cid, orders in by_market.items()}
               for cadence, by_market in runs.items()}
    assert entries["timed"] == entries["events"], entries


def _signals(value: float, *more: tuple[str, float, float | None]) -> Callable[[int], list]:
    """The operator's fair value `value` (the mirror, 1 - value, for market 1), and others as given."""
    return lambda n: [("operator", value if n % 2 == 0 else round(1 - value, 2), None), *more]


SCENARIOS: dict[str, Scenario] = {
    "market_making": Scenario({"size": 20, "max_spread": 0.5}),
    # (each gap lasts one pass: a take retried on a book it emptied would be refused, and the venue's refusals halt
    # the whole desk once they are most of its answers, which two markets reach sooner than one)
    "complement_arb": Scenario({"max_size": 20}, path=lambda n: _blips(n, 0.46), no_path=lambda n: _blips(n, 0.50)),
    "value_betting": Scenario({"max_order": 20, "min_confidence": 0}, path=lambda n: _flat_then(n, 60, 0.52),
                              signals=_signals(0.62)),
    "copy_trading": Scenario({"scale": 0.5, "delay_s": 2, "max_age_s": 60, "slippage": 0.03},
                             followed=lambda n: [(30 + 40 * n, "BUY", 0.51, 20), (150 + 10 * n, "SELL", 0.49, 10)]),
    "cross_venue_arb": Scenario({"margin": 0.01}, path=lambda n: _flat_then(n, 90, 0.40),
                                kalshi=lambda n: _flat_then(n, 90, 0.52), trades=False),
    "momentum": Scenario({"fast_seconds": 10, "slow_seconds": 60, "warmup_seconds": 40, "threshold": 0.01},
                         path=_trend, rules=_warmed_up(40)),
    "ladder": Scenario({"levels": 2, "spacing": 0.01, "recenter_move": 0.05}),
    "accumulate": Scenario({"target_shares": 30, "size": 10, "interval_s": 30, "price_cap": 0.7},
                           rules=_accumulated),
    "relative_value": Scenario({"warmup_s": 30, "lookback_s": 60, "entry_z": 1.5, "exit_z": 0.3, "size": 20,
                                "stale_after_s": 3600, "max_spread": 0.5},
                               path=lambda n: _flat_then(n, 150, 0.56), kalshi=lambda n: _swing(n, base=0.5),
                               rules=_warmed_up(30)),
    "breakout": Scenario({"window_s": 60, "margin": 0.02, "size": 20}, path=lambda n: _flat_then(n, 120 + 20 * n, 0.55),
                         rules=_broke_out),
    "ensemble": Scenario({"max_order": 20}, path=lambda n: _flat_then(n, 60, 0.52),
                         signals=_signals(0.64, ("model", 0.66, 0.8)), verdicts={"model": 0.1}),
}
KINDS = every_kind()


def _write(path: Path, scenario: Scenario, markets: int, *, events: bool) -> list[str]:
    """The scripted recording (`markets` units of `scenario.legs` markets) and the desk's settings; returns
    the Polymarket markets' condition ids."""
    migrate(path)
    count = markets * scenario.legs
    rows = [_market_row(i, START) for i in range(count)]
    ticks: list[tuple[Any, ...]] = []
    for n, row in enumerate(rows):
        shift = n * OFFSET_MS
        no_path = dict(scenario.no_path(n)) if scenario.no_path is not None else None
        for k, (second, price) in enumerate(scenario.path(n)):  # (each market's last row at the run's end)
            at, mid = min(START + int(second * S) + shift, END), round(price * 1e6)
            no = round(no_path.get(second, 1 - price) * 1e6) if no_path is not None else 1_000_000 - mid
            ticks += [(at, row["yes_token"], "book", None, None, None, mid, _book(mid, k)),
                      (at, row["no_token"], "book", None, None, None, no, _book(no, k))]
        if scenario.kalshi is not None:
            ticker = f"KXCONF-{n}"
            for k, (second, price) in enumerate(scenario.kalshi(n)):
                at, mid = min(START + int(second * S) + shift + 100, END), round(price * 1e6)
                for side, m in (("yes", mid), ("no", 1_000_000 - mid)):
                    ticks.append((at, kalshi_ids.token_id(ticker, side), "book", None, None, None, m, _book(m, k)))
    ticks.sort(key=lambda tick: tick[0])
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                         [tuple(r.values()) for r in rows])
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ticks)
        settings = {"tick_interval_ms": 1000, "decide_on_events": int(events), "paper_mined_after_ms": 0}
        conn.executemany("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, 0, 't')",
                         [(k, json.dumps(v)) for k, v in settings.items()])
        conn.executemany("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                         "VALUES (?, ?, 1, 0, 't')", list(LIMITS.items()))
        for n, row in enumerate(rows):
            _extras(conn, scenario, n, row)
    return [r["condition_id"] for r in rows]


def _extras(conn: sqlite3.Connection, scenario: Scenario, n: int, row: dict[str, Any]) -> None:
    """Market n's pair, fair values and followed trades, as the desk would hold them."""
    cid = row["condition_id"]
    if scenario.kalshi is not None:
        conn.execute("""INSERT INTO venue_pairs (condition_id, kalshi_ticker, inverted, polymarket_question,
                            kalshi_title, warnings, created_at, created_by)
                        VALUES (?, ?, 0, 'q', 'Kalshi q', '[]', 0, 't')""",
                     (cid, f"KXCONF-{n}"))
    for source, value, confidence in scenario.signals(n) if scenario.signals is not None else ():
        conn.execute("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                            confidence) VALUES (?, ?, ?, 1, 0, 't', ?)""",
                     (cid, source, round(value * 1e6), None if confidence is None else round(confidence * 1e6)))
    for source, brier in scenario.verdicts.items():
        conn.execute("""INSERT OR IGNORE INTO signal_sources (source, state, brier, markets, judged_at, reason)
                        VALUES (?, 'feeding', ?, 20, 0, 't')""", (source, round(brier * 1e6)))
    for k, (second, side, price, size) in enumerate(scenario.followed(n) if scenario.followed is not None else ()):
        at = START + int(second * S) + n * OFFSET_MS
        conn.execute("""INSERT INTO followed_trades (wallet, label, trade_key, condition_id, token_id, side, price,
                            size, at, seen_at, source) VALUES ('0xw', 'whale', ?, ?, ?, ?, ?, ?, ?, ?, 'data_api')""",
                     (f"{cid}-{k}", cid, row["yes_token"], side, round(price * 1e6), round(size * 1e6), at, at + 500))


def _run(tmp: Path, kind: str, scenario: Scenario, markets: list[str], recording: Path) -> Orders:
    """The backtest of `kind` on `markets` of the recording: each market's orders, in YES terms."""
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(recording)})
    spec = BacktestSpec(kind, scenario.params, START, END, tuple(markets), seed=1, latency="zero",
                        capital=CAPITAL)
    work = tmp / f"bt-{len(list(tmp.glob('bt-*')))}"
    result = run_sync(spec, recording, settings, work_dir=work)
    assert result.order_count < 500  # (every order is in `orders`)
    found: Orders = {cid: [] for cid in markets}
    for o in result.orders:
        side, price = yes_space(Outcome(o["outcome"]), Side(o["side"]), o["price"])
        found.setdefault(o["condition_id"], []).append((o["created_at"], side.value, price, o["size"], o["tif"],
                                                       o["filled"]))
    return found


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_trades_several_markets_as_each_alone_on_both_cadences(
        kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRATEGY_PLUGINS_DIR", str(EXAMPLES))  # (a plugin kind, as the desk would load it)
    scenario = SCENARIOS.get(kind, Scenario())
    legs = scenario.legs
    runs: dict[str, Orders] = {}
    for cadence in ("timed", "events"):
        recording = tmp_path / f"{cadence}.db"
        markets = _write(recording, scenario, SEVERAL, events=cadence == "events")
        together = _run(tmp_path, kind, scenario, markets, recording)
        # A kind that decides its markets together is decided on an event of any of them, by design: on events
        # its markets are not each decided as alone (at the timed passes they are).
        whole = KINDS[kind]("probe", scenario.params).decides_whole()
        for unit in range(SEVERAL if cadence == "timed" or not whole else 0):
            own = markets[unit * legs:(unit + 1) * legs]
            alone = _run(tmp_path, kind, scenario, own, recording)
            for cid in own:
                assert together[cid] == alone[cid], (cadence, cid, together[cid][:4], alone[cid][:4])
        if scenario.trades and kind in SCENARIOS:
            assert all(together[cid] for cid in markets), (cadence, {c: len(o) for c, o in together.items()})
        runs[cadence] = together
    if scenario.rules is not None:
        scenario.rules(runs)
