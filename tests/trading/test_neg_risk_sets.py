"""No false arbitrage on neg-risk sets (issue 33): a set is bought only when it is its event's
whole outcome set (read from Gamma /events) and the event is not augmented. An augmented event
(an "Other" market, a placeholder named later) and a set cut short by a truncated catalog look
like free money (their YES asks sum under 1) and are refused by the risk gate with the reason in
the decisions log; the event's whole set is still bought. The real trading core against the
simulator, paper venue, its Gamma serving both neg-risk groups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from tests.trading.test_whole_arbitrage import _bought, _core, _ticks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=44, agents=False, prefill_books=False, markets=14) as handle:
        yield handle


def _groups(sim: SimHandle) -> list[list[dict[str, Any]]]:
    by_group: dict[str, list[dict[str, Any]]] = {}
    for m in sim.markets():
        if m["neg_risk"]:
            by_group.setdefault(m["neg_risk_market_id"], []).append(m)
    return list(by_group.values())


def _cheap(sim: SimHandle, members: list[dict[str, Any]]) -> None:
    """Every outcome offered at 0.15 (and bid at 0.10): the asks sum to 0.60 over four outcomes."""
    for m in members:
        sim.clear_book(m["condition_id"])
        sim.place_liquidity(m["yes_token_id"], "SELL", "0.15", "60")
        sim.place_liquidity(m["yes_token_id"], "BUY", "0.10", "60")


def _run(core: TradingCore, members: list[dict[str, Any]], before: Any = None) -> None:
    async def scenario() -> None:
        await core.start(operator=True)
        core.gate.unblock()
        await core._stop_loop()
        if before is not None:
            before(core)
        yes = [m["yes_token_id"] for m in members]
        await _ticks(core, lambda: all(core.books.book(t) and core.books.book(t).best_ask for t in yes))
        await core.stop()

    asyncio.run(scenario())


def _refusals(core: TradingCore) -> list[str]:
    with core.db.read() as conn:
        return list(conn.execute(text("SELECT detail FROM decisions WHERE reason = 'NEG_RISK_INCOMPLETE'")).scalars())


def test_an_augmented_event_is_never_bought_as_a_set(tmp_path: Path, sim: SimHandle) -> None:
    augmented = _groups(sim)[1]  # the simulator serves its second neg-risk group as augmented
    _cheap(sim, augmented)
    core = _core(tmp_path, sim, [m["condition_id"] for m in augmented])
    _run(core, augmented)
    assert _bought(core) == {}
    why = _refusals(core)
    assert why and all("is augmented (1 Other market, 1 placeholder named later)" in w for w in why), why


def test_a_set_cut_short_by_the_catalog_is_refused_and_the_whole_set_is_bought(tmp_path: Path,
                                                                               sim: SimHandle) -> None:
    whole = _groups(sim)[0]
    _cheap(sim, whole)
    shown = whole[:3]  # the catalog lost one outcome (a truncated listing): three look like a set at 0.45
    core = _core(tmp_path, sim, [m["condition_id"] for m in shown])

    def truncate(core: TradingCore) -> None:
        with core.db.write() as conn:
            conn.execute(text("DELETE FROM markets WHERE condition_id = :c"), {"c": whole[3]["condition_id"]})
        core.catalog.load(core.db)

    _run(core, shown, before=truncate)
    assert _bought(core) == {}
    why = _refusals(core)
    assert why and all("the desk has 3 of event '2022 World Cup Winner''s 4 markets tradable" in w for w in why), why

    complete = _core(tmp_path / "whole", sim, [m["condition_id"] for m in whole])
    _run(complete, whole)
    bought = _bought(complete)
    assert set(bought) == {m["condition_id"] for m in whole} and len(set(bought.values())) == 1
