"""Every market an outside source priced counts toward its calibration as soon as it resolves
(issue 72): a source that said 0.95 on two markets that resolved NO, markets the desk neither
holds nor quotes, is benched by the breaker's next pass after the venue shows them resolved, not
left "not judged yet" because the market refresh closed them without their payouts. The real
trading core and its breaker job against the simulator, which resolves the markets."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.outside_signals import parse_post
from engine.trading.settlement import posted_resolutions
from simulator.testing import SimHandle, approved_simulator
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.outside.test_signals_api import add_market
from tests.trading.test_whole_arbitrage import _core


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=72, agents=False, resolution_delay_s=1) as handle:
        yield handle


def test_a_source_is_judged_on_markets_the_desk_never_traded_once_they_resolve(tmp_path: Path,
                                                                              sim: SimHandle) -> None:
    plain = [m for m in sim.markets() if not m["neg_risk"]]
    traded, priced, later = plain[0]["condition_id"], [m["condition_id"] for m in plain[1:3]], plain[3]["condition_id"]
    core = _core(tmp_path, sim, [traded])
    with core.db.write() as conn:
        conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                          "VALUES ('source_breaker_markets', '2', 1, 0, 't')"))

    def post(cid: str) -> None:
        at = now_ms()
        raw = {"market": cid, "source": "overconfident", "fair_value": "0.95", "confidence": "0.9",
               "posted_at": at, "nonce": uuid.uuid4().hex, "ttl_s": 3600}
        record_post(core.db, parse_post(raw, at), via="cli", actor="test", now=at)

    def verdict() -> tuple[str, int] | None:
        with core.db.read() as conn:
            row = conn.execute(text("SELECT state, markets FROM signal_sources WHERE source = 'overconfident'")).first()
        return None if row is None else (str(row[0]), int(row[1]))

    def payouts(cid: str) -> tuple[int | None, int]:
        with core.db.read() as conn:
            row = conn.execute(text("SELECT payout_yes, closed FROM markets WHERE condition_id = :c"), {"c": cid}).one()
        return row[0], int(row[1])

    async def scenario() -> None:
        await core.start(operator=True)
        await core._stop_loop()
        assert not set(priced) & set(core.link.relevant_markets())  # neither held, worked nor selected
        for cid in [*priced, later]:
            post(cid)
        await core.scheduled.source_breaker()
        assert verdict() == ("feeding", 0)  # nothing resolved yet
        for cid in priced:
            sim.resolve(cid, "NO")
        await core.link.discover()  # the market refresh: it closes them, and records no payout
        assert [payouts(cid) for cid in priced] == [(None, 1), (None, 1)]
        deadline = time.monotonic() + 30  # final at the venue 1 s after (the simulator's resolution_delay_s)
        while verdict() != ("benched", 2) and time.monotonic() < deadline:
            await core.scheduled.source_breaker()  # one breaker pass (every 30 s in the engine)
            if verdict() != ("benched", 2):
                await asyncio.sleep(0.2)
        await core.stop()

    asyncio.run(scenario())
    assert verdict() == ("benched", 2), "the source was not judged on the two markets it priced"
    assert [payouts(cid) for cid in priced] == [(0, 1), (0, 1)]  # NO won: what one YES paid, recorded
    assert payouts(later)[0] is None  # not resolved: nothing recorded
    with core.db.read() as conn:
        alerts = conn.execute(text("SELECT code, subject FROM alerts WHERE code LIKE 'SOURCE_%'")).all()
    assert [tuple(a) for a in alerts] == [("SOURCE_BENCHED", "overconfident")]


def test_a_source_pricing_many_markets_has_them_asked_in_turn(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """At most MAX_PER_PASS markets a pass, every one asked within a few passes; only the venue's
    markets without a payout, and only those the catalog knows."""
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    markets = ["0x" + f"{i:02x}" * 32 for i in range(1, 6)]
    for cid in markets:
        add_market(db, cid)
        at = now_ms()
        record_post(db, parse_post({"market": cid, "source": "wide", "fair_value": "0.5", "posted_at": at,
                                    "nonce": uuid.uuid4().hex, "ttl_s": 60}, at), via="cli", actor="t", now=at)
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET payout_yes = 0, payout_no = 1000000 WHERE condition_id = :c"),
                     {"c": markets[4]})
    monkeypatch.setattr(posted_resolutions, "MAX_PER_PASS", 2)
    asker = posted_resolutions.PostedResolutions()
    known = set(markets) - {markets[3]}  # one the catalog could not load: not asked
    passes = [asker.due(db, known) for _ in range(3)]
    assert passes == [markets[0:2], [markets[2], markets[0]], markets[1:3]]
