"""Trade events for notifications: what `notify_events` says happened (a fill, an order the venue
refused, a resting order the venue cancelled; written by triggers in the executor's own
transaction, see storage/sqlite/migrations/m0014_notify_channels_and_events.py;
storage/engine_stores/notify_sources.py reads them), in our terms and worded for a phone.

A fill is also an entry when it opens a position (a BUY from no shares) and an exit when it
closes one (a SELL down to no shares), counted from the strategy's own fills in that token
before it, so the answer does not depend on when the notifier reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from contracts.domain import fmt
from contracts.venues import CASH_UNIT, desk_venue
from contracts.venues import LABELS as VENUE_LABELS
from storage.engine_stores import notify_sources

QUESTION_CHARS = 120
LABELS = {"fill": "FILL", "entry": "ENTRY", "exit": "EXIT", "refused": "ORDER REFUSED",
          "venue_cancel": "CANCELLED BY THE VENUE"}


@dataclass(frozen=True)
class TradeFact:
    id: int  # the notify_events row
    at: int
    events: tuple[str, ...]  # ("fill",), ("fill", "entry"), ("fill", "exit"), ("refused",), ("venue_cancel",)
    strategy: str
    mode: str
    title: str
    body: str
    line: str  # what a digest shows of it

    @property
    def event(self) -> str:
        """The most specific of its events (entry and exit are fills)."""
        return self.events[-1]

    @property
    def level(self) -> str:
        return "warning" if self.event in ("refused", "venue_cancel") else "info"


def new_facts(conn: Connection, cursor: int, limit: int, host: str) -> tuple[list[TradeFact], int]:
    """Facts after `cursor` (at most `limit` events read) and the cursor past them; an event whose
    fill or order is gone (pruned) is passed over."""
    rows = notify_sources.events_after(conn, cursor, limit)
    facts = []
    for row in rows:
        fact = _fill(conn, row, host) if row.kind == "fill" else _order(conn, row, host)
        if fact is not None:
            facts.append(fact)
    return facts, (rows[-1].id if rows else cursor)


def _question(row: Any) -> str:
    text_ = " ".join(str(row.question or row.condition_id).split())
    return text_ if len(text_) <= QUESTION_CHARS else text_[: QUESTION_CHARS - 1] + "…"


def _ledger(row: Any) -> str:
    """Whose ledger: its mode, and its venue when it is not the desk's own."""
    return row.mode if row.venue == desk_venue() else f"{row.mode} on {VENUE_LABELS.get(row.venue, row.venue)}"


def _utc(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _fill(conn: Connection, event: Any, host: str) -> TradeFact | None:
    row = notify_sources.fill_with_market(conn, event.ref)
    if row is None:
        return None
    before = notify_sources.shares_before_fill(conn, mode=row.mode, strategy=row.strategy, token_id=row.token_id,
                                               fill_id=row.id)
    events: tuple[str, ...] = ("fill",)
    if row.side == "BUY" and before <= 0:
        events = ("fill", "entry")
    elif row.side == "SELL" and before > 0 and before - row.size <= 0:
        events = ("fill", "exit")
    trade = f"{row.side} {row.outcome} {fmt(row.size)} @ {fmt(row.price)}"
    money = CASH_UNIT.get(row.venue, "USD")
    detail = f"{row.liquidity.lower()}, fee {fmt(row.fee)} {money}" if row.fee else row.liquidity.lower()
    label = LABELS[events[-1]]
    return TradeFact(
        id=event.id, at=event.at, events=events, strategy=row.strategy, mode=row.mode,
        title=f"{label} · {row.strategy} · desk on {host}",
        body=f"{trade} ({detail}) in {_question(row)}\n({_ledger(row)}, {_utc(row.matched_at)}, order {row.client_id})",
        line=f"{label.lower()} {row.strategy}: {trade} in {_question(row)[:60]}")


def _order(conn: Connection, event: Any, host: str) -> TradeFact | None:
    row = notify_sources.order_with_market(conn, event.ref)
    if row is None:
        return None
    trade = f"{row.side} {row.outcome} {fmt(row.size)} @ {fmt(row.price)} {row.tif}"
    if event.kind == "venue_cancel" and row.filled:
        trade += f" ({fmt(row.filled)} filled before)"
    why = " ".join(str(row.error or "no reason given").split())[:300]
    said = "the venue said" if event.kind == "refused" else "why"
    label = LABELS[event.kind]
    return TradeFact(
        id=event.id, at=event.at, events=(event.kind,), strategy=row.strategy, mode=row.mode,
        title=f"{label} · {row.strategy} · desk on {host}",
        body=f"{trade} in {_question(row)}\n{said}: {why}\n({_ledger(row)}, {_utc(event.at)}, order {row.client_id})",
        line=f"{row.strategy}: {trade} in {_question(row)[:60]} ({why[:80]})")
