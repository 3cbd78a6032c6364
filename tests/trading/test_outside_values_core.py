"""Fair values from outside, in the paper engine against the simulator (in-process, ticked by
hand): a market linked to a bookmakers' odds event (ODDS_FEED, a file in The Odds API v4 layout)
gets the odds' margin-free probability as its reference, so value betting on `reference` wants to
buy YES; a model posts a much lower fair value with confidence 0.9, so value betting on `signal`
wants the other side. The surer strategy trades: the odds one (no confidence stated, and first by
name, which the self-trade rule alone would have let go first) waits with CONFLICT in the decisions
log, saying why; once the model's value is withdrawn, the odds one trades toward the odds."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.outside_signals import parse_post
from contracts.settings import load_settings
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.desk.odds_links import add_link
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.trading.by_hand import started_by_hand

pytestmark = pytest.mark.slow
EVENT = "evt-final-001"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=11, agents=False) as handle:
        yield handle


def odds_file(path: Path, p_yes: float) -> Path:
    """One event priced by two bookmakers at `p_yes` for the home side, with a 4 % margin (Shin's
    two-outcome form takes half of it off each side: the fair value is `p_yes` exactly)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    prices = [{"name": "Harbor City", "price": round(1 / (p_yes + 0.02), 4)},
              {"name": "Northfield", "price": round(1 / (1 - p_yes + 0.02), 4)}]
    books = [{"key": key, "title": key, "last_update": now, "markets": [{"key": "h2h", "outcomes": prices}]}
             for key in ("book_a", "book_b")]
    path.write_text(json.dumps([{"id": EVENT, "sport_key": "test", "commence_time": now, "home_team": "Harbor City",
                                 "away_team": "Northfield", "bookmakers": books}]))
    return path


def _core(tmp: Path, sim: SimHandle, cid: str, feed: Path) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    strategies = [("a_odds", {"order_style": "take", "edge": 0.03, "max_order": 10, "fair_source": "reference"}),
                  ("z_model", {"order_style": "take", "edge": 0.03, "max_order": 10, "fair_source": "signal"})]
    with db.write() as conn:
        for name, params in strategies:
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, 'value_betting', :p, :m, 1, :t, :t, 'test')"""),
                         {"n": name, "p": json.dumps(params), "m": json.dumps([cid]), "t": now_ms()})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db"), "ODDS_FEED": str(feed)})
    return TradingCore(settings, db)


def _orders(core: TradingCore, strategy: str) -> list[tuple[str, str]]:
    with core.db.read() as conn:
        rows = conn.execute(text("SELECT outcome, side FROM orders WHERE strategy = :s"), {"s": strategy}).all()
    return [(r.outcome, r.side) for r in rows]


def test_odds_price_a_linked_market_and_the_surer_strategy_wins_a_conflict(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False)
    cid = market["condition_id"]
    feed = tmp_path / "odds.json"
    core = _core(tmp_path, sim, cid, feed)

    async def scenario() -> dict[str, Any]:
        mid = await started_by_hand(core, cid)  # ticks by hand
        odds_file(feed, min(0.95, mid / 1e6 + 0.2))  # the bookmakers: well above the market
        add_link(core.db, condition_id=cid, event_id=EVENT, outcome="Harbor City", actor="test")
        fair = max(50_000, mid - 200_000)  # the model: well below it, and sure of it
        raw = {"market": cid, "source": "model", "fair_value": str(fair / 1e6), "confidence": "0.9",
               "posted_at": now_ms(), "nonce": uuid.uuid4().hex, "ttl_s": 600}
        record_post(core.db, parse_post(raw, now_ms()), via="cli", actor="test", now=now_ms())
        await core.reload_config()  # reads the links and the feed
        for _ in range(100):
            if core.link.references.odds is not None and core.link.references.odds.read_at is not None:
                break
            await asyncio.sleep(0.05)
        core.signals.fair_at = 0
        for _ in range(4):
            await core.tick()
        first = {"a_odds": _orders(core, "a_odds"), "z_model": _orders(core, "z_model"),
                 "reference": core.link.references.source.reference(cid)}
        with core.db.write() as conn:  # the model's value withdrawn (its expiry, in short)
            conn.execute(text("DELETE FROM signals WHERE source = 'model'"))
        core.signals.fair_at = 0
        for _ in range(4):
            await core.tick()
        await core.stop()
        return {"first": first, "mid": mid}

    seen = asyncio.run(scenario())
    first = seen["first"]
    reference = first["reference"]
    assert reference is not None and abs(reference[0] - min(950_000, seen["mid"] + 200_000)) <= 200  # 4-decimal odds
    assert first["a_odds"] == []  # it waited for the surer strategy
    assert first["z_model"] and all(side == "SELL" or outcome == "NO" for outcome, side in first["z_model"])
    with core.db.read() as conn:
        conflicts = conn.execute(text("SELECT strategy, side, detail FROM decisions WHERE reason = 'CONFLICT'")).all()
    assert conflicts and {c.strategy for c in conflicts} == {"a_odds"}
    why = "strategy 'z_model' wants YES down here with confidence 0.9 against this one's unstated"
    assert why in conflicts[0].detail
    assert ("YES", "BUY") in _orders(core, "a_odds")  # alone again, it trades toward the odds
