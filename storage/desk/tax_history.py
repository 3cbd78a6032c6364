"""What one mode's ledgers (every venue's) bought and disposed of, as stored, for the tax-lot export
(reports/tax_lots.py, contracts/tax_lots.py): fills (a FAILED one never happened), the shares merges,
nets and refunds took out of positions (position_conversions, a failed merge's excepted, with the kind
of the settlement transaction that took them), each market's resolution, and, for the resolutions the
ledger did not date (a Kalshi market closed before migration 0093), what its positions and redeem
claims say. Integer micro-units and epoch ms, as stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import text

from storage.engine_stores.claims_store import REFUND
from storage.sqlite.db import Database


@dataclass(frozen=True, slots=True)
class FillRow:
    id: int
    venue: str
    token_id: str
    condition_id: str
    outcome: str
    side: str
    price: int
    size: int
    fee: int
    at: int


@dataclass(frozen=True, slots=True)
class ConversionRow:
    id: int
    venue: str
    token_id: str
    condition_id: str
    outcome: str
    shares: int
    price: int
    at: int
    tx_kind: str  # 'merge' (a merge, or a venue's net of YES with NO) or 'redeem' (a refund)


@dataclass(frozen=True, slots=True)
class ResolutionRow:
    venue: str
    payout_yes: int
    payout_no: int
    at: int


@dataclass
class LedgerHistory:
    fills: list[FillRow] = field(default_factory=list)
    conversions: list[ConversionRow] = field(default_factory=list)
    resolutions: dict[str, ResolutionRow] = field(default_factory=dict)  # by condition id
    # By token: (the shares its positions hold now, when they last changed) and (what its redeem claims
    # are owed, from when): what dates and prices a close the ledger did not record.
    held: dict[str, tuple[int, int]] = field(default_factory=dict)
    claimed: dict[str, tuple[int, int]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # condition id -> the market's question


def ledger_history(db: Database, mode: str, until_ms: int) -> LedgerHistory:
    """Everything of `mode`'s ledgers up to `until_ms`, in the order it happened."""
    params = {"mode": mode, "until": until_ms}
    with db.read() as conn:
        fills = [FillRow(*row) for row in conn.execute(text(
            """SELECT id, venue, token_id, condition_id, outcome, side, price, size, fee, matched_at FROM fills
               WHERE mode = :mode AND status != 'FAILED' AND matched_at < :until ORDER BY matched_at, id"""), params)]
        conversions = [ConversionRow(*row) for row in conn.execute(text(
            """SELECT c.id, c.venue, c.token_id, c.condition_id, c.outcome, c.shares, c.price, c.at,
                      COALESCE(t.kind, 'merge')
               FROM position_conversions c LEFT JOIN settlement_txs t ON t.id = c.tx_id
               WHERE c.mode = :mode AND c.status != 'failed' AND c.at < :until ORDER BY c.at, c.id"""), params)]
        resolutions = {cid: ResolutionRow(venue, yes, no, at) for cid, venue, yes, no, at in conn.execute(text(
            """SELECT condition_id, venue, payout_yes, payout_no, at FROM resolutions
               WHERE mode = :mode AND at < :until"""), params)}
        held = {token: (int(size), int(at)) for token, size, at in conn.execute(text(
            """SELECT token_id, SUM(settled + pending), MAX(updated_at) FROM positions WHERE mode = :mode
               GROUP BY token_id"""), params)}
        claimed = {token: (int(amount), int(at)) for token, amount, at in conn.execute(text(
            """SELECT token_id, SUM(amount), MIN(created_at) FROM claims
               WHERE mode = :mode AND kind = 'redeem' AND token_id IS NOT NULL AND ref NOT LIKE :refund || '%'
               GROUP BY token_id"""), {**params, "refund": REFUND})}
        names = {cid: name for cid, name in conn.execute(text(
            """SELECT condition_id, question FROM markets
               WHERE condition_id IN (SELECT condition_id FROM fills WHERE mode = :mode)
               UNION ALL
               SELECT 'kalshi:' || kalshi_ticker, kalshi_title FROM venue_pairs"""), params)}
    return LedgerHistory(fills, conversions, resolutions, held, claimed, names)


def fill_years(db: Database, mode: str) -> list[int]:
    """The UTC years from `mode`'s first fill to its last, newest first (none: no fill)."""
    with db.read() as conn:  # each an index walk by time (ix_fills_matched), stopping at the mode's first fill
        first, last = (conn.execute(text(f"SELECT matched_at FROM fills WHERE +mode = :mode ORDER BY matched_at "
                                         f"{order} LIMIT 1"), {"mode": mode}).scalar() for order in ("ASC", "DESC"))
    if first is None or last is None:
        return []
    years = [datetime.fromtimestamp(at / 1000, tz=UTC).year for at in (int(first), int(last))]
    return list(range(years[1], years[0] - 1, -1))
