"""Kalshi's public history of a paired market (engine/venues/kalshi/history.py) into `ticks`, all or
nothing, as a named session of its Polymarket market (origin imported, its history stated), never
mixed with what the desk recorded of the same Kalshi market in those hours."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from contracts.resolutions import Resolution
from storage.desk.audit import write_audit
from storage.research import market_resolutions
from storage.research.recording_sessions import Session, SessionError, _find, _taken, check_name
from storage.research.session_history import store as store_history
from storage.research.tick_order import resequence_if_mixed
from storage.sqlite.db import Database, now_ms

BATCH = 5_000


def import_kalshi_ticks(db: Database, *, condition_id: str, tokens: tuple[str, str], span: tuple[int, int],
                        ticks: Iterable[tuple[Any, ...]], name: str, notes: str, actor: str,
                        history: dict[str, Any], ended: Resolution | None = None) -> tuple[Session, int]:
    """Write `ticks` (in time order) and the session, and how the Kalshi market ended (`ended`, Kalshi's record:
    kept unless the desk knows it already); a SessionError (nothing written) when the desk already holds ticks
    of these Kalshi tokens inside the span, or the name is taken."""
    session_name = check_name(name)
    with db.write() as conn:
        _taken(conn, session_name)
        found = conn.execute(text("""SELECT COUNT(*) FROM ticks WHERE token_id IN (:y, :n) AND at BETWEEN :a AND :b"""),
                             {"y": tokens[0], "n": tokens[1], "a": span[0], "b": span[1]}).scalar_one()
        if found:
            raise SessionError(f"this desk already has {found:,} ticks of that Kalshi market inside the range; "
                               "importing would mix two recordings of it, so nothing was imported")
        first = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticks")).scalar_one()
        written, batch = 0, []
        for at, token, kind, side, price, size, mid, data in ticks:
            batch.append({"at": at, "token_id": token, "kind": kind, "side": side, "price": price, "size": size,
                          "mid": mid, "data": data})
            if len(batch) >= BATCH:
                written += _insert(conn, batch)
                batch = []
        written += _insert(conn, batch)
        resequence_if_mixed(conn, span[0], span[1], first)  # the pair's other venue imported first: interleave
        conn.execute(text("""INSERT INTO recording_sessions (name, notes, markets, started_at, stopped_at, origin,
                                                             created_by, updated_at)
                             VALUES (:n, :notes, :m, :a, :b, 'imported', :by, :now)"""),
                     {"n": session_name, "notes": notes[:2000], "m": json.dumps([condition_id]), "a": span[0],
                      "b": span[1], "by": actor, "now": now_ms()})
        session = _find(conn, session_name)
        store_history(conn, session.id, history)
        if ended is not None:
            market_resolutions.keep(conn, [ended], by=actor)
        write_audit(conn, actor=actor, action="session.import", entity=f"session:{session_name}", before=None,
                    after={**session.as_dict(), "source": "kalshi", "ticks": written})
    return session, written


def _insert(conn: Any, batch: list[dict[str, Any]]) -> int:
    if batch:
        conn.execute(text("""INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data)
                             VALUES (:at, :token_id, :kind, :side, :price, :size, :mid, :data)"""), batch)
    return len(batch)
