"""The model-confidence breaker on a real SQLite file: a source whose fair values were badly
calibrated over its last N resolved markets is benched (alerted once), its signals stop being fair
values while another source's still are; a source not yet judged feeds; once its later markets
bring its score back under the limit it feeds again (alerted); posts for a decided market are
refused so a score cannot be mended after the fact."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.outside_signals import PostRefused, Refusal, parse_post
from contracts.runtime_settings import RuntimeConfig, checked
from engine.risk.source_breaker import SourceBreaker, judge
from engine.trading.hosting.views import load_fair_signals, load_fair_values
from storage.desk.config import set_fair_value
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.outside.test_signals_api import add_market

NOW = 1_800_000_000_000
OPEN = "0x" + "0f" * 32


def config(markets: int = 3, max_brier: float = 0.25) -> RuntimeConfig:
    return replace(checked({})[0], source_breaker_markets=markets, source_breaker_max_brier=max_brier)


def post(db: Database, market: str, source: str, fair: float, at: int = NOW, confidence: str = "0.9") -> None:
    raw = {"market": market, "source": source, "fair_value": str(fair), "posted_at": at, "nonce": uuid.uuid4().hex,
           "ttl_s": 3600, "confidence": confidence}
    record_post(db, parse_post(raw, at), via="cli", actor="test", now=at)


def resolve(db: Database, market: str, yes_paid: int, ended: int) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE markets SET closed = 1, payout_yes = :p, payout_no = :q, end_at = :e "
                          "WHERE condition_id = :c"), {"p": yes_paid, "q": 1_000_000 - yes_paid, "e": ended,
                                                       "c": market})


@pytest.fixture
def db(tmp_path: Path) -> Database:
    migrate(tmp_path / "t.db")
    database = Database(tmp_path / "t.db")
    add_market(database, OPEN)
    return database


def _market(db: Database, i: int) -> str:
    cid = "0x" + f"{i:02x}" * 32
    add_market(db, cid)
    return cid


def test_a_badly_calibrated_source_stops_feeding_and_comes_back_when_its_score_does(db: Database) -> None:
    breaker = SourceBreaker(db)
    for i in range(1, 4):  # "bad" said 0.9 on three markets that resolved NO; "good" said 0.2
        cid = _market(db, i)
        post(db, cid, "bad", 0.9)
        post(db, cid, "good", 0.2)
        resolve(db, cid, 0, NOW + i)
    post(db, OPEN, "bad", 0.7, NOW + 10)
    post(db, OPEN, "fresh", 0.4, NOW + 5)  # never judged: no resolved market yet
    assert load_fair_values(db, NOW + 20)[OPEN] == 700_000  # the newest source's value
    assert breaker.run(config(), NOW + 20) == {"bad": "benched", "good": "feeding", "fresh": "feeding"}
    assert load_fair_values(db, NOW + 20)[OPEN] == 400_000  # "bad" no longer feeds; "fresh" does
    with db.read() as conn:
        alerts = conn.execute(text("SELECT code, subject, message FROM alerts")).all()
        verdict = conn.execute(text("SELECT brier, markets, reason FROM signal_sources WHERE source = 'bad'")).one()
    assert [(a.code, a.subject) for a in alerts] == [("SOURCE_BENCHED", "bad")]
    assert "Brier 0.8100 over its last 3 resolved markets above the limit 0.25" in alerts[0].message
    assert (verdict.brier, verdict.markets) == (810_000, 3)
    breaker.run(config(), NOW + 21)  # judged again, unchanged: no second alert
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM alerts")).scalar_one() == 1
    for i in range(4, 7):  # three later markets it called well: its last three are now good
        cid = _market(db, i)
        post(db, cid, "bad", 0.9, NOW + 30)
        resolve(db, cid, 1_000_000, NOW + 100 + i)
    assert breaker.run(config(), NOW + 200)["bad"] == "feeding"
    with db.read() as conn:
        codes = [r[0] for r in conn.execute(text("SELECT code FROM alerts ORDER BY id"))]
    assert codes == ["SOURCE_BENCHED", "SOURCE_RESTORED"]


def test_where_sources_disagree_the_one_received_last_is_in_force_whatever_its_confidence(db: Database) -> None:
    """What docs/strategies-and-risk.md says of two sources on one market: the newer post wins even
    when it is less sure; the operator's value wins over both."""
    post(db, OPEN, "sure", 0.8, NOW, confidence="0.95")
    post(db, OPEN, "unsure", 0.3, NOW + 1, confidence="0.05")
    assert load_fair_signals(db, NOW + 2)[OPEN] == (300_000, 50_000)
    post(db, OPEN, "sure", 0.75, NOW + 2, confidence="0.95")
    assert load_fair_signals(db, NOW + 3)[OPEN] == (750_000, 950_000)
    set_fair_value(db, condition_id=OPEN, fair_value=600_000, actor="test")
    assert load_fair_signals(db, NOW + 3)[OPEN] == (600_000, 1_000_000)


def test_a_post_for_a_decided_market_is_refused(db: Database) -> None:
    cid = _market(db, 9)
    resolve(db, cid, 0, NOW)
    with pytest.raises(PostRefused) as refused:
        post(db, cid, "bad", 0.1)
    assert refused.value.code is Refusal.MARKET_CLOSED


def test_judging_counts_each_market_once_and_only_the_last_n() -> None:
    posts = [("s", "a", 900_000, 0, 1), ("s", "a", 100_000, 0, 1),  # market a: (0.81 + 0.01) / 2 = 0.41
             ("s", "b", 500_000, 1_000_000, 2),  # market b: 0.25
             ("s", "c", 1_000_000, 1_000_000, 0)]  # the oldest: left out with N = 2
    state, brier, count, _ = judge(posts, 2, 0.3)["s"]
    assert (state, brier, count) == ("benched", 330_000, 2)
    assert judge(posts, 4, 0.3)["s"][0] == "feeding"  # fewer than N resolved markets: not judged
