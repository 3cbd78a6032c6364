"""Followed wallets on the Strategies page: a table to edit, saved through the one configuration
writer (audited; a bad address or a repeated label refused in words, nothing saved), and each
wallet with its trades since it was followed and what copying them at its size would have earned
(marked at the payout of a resolved market, else the latest recorded mid; unmarked otherwise)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from storage.engine_stores.follow_store import ScoreRow, save_scores
from storage.sqlite.db import Database
from tests.dashboard.conftest import table_with
from tests.dashboard.seed import BTC, ELECTION

WHALE = "0x" + "ab" * 20


def _edits(added: list[dict[str, object]]) -> dict[str, object]:
    return {"edited_rows": {}, "added_rows": added, "deleted_rows": []}


def _stored(db: Database) -> object:
    with db.read() as conn:
        raw = conn.execute(text("SELECT value FROM settings WHERE key = 'followed_wallets'")).scalar()
    return json.loads(raw) if raw else None


def test_wallets_are_saved_audited_and_bad_ones_refused(seeded: int, db: Database,
                                                        page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    at.session_state["follow_table_edit"] = _edits([{"label": "whale", "address": "0x12"}])
    at.run()
    at.button(key="follow_save").click().run()
    assert any("Nothing saved" in e.value and "must be a wallet address" in e.value for e in at.error)
    assert _stored(db) == []  # the default, unchanged
    at.session_state["follow_table_edit"] = _edits([{"label": "whale", "address": WHALE.upper().replace("0X", "0x")}])
    at.run()
    at.button(key="follow_save").click().run()
    assert _stored(db) == [{"address": WHALE, "label": "whale", "enabled": True}]
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM audit_log WHERE entity = 'settings:followed_wallets'")
                            ).scalar() == 1


def test_each_wallet_shows_what_following_it_would_have_earned(seeded: int, db: Database,
                                                              page: Callable[[str], AppTest]) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE settings SET value = :v WHERE key = 'followed_wallets'"),
                     {"v": json.dumps([{"address": WHALE, "label": "whale", "enabled": True}])})
        conn.execute(text("UPDATE markets SET payout_yes = 1000000, payout_no = 0 WHERE condition_id = :c"),
                     {"c": ELECTION})
        tokens: dict[str, str] = dict(conn.execute(text("SELECT condition_id, yes_token FROM markets")).all())
        trades = [("t1", ELECTION, tokens[ELECTION], "BUY", 400_000, 10_000_000),  # resolved YES: +6.00
                  ("t2", BTC, tokens[BTC], "SELL", 600_000, 5_000_000),  # marked at BTC's latest mid
                  ("t3", "0x" + "cd" * 32, "999", "BUY", 500_000, 1_000_000)]  # no mark: left out
        late = {"t1": 400, "t2": 900, "t3": 2_500}  # ms from the venue's report to the desk keeping it
        for key, cid, token, side, price, size in trades:
            conn.execute(text("""INSERT INTO followed_trades (wallet, label, trade_key, condition_id, token_id, side,
                                     price, size, at, seen_at, reported_at, source)
                                 VALUES (:w, 'whale', :k, :c, :t, :s, :p, :z, 1, :seen, 1000, :src)"""),
                         {"w": WHALE, "k": key, "c": cid, "t": token, "s": side, "p": price, "z": size,
                          "seen": 1000 + late[key], "src": "stream"})
        mid = conn.execute(text("SELECT mid FROM ticks WHERE token_id = :t AND mid IS NOT NULL ORDER BY at DESC "
                                "LIMIT 1"), {"t": tokens[BTC]}).scalar()
    at = page("strategies")
    assert not at.exception
    shown = table_with(at, "unmarked")
    assert shown["trades"].tolist() == [3] and shown["unmarked"].tolist() == [1]
    assert shown["earned"].tolist() == [pytest.approx(6.0 + (0.6 - mid / 1e6) * 5)]
    assert shown["volume"].tolist() == [pytest.approx(4.0 + 3.0 + 0.5)]
    assert shown["heard_after_s"].tolist() == [pytest.approx(0.9)]  # the median


def test_the_wallet_finder_shows_what_the_cli_stored(seeded: int, db: Database,
                                                     page: Callable[[str], AppTest]) -> None:
    at = page("strategies")
    assert any("No wallet scored yet" in i.value for i in at.info)
    save_scores(db, [ScoreRow(WHALE, "whale", "OVERALL", "MONTH", 1, 12_500_000, 80_000_000, 30, 3_000_000, 4,
                              750_000, 40, 3, 60_000_000, json.dumps([["Will it rain?", 600_000]]), True)], 1_000)
    at = page("strategies")
    [row] = table_with(at, "hit_rate").to_dict("records")
    assert (row["wallet"], row["board"], row["board_pnl"], row["realized_pnl"], row["hit_rate"], row["biggest"]) == (
        WHALE, "OVERALL MONTH", 12.5, 3.0, 75.0, "60% Will it rain?")
