"""Names, not ids: wherever the pages show a market in words a person reads (alerts, the risk
gate's decisions, the audit trail and its entry picker, the engine log's lines, every table), it
is named by its question; the 66-character condition id stays only where it is asked for (the
list's id column, a market's and an audit entry's Ids box, with a copy button, an audit entry's
field-by-field detail)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from storage.sqlite.db import now_ms, raw_connection
from tests.dashboard.conftest import tables_of
from tests.dashboard.test_pages import PAGES

CONDITION = "0x" + "ab12" * 16
QUESTION = "Will the hex-named market resolve before the deadline?"
DETAIL_TABLES = ({"field", "before", "after", "change"},)  # an audit entry opened: its raw fields


def _engine_log_naming_it(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's log, a line naming the market by its id (as the volatility guard logs it)."""
    monkeypatch.setenv("ENGINE_LOG_FILE", str(path))
    path.write_text(json.dumps({"ts": "2026-11-27T01:00:00Z", "level": "WARNING", "logger": "engine.risk",
                                "msg": f"market {CONDITION} volatility state", "market": CONDITION,
                                "state": "REDUCING"}) + "\n")


def _market_named_in_messages(path: Path) -> None:
    """A market with a real-looking id, and the rows whose free text names it by that id, as the
    engine and the dashboard write them."""
    conn = raw_connection(path)
    now = now_ms()
    conn.execute(
        """INSERT INTO markets (condition_id, question, slug, yes_token, no_token, tick, min_size, neg_risk,
               end_at, volume, volume_24h, liquidity, tags, tradable, first_seen_at, updated_at)
           VALUES (?, ?, 'hex', 'tok-hex-yes', 'tok-hex-no', 10000, 5000000, 0, ?, 1, 1, 1, '[]', 1, ?, ?)""",
        (CONDITION, QUESTION, now + 86_400_000, now, now))
    conn.execute("INSERT INTO alerts (created_at, level, source, code, message) VALUES (?, 'warning', 'risk', "
                 "'VOLATILITY', ?)", (now, f"market {CONDITION} volatility REDUCING"))
    conn.execute("INSERT INTO audit_log (at, actor, action, entity, before, after) VALUES (?, 'dashboard', "
                 "'order.place', ?, '{}', ?)", (now, f"markets:{CONDITION}", json.dumps({"condition_id": CONDITION})))
    conn.execute("""INSERT INTO decisions (at, mode, strategy, condition_id, side, price, requested, approved, action,
                        reason, detail) VALUES (?, 'paper', 'mm-btc', ?, 'BUY', 480000, 10000000, 0, 'deny',
                        'MARKET_HALTED', ?)""", (now, CONDITION, f"market {CONDITION[:14]}… is halted"))
    conn.commit()
    conn.close()


def _cells_with_the_id(at: AppTest) -> list[tuple[list[str], str]]:
    found = []
    for frame in tables_of(at):
        if set(map(str, frame.columns)) in DETAIL_TABLES:
            continue
        for column in frame.columns:
            if column == "condition_id":
                continue  # the id, asked for by name
            if any(CONDITION[:14] in str(v) for v in frame[column].tolist()):
                found.append((list(map(str, frame.columns)), str(column)))
    return found


def test_every_table_names_the_market_by_its_question(
    seeded: int, dash_env: Path, page: Callable[[str], AppTest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _market_named_in_messages(dash_env)
    _engine_log_naming_it(tmp_path / "engine.log", monkeypatch)
    for name in PAGES:
        at = page(name)
        assert not at.exception
        assert _cells_with_the_id(at) == [], name
    short = QUESTION[:20]
    risk = page("risk")
    assert any(short in str(d) for f in tables_of(risk) if "detail" in f.columns for d in f["detail"])
    audit = page("audit")
    assert any(short in str(e) for f in tables_of(audit) if "entity" in f.columns for e in f["entity"])
    assert any(short in str(m) for f in tables_of(audit) if "msg" in f.columns for m in f["msg"])  # the log's line
    picker = audit.selectbox(key="audit_pick")
    assert picker.options and not [o for o in picker.options if CONDITION[:14] in o]  # the entries by name
    assert any(short in o for o in picker.options)
    conn = raw_connection(dash_env)
    [(entry,)] = conn.execute("SELECT id FROM audit_log WHERE entity = ?", (f"markets:{CONDITION}",)).fetchall()
    conn.close()
    picker.set_value(entry).run()  # the market's entry: its ids on demand, whole, to copy
    assert CONDITION in [c.value for c in audit.code]
    markets = page("markets")
    markets.selectbox(key="mk_pick").set_value(CONDITION).run()
    assert CONDITION in [c.value for c in markets.code]  # an open market's ids, to copy
    assert not [c for c in markets.caption if CONDITION[:14] in c.value]  # not in its facts' line
    assert any(short in str(m) for f in tables_of(page("overview")) if "message" in f.columns for m in f["message"])
