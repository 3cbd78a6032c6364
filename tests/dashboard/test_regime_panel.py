"""A market maker's regimes on the Strategies page: each market's regime now, with why, and the
latest changes, as the decisions log noted them; a strategy that names none shows no section."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from storage.engine_stores.risk_store import add_notes
from storage.sqlite.db import Database
from tests.dashboard.conftest import tables_of
from tests.dashboard.seed import BTC, ELECTION


def test_the_strategies_page_shows_each_markets_regime_and_its_changes(seeded: int, db: Database,
                                                                       page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        add_notes(conn, [(1_000, "paper", "mm-btc", BTC, "REGIME_CALM", "quoting"),
                         (2_000, "paper", "mm-btc", BTC, "REGIME_TOXIC", "toxicity 0.03: half-spread 0.05, size 4"),
                         (3_000, "paper", "mm-btc", ELECTION, "REGIME_PULLED", "sweep: best bid fell from 0.45 to "
                                                                                "0.41 within 5 s"),
                         (4_000, "live", "mm-btc", BTC, "REGIME_REDUCE_ONLY", "another mode: not shown")])
    at = page("strategies")
    at.selectbox(key="strategy_pick").set_value("mm-btc").run()
    assert not at.exception
    tables = [t for t in tables_of(at) if "regime" in t.columns]
    now = next(t for t in tables if len(t) == 2)
    assert now["regime"].tolist() == ["pulled", "toxic"]  # each market once, its newest note
    assert "sweep: best bid fell" in now["why"][0] and "toxicity 0.03" in now["why"][1]
    assert "BTC" in now["question"][1] or "100k" in now["question"][1]  # named, not by condition id
    changes = next(t for t in tables if len(t) == 3)
    assert changes["regime"].tolist() == ["pulled", "toxic", "calm"]  # newest first
    assert any(c.value.startswith("Now: ") and "1 toxic" in c.value and "1 pulled" in c.value for c in at.caption)
    at.selectbox(key="strategy_pick").set_value("vb-election").run()  # names no regime
    assert not any("regime" in t.columns for t in tables_of(at))
