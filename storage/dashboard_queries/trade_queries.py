"""Trades as a trader reads them: each fill with the PnL it realized after fees (a sale's: less its own
fee and the entry fees of the shares it sold, contracts/average_cost.py's `Lot`), and round trips (a
holding from its first buy until it is flat again, by a sale or by the market's resolution) with their
realized PnL, fees and PnL after fees (`net`: what a closed trip's sales sum to), holding time and why
they ended.

Fills are read back in match order through the ledger's own average-cost rule
(contracts/average_cost.py), per strategy and token, so what a page shows is what the ledger
booked. A ghost (FAILED) fill never happened and is skipped. Why a trip ended is the reason stored
with the order that closed it: a stop-loss, a take-profit, a flatten, an operator's exit, or the
strategy itself; a holding a resolution closed ended by "resolution" at its claim's value, and
one a voided market paid back (Kalshi's void: engine/trading/settlement/void_refunds.py) by "void (refunded)";
one resolved against it (worth nothing, so no claim) by "resolution" at the loss of its cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts.average_cost import Lot, sell_step
from contracts.domain import notional
from storage.dashboard_queries.portfolio_queries import KALSHI_TITLE
from storage.engine_stores.claims_store import REFUND
from storage.sqlite.db import Database
from storage.sqlite.frames import to_human, to_utc

EXIT_WORDS = {"stop_loss": "stop-loss", "take_profit": "take-profit", "flatten": "flatten",
              "operator_exit": "exit (operator)"}
FILL_COLUMNS = ["matched_at", "strategy", "venue", "question", "outcome", "side", "price", "size", "fee",
                "realized", "reason"]
TRIP_COLUMNS = ["opened_at", "closed_at", "strategy", "venue", "question", "outcome", "bought", "realized", "fees",
                "net", "held_for", "exit"]


@dataclass
class _Holding:
    held: int = 0
    cost: int = 0
    opened_at: int | None = None
    bought: int = 0
    realized: int = 0
    fees: int = 0
    venue: str = ""
    question: str = ""
    outcome: str = ""
    condition_id: str = ""
    fills: list[int] = field(default_factory=list)
    lot: Lot = field(default_factory=Lot)


def exit_word(reason: str | None) -> str:
    """The order's stored reason as a trader reads it ("strategy" when it names no exit)."""
    return EXIT_WORDS.get((reason or "").lower(), "strategy")


def _fill_rows(db: Database, mode: str, strategy: str | None) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(text(
            f"""SELECT f.matched_at, f.strategy, f.token_id, f.condition_id, f.venue,
                      COALESCE(m.question, {KALSHI_TITLE.format(a="f")}, f.condition_id),
                      f.outcome, f.side, f.price, f.size, f.fee, o.reason
               FROM fills f LEFT JOIN orders o ON o.id = f.order_id
                            LEFT JOIN markets m ON m.condition_id = f.condition_id
               WHERE f.mode = :mode AND f.status != 'FAILED' AND (:strategy IS NULL OR f.strategy = :strategy)
               ORDER BY f.matched_at, f.id"""), {"mode": mode, "strategy": strategy}))


def _claims(db: Database, mode: str) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(strategy, token) -> (what the resolution made the holding worth, when, why it ended) for
    redeem claims (a refund's claim is a voided market's: engine/execution/claims.py)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT strategy, token_id, SUM(amount), MIN(created_at),
                                           MAX(ref LIKE :refund || '%') FROM claims
                                    WHERE mode = :mode AND kind = 'redeem' AND token_id IS NOT NULL
                                    GROUP BY strategy, token_id"""), {"mode": mode, "refund": REFUND})
        return {(s, t): (int(amount), int(at), "void (refunded)" if refund else "resolution")
                for s, t, amount, at, refund in rows}


def _resolved_at(db: Database, mode: str) -> dict[str, int]:
    """condition_id -> when this mode's ledger settled the market at its payouts: a holding there
    with no claim was on the losing side (it paid nothing, so no claim was made)."""
    with db.read() as conn:
        rows = conn.execute(text("SELECT condition_id, at FROM resolutions WHERE mode = :mode"), {"mode": mode})
        return {cid: int(at) for cid, at in rows}


def _close(trips: list[dict[str, Any]], key: tuple[str, str], h: _Holding, at: int, why: str) -> None:
    trips.append({"opened_at": h.opened_at, "closed_at": at, "strategy": key[0], "venue": h.venue,
                  "question": h.question, "outcome": h.outcome, "bought": h.bought, "realized": h.realized,
                  "fees": h.fees, "net": h.realized - h.fees, "held_for": at - (h.opened_at or at), "exit": why})


def trades(db: Database, mode: str, *, strategy: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fills with the PnL each sale realized after fees, newest first; round trips, newest first, open ones
    included with no close) in human units: pUSD, shares, probabilities, UTC times, held_for a
    Timedelta."""
    holdings: dict[tuple[str, str], _Holding] = {}
    fills: list[dict[str, Any]] = []
    trips: list[dict[str, Any]] = []
    for at, strat, token, cid, venue, question, outcome, side, price, size, fee, reason in _fill_rows(db, mode,
                                                                                                   strategy):
        h = holdings.setdefault((strat, token), _Holding())
        if h.held <= 0:
            holdings[(strat, token)] = h = _Holding(opened_at=at, venue=venue, question=question, outcome=outcome,
                                                    condition_id=cid)
        net = h.lot.step(side, price, size, fee)  # a sale's PnL after fees (contracts/average_cost.py)
        if side == "BUY":
            h.held, h.cost, h.bought = h.held + size, h.cost + notional(price, size), h.bought + size
        else:
            removed, realized = sell_step(h.held, h.cost, price, size)
            h.held, h.cost, h.realized = h.held - size, h.cost - removed, h.realized + realized
        h.fees += fee
        fills.append({"matched_at": at, "strategy": strat, "venue": venue, "question": question, "outcome": outcome,
                      "side": side, "price": price, "size": size, "fee": fee, "realized": net,
                      "reason": exit_word(reason)})
        if side == "SELL" and h.held <= 0:
            _close(trips, (strat, token), h, at, exit_word(reason))
    claims, resolved = _claims(db, mode), _resolved_at(db, mode)
    for key, h in holdings.items():
        if h.held > 0 and key in claims:  # the resolution (or a void) closed it at what a share paid
            worth, at, why = claims[key]
            h.realized += worth - h.cost
            _close(trips, key, h, at, why)
        elif h.held > 0 and h.condition_id in resolved:  # resolved against it: worth nothing, so no claim
            h.realized -= h.cost
            _close(trips, key, h, resolved[h.condition_id], "resolution")
        elif h.held > 0:
            trips.append({"opened_at": h.opened_at, "closed_at": None, "strategy": key[0], "venue": h.venue,
                          "question": h.question, "outcome": h.outcome, "bought": h.bought, "realized": h.realized,
                          "fees": h.fees, "net": h.realized - h.fees, "held_for": None, "exit": "open"})
    return _fills_frame(fills), _trips_frame(trips)


def _fills_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows[::-1], columns=FILL_COLUMNS)
    to_human(frame, "price", "size", "fee", "realized")
    return to_utc(frame, "matched_at")


def _trips_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(sorted(rows, key=lambda r: r["closed_at"] or r["opened_at"] or 0, reverse=True),
                         columns=TRIP_COLUMNS)
    to_human(frame, "bought", "realized", "fees", "net")
    frame["held_for"] = pd.to_timedelta(frame["held_for"], unit="ms")
    return to_utc(frame, "opened_at", "closed_at")
