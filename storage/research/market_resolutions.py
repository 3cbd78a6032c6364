"""How and when markets ended (`market_resolutions`, contracts/resolutions.py): what the recorder heard
(storage/engine_stores/tick_store.py writes its rows), what an import read of the venue's record, and what
the trader gave by hand; read back by a backtest to settle its positions at that moment.

What the desk heard first stays: an import or the recorder never replaces a row. The trader's word
replaces whatever was there (audited), since it is given to correct or complete it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from contracts.resolutions import Resolution
from storage.desk.audit import write_audit
from storage.research.backtest_recording import open_recording
from storage.sqlite.db import Database, now_ms

_INSERT = """INSERT INTO market_resolutions (condition_id, at, outcome, yes_pays, source, recorded_at, recorded_by)
             VALUES (:c, :at, :o, :v, :s, :now, :by)"""
_KEEP = " ON CONFLICT (condition_id) DO NOTHING"
_REPLACE = (" ON CONFLICT (condition_id) DO UPDATE SET at = excluded.at, outcome = excluded.outcome, "
            "yes_pays = excluded.yes_pays, source = excluded.source, recorded_at = excluded.recorded_at, "
            "recorded_by = excluded.recorded_by")


def _params(resolution: Resolution, by: str, now: int) -> dict[str, Any]:
    return {"c": resolution.condition_id, "at": resolution.at, "o": resolution.outcome, "v": resolution.yes_pays,
            "s": resolution.source, "now": now, "by": by}


def keep(conn: Connection, resolutions: Iterable[Resolution], *, by: str) -> int:
    """What an import read of the venue's record, each kept unless the desk has one for that market
    already; returns how many were new."""
    now = now_ms()
    kept = 0
    for resolution in resolutions:
        if resolution.at is not None:
            kept += conn.execute(text(_INSERT + _KEEP), _params(resolution, by, now)).rowcount
    return kept


def set_by_trader(db: Database, resolutions: Sequence[Resolution], *, actor: str) -> list[dict[str, Any]]:
    """The trader's resolutions, each replacing what the desk had for its market (audited, with what was
    there before); returns what was there before, per market (None where nothing was)."""
    now = now_ms()
    before: list[dict[str, Any]] = []
    with db.write() as conn:
        for resolution in resolutions:
            old = _row(conn, resolution.condition_id)
            conn.execute(text(_INSERT + _REPLACE), _params(resolution, actor, now))
            write_audit(conn, actor=actor, action="resolution.set", entity=f"market:{resolution.condition_id}",
                        before=old, after=resolution.as_json())
            before.append({"market": resolution.condition_id, "before": old})
    return before


def _row(conn: Connection, condition_id: str) -> dict[str, Any] | None:
    row = conn.execute(text("""SELECT condition_id AS market, at, outcome, yes_pays, source FROM market_resolutions
                               WHERE condition_id = :c"""), {"c": condition_id}).mappings().first()
    return None if row is None else dict(row)


def unknown_markets(db: Database, condition_ids: Sequence[str]) -> list[str]:
    """Of `condition_ids`, those this desk knows no market of: no markets row (discovered or imported), no pair
    naming the Kalshi market (`kalshi:TICKER`)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT condition_id FROM markets
                                    WHERE condition_id IN (SELECT value FROM json_each(:c))
                                    UNION SELECT 'kalshi:' || kalshi_ticker FROM venue_pairs"""),
                            {"c": json.dumps(sorted(set(condition_ids)))}).scalars().all()
    known = set(rows)
    return [cid for cid in condition_ids if cid not in known]


def listed(db: Database, condition_ids: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The stored resolutions (of `condition_ids`, or all), newest first."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT condition_id AS market, at, outcome, yes_pays, source, recorded_at,
                                           recorded_by FROM market_resolutions ORDER BY at DESC, condition_id"""))
        wanted = set(condition_ids)
        return [dict(r) for r in rows.mappings() if not wanted or r["market"] in wanted]


def of_markets(conn: Connection, condition_ids: Sequence[str]) -> list[Resolution]:
    """The stored resolutions of these markets (a session file carries them), by time."""
    rows = conn.execute(text("""SELECT condition_id, at, outcome, yes_pays, source FROM market_resolutions
                                WHERE condition_id IN (SELECT value FROM json_each(:c)) ORDER BY at, condition_id"""),
                        {"c": json.dumps(sorted(set(condition_ids)))}).all()
    return [Resolution(str(r[0]), int(r[1]), str(r[2]), r[3], str(r[4])) for r in rows]


def known(db_path: Path, condition_ids: Sequence[str]) -> dict[str, Resolution]:
    """What a backtest knows of how these markets ended, from the desk's file (read only): each stored
    resolution, a value not yet known completed by the payouts the market's row holds (a 50/50 heard on
    the feed, its payouts asked of the venue later), and a market whose row holds payouts without any
    resolution stored (resolved before the desk kept their times) with its time unknown."""
    if not condition_ids:
        return {}
    conn = open_recording(db_path)
    try:
        stored = _stored(conn, condition_ids)
        payouts = _market_payouts(conn, condition_ids)
    finally:
        conn.close()
    found: dict[str, Resolution] = {}
    for cid in condition_ids:
        row, paid = stored.get(cid), payouts.get(cid)
        if row is not None:
            at, outcome, yes_pays, source = row
            if outcome == "value" and yes_pays is None and paid is not None:
                yes_pays = paid
            found[cid] = Resolution(cid, at, outcome, yes_pays, source)
        elif paid is not None:
            outcome = "yes" if paid == 1_000_000 else "no" if paid == 0 else "value"
            found[cid] = Resolution(cid, None, outcome, paid if outcome == "value" else None, "ledger")
    return found


def _stored(conn: sqlite3.Connection, condition_ids: Sequence[str]) -> dict[str, tuple[int, str, int | None, str]]:
    marks = ",".join(f":c{i}" for i in range(len(condition_ids)))
    keys = {f"c{i}": cid for i, cid in enumerate(condition_ids)}
    try:
        rows = conn.execute(f"""SELECT condition_id, at, outcome, yes_pays, source FROM market_resolutions
                                WHERE condition_id IN ({marks})""", keys).fetchall()
    except sqlite3.OperationalError:  # a recording from before the table (a file never migrated here)
        return {}
    return {r[0]: (int(r[1]), str(r[2]), r[3], str(r[4])) for r in rows}


def _market_payouts(conn: sqlite3.Connection, condition_ids: Sequence[str]) -> dict[str, int]:
    """condition id -> what a YES share paid, for the markets whose row holds a payout vector."""
    marks = ",".join(f":c{i}" for i in range(len(condition_ids)))
    keys = {f"c{i}": cid for i, cid in enumerate(condition_ids)}
    rows = conn.execute(f"""SELECT condition_id, payout_yes FROM markets WHERE condition_id IN ({marks})
                            AND payout_yes IS NOT NULL AND payout_no IS NOT NULL""", keys).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
