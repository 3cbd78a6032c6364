"""Kalshi's scheduled fee changes, against the simulator's Kalshi (which serves `/series/fee_changes`
and `/events/fee_changes` in Kalshi's shape and charges a series' new settings, or an event's override
of them, from the change's time on): the live ledger books the fee Kalshi reports on either side of a
change; the desk reads the changes with the series and the event and keeps them with the pair (what
paper fills, backtests and the arbitrage charge by); a change record it cannot read (an unknown fee
type, no time, a negative multiplier) is refused, named in an alert, and changes nothing it keeps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts import kalshi_ids
from contracts.settings import load_settings
from contracts.venues import KALSHI
from engine.feeds.books import BookCache
from engine.feeds.kalshi_reference import Facts, KalshiBookPoller
from simulator.kalshi.fees import FeeSchedule, trade_fee
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import now_ms
from tests.kalshi import binary_tickers
from tests.kalshi_desk import Desk, bought, started, until

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT
HOSTILE = [  # (the record Kalshi sends, what the refusal must name)
    ({"id": "fc-1", "series_ticker": "{s}", "fee_type": "progressive", "fee_multiplier": 1,
      "scheduled_ts": "2030-01-01T14:00:00Z"}, "unknown value 'progressive'"),
    ({"id": "fc-2", "series_ticker": "{s}", "fee_type": "quadratic", "fee_multiplier": 1},
     "field 'scheduled_ts' is missing"),
    ({"id": "fc-3", "series_ticker": "{s}", "fee_type": "quadratic", "fee_multiplier": -0.5,
      "scheduled_ts": "2030-01-01T14:00:00Z"}, "fee_multiplier: -0.5 is negative"),
]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=89, agents=False, kalshi_markets=3) as handle:
        yield handle


def _series(sim: SimHandle, fee_type: str) -> tuple[str, str]:
    """A binary market of a series of `fee_type`, and its series."""
    markets = sim.call(lambda: {t: (m.fees.base.fee_type, m.series_ticker)
                                for t, m in sim.sim.kalshi.exchange.markets.items()})
    ticker = next(t for t in binary_tickers(sim) if markets[t][0] == fee_type)
    return ticker, markets[ticker][1]


def _schedule(sim: SimHandle, series: str, multiplier: int, at_ms: int, fee_type: str) -> None:
    sim.call(lambda: sim.sim.kalshi.schedule_fee_change(
        series, {"fee_type": fee_type, "fee_multiplier": multiplier, "at_ms": at_ms}, now_ms()))


def test_the_live_ledger_books_kalshis_fee_either_side_of_a_scheduled_change(tmp_path: Path, sim: SimHandle) -> None:
    ticker, series = _series(sim, "quadratic")
    desk = Desk(tmp_path, sim, ticker=ticker)
    core = desk.core()
    change: dict[str, int] = {}

    async def scenario() -> None:
        await started(core, desk.kalshi)
        await bought(core, desk, 5 * SH)
        change["at"] = now_ms() + 300  # Kalshi's x3 comes due in 300 ms: no read of the series in between
        _schedule(sim, series, 3, change["at"], "quadratic")
        await until(lambda: now_ms() > change["at"], "the change's time")
        await bought(core, desk, 5 * SH)
        kalshi = core.ledgers.get(KALSHI)
        assert kalshi is not None
        change["cash"] = kalshi.executor.state.cash
        await core.stop()

    asyncio.run(scenario())
    fills = sim.call(lambda: [(f.at_ms, f.count, f.price, f.fee)
                              for f in sim.sim.kalshi.exchange.accounts[desk.account].fills])
    with core.db.read() as conn:
        booked = [r[0] for r in conn.execute(text("SELECT fee FROM fills WHERE venue = 'kalshi' ORDER BY id"))]
    assert booked == [fee for *_, fee in fills]  # each fill booked at the fee Kalshi reported for it
    before = [f for f in fills if f[0] < change["at"]]
    after = [f for f in fills if f[0] >= change["at"]]
    assert before and after
    # 5 contracts at a whole-cent price: each fee is the trade fee exactly (no rounding fee to add)
    old, new = FeeSchedule("quadratic"), FeeSchedule("quadratic", Fraction(3))
    assert all(fee == trade_fee(old, n, price, taker=True) for _, n, price, fee in before)
    assert all(fee == trade_fee(new, n, price, taker=True) for _, n, price, fee in after)
    assert change["cash"] == desk.balance()  # and the ledger's cash is Kalshi's balance, to the micro-dollar


def _kept(desk: Desk) -> Any:
    with desk.core().db.read() as conn:
        raw = conn.execute(text("SELECT kalshi_fee_changes FROM venue_pairs WHERE kalshi_ticker = :t"),
                           {"t": desk.ticker}).scalar_one()
        alerts = [tuple(r) for r in conn.execute(text(
            "SELECT code, subject, message FROM alerts WHERE code = 'KALSHI_FEES_REFUSED' ORDER BY id"))]
    return json.loads(raw) if raw else None, alerts


@pytest.mark.kalshi_off_schema  # the hostile record is served as given
def test_the_desk_keeps_kalshis_scheduled_changes_and_refuses_a_hostile_one_by_name(tmp_path: Path,
                                                                                   sim: SimHandle) -> None:
    ticker, series = _series(sim, "quadratic_with_maker_fees")
    desk = Desk(tmp_path, sim, ticker=ticker)
    at = now_ms() + 3_600_000
    _schedule(sim, series, 2, at, "quadratic_with_maker_fees")

    async def run_engine() -> None:
        core = desk.core()
        await started(core, desk.kalshi)
        market = core.catalog.get(desk.kalshi)
        assert market is not None and market.kalshi_fee_changes == ((at, "quadratic_with_maker_fees", 2_000_000),)
        await core.stop()

    asyncio.run(run_engine())
    kept, alerts = _kept(desk)
    assert kept["changes"] == [[at, "quadratic_with_maker_fees", 2_000_000]] and alerts == []
    record, named = HOSTILE[0]
    sim.call(lambda: sim.sim.kalshi.raw_fee_changes.append({**record, "series_ticker": series}))
    try:
        asyncio.run(run_engine())  # a restart reads the series again: the hostile record among the good one
    finally:
        sim.call(lambda: sim.sim.kalshi.raw_fee_changes.clear())
    kept_after, alerts = _kept(desk)
    assert kept_after == kept  # what the desk keeps (and charges by) is unchanged
    assert len(alerts) == 1 and alerts[0][1] == ticker and named in alerts[0][2] and "fc-1" in alerts[0][2]


@pytest.mark.kalshi_off_schema  # the hostile records are served as given
@pytest.mark.parametrize(("record", "named"), HOSTILE[1:])
def test_a_fee_change_without_a_time_or_with_a_negative_multiplier_is_refused_by_name(
        tmp_path: Path, sim: SimHandle, record: dict[str, Any], named: str) -> None:
    ticker, series = _series(sim, "quadratic_with_maker_fees")
    facts: list[Facts] = []
    refused: list[tuple[str, str]] = []
    host = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port)}).kalshi.host

    async def read() -> None:
        poller = KalshiBookPoller(host, [ticker], BookCache(), on_facts=lambda _, f: facts.append(f),
                                  refused=lambda t, problem: refused.append((t, problem)))
        try:
            await poller.read_settlements()
        finally:
            await poller.close()

    sim.call(lambda: sim.sim.kalshi.raw_fee_changes.append({**record, "series_ticker": series}))
    try:
        asyncio.run(read())
    finally:
        sim.call(lambda: sim.sim.kalshi.raw_fee_changes.clear())
    assert facts == [] and len(refused) == 1
    assert refused[0][0] == ticker and named in refused[0][1] and record["id"] in refused[0][1]


def test_an_events_dated_override_is_read_kept_with_the_pair_and_booked_live_at_kalshis_fee(
        tmp_path: Path, sim: SimHandle) -> None:
    """Kalshi schedules an override of an event's fees (x4) and its clearing: the desk's poller reads them
    with the event (its facts, kept with the pair, carry both); the override in force, a live taker fill
    reports the override's fee, which is what the live ledger books (engine/venues/kalshi_wire.py)."""
    from contracts.kalshi_fee_store import schedule_from_json
    from contracts.kalshi_fees import KalshiFees
    from engine.feeds.kalshi_client import KalshiClient
    from tests.kalshi import account, host

    ticker = next(t for t in binary_tickers(sim) if sim.call(lambda t=t: sim.sim.kalshi.exchange.markets[t]
                                                           .series_ticker) == "KXSIMD")
    event = sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].event_ticker)
    at = now_ms() + 3_600_000
    for body in ({"fee_type_override": "quadratic", "fee_multiplier_override": 4, "at_ms": at},
                 {"fee_type_override": None, "fee_multiplier_override": None, "at_ms": at + 3_600_000}):
        sim.call(lambda body=body: sim.sim.kalshi.schedule_event_fee_change(event, body, now_ms()))
    facts: list[Facts] = []
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port)})
    assert settings.kalshi is not None

    async def read() -> None:
        poller = KalshiBookPoller(settings.kalshi.host, [ticker], BookCache(), on_facts=lambda _, f: facts.append(f))
        try:
            await poller.read_settlements()
        finally:
            await poller.close()

    asyncio.run(read())
    kept = schedule_from_json(KalshiFees(facts[0].fee_type, facts[0].fee_multiplier_ppm), facts[0].fee_changes)
    four = KalshiFees("quadratic", 4_000_000)
    assert [(c.at_ms, c.fees) for c in kept.event_changes] == [(at, four), (at + 3_600_000, None)]
    assert [kept.at(t) for t in (at - 1, at, at + 3_600_000)] == [KalshiFees("quadratic", 1_000_000), four,
                                                                  KalshiFees("quadratic", 1_000_000)]
    sim.call(lambda: sim.sim.kalshi.schedule_event_fee_change(
        event, {"fee_type_override": "quadratic", "fee_multiplier_override": 4, "in_s": 0}, now_ms()))
    key_id, private, name = account(sim)
    client = KalshiClient.at(host(sim), key_id, private)

    async def take() -> tuple[int, int, int]:
        market = await client.market(ticker)
        await client.create_order(ticker=ticker, client_order_id="ev-take", book_side="bid", price=market.yes_ask,
                                  count=5 * SH, time_in_force="immediate_or_cancel")
        fill = (await client.fills(ticker=ticker))[0]
        await client.close()
        return fill.fee, fill.count, fill.yes_price

    fee, count, price = asyncio.run(take())
    assert fee == trade_fee(FeeSchedule("quadratic", Fraction(4)), count, price, taker=True)  # the event's x4
    assert fee > trade_fee(FeeSchedule("quadratic"), count, price, taker=True)
