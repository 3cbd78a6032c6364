"""What the Strategies page reads of one strategy: its own limits, its own trading state, and
its performance in a mode (the engine's per-strategy snapshots, and its fills)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text

from contracts.average_cost import Lot
from contracts.cross_venue import complement_side
from contracts.venues import desk_venue, paired_venue
from storage.sqlite.db import Database

MICRO = 1_000_000


def limit_rows(db: Database, strategy: str) -> dict[str, dict[str, Any]]:
    """name -> {value (decimal string), version, updated_at, updated_by} of the stored limits."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT name, value, version, updated_at, updated_by FROM strategy_limits
                                    WHERE strategy = :s"""), {"s": strategy}).mappings().all()
    return {r["name"]: dict(r) for r in rows}


def trading_state(db: Database, mode: str, strategy: str) -> dict[str, Any]:
    """The strategy's own state in `mode` (ACTIVE when the engine has written none)."""
    with db.read() as conn:
        row = conn.execute(text("""SELECT trading_state, reason, state_at FROM strategy_risk
                                   WHERE mode = :m AND strategy = :s"""), {"m": mode, "s": strategy}).mappings().first()
    return dict(row) if row else {"trading_state": "ACTIVE", "reason": None, "state_at": None}


def pnl_curve(db: Database, mode: str, strategy: str, *, max_points: int = 2_000) -> pd.DataFrame:
    """The strategy's snapshots in pUSD: at (UTC), realized (before fees), unrealized, fees, exposure,
    realized_after_fees and pnl (after fees: realized less fees plus unrealized, the desk's one PnL);
    evenly thinned to about `max_points`, always keeping the last."""
    with db.read() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM strategy_snapshots WHERE mode = :m AND strategy = :s"),
                             {"m": mode, "s": strategy}).scalar_one()
        every = max(1, count // max_points)
        rows = conn.execute(text("""SELECT at, realized, unrealized, fees, exposure FROM (
                                        SELECT *, ROW_NUMBER() OVER (ORDER BY at) AS n FROM strategy_snapshots
                                        WHERE mode = :m AND strategy = :s)
                                    WHERE n % :every = 0 OR n = :count ORDER BY at"""),
                            {"m": mode, "s": strategy, "every": every, "count": count}).all()
    frame = pd.DataFrame(rows, columns=["at_ms", "realized", "unrealized", "fees", "exposure"])
    for column in ("realized", "unrealized", "fees", "exposure"):
        frame[column] = frame[column] / MICRO
    frame["realized_after_fees"] = frame["realized"] - frame["fees"]
    frame["pnl"] = frame["realized_after_fees"] + frame["unrealized"]
    frame["at"] = pd.to_datetime(frame["at_ms"], unit="ms", utc=True)
    return frame


@dataclass(frozen=True)
class Trading:
    """The strategy's fills in a mode: how many, fees paid, and the PnL each closing fill
    realized after fees (pUSD), on the average cost of the shares it sold."""

    fills: int
    fees: float
    closes: list[float]


def fills_summary(db: Database, mode: str, strategy: str) -> Trading:
    """Each closing fill's PnL after fees as Round trips reads it (contracts/average_cost.py's `Lot`)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT token_id, side, price, size, fee FROM fills
                                    WHERE mode = :m AND strategy = :s AND status != 'FAILED'
                                    ORDER BY matched_at, id"""), {"m": mode, "s": strategy}).all()
    lots: dict[str, Lot] = {}
    closes: list[float] = []
    for token, side, price, size, fee in rows:
        net = lots.setdefault(token, Lot()).step(side, price, size, fee)
        if net is not None:
            closes.append(net / MICRO)
    return Trading(fills=len(rows), fees=sum(r[4] for r in rows) / MICRO, closes=closes)


REGIME_PREFIX = "REGIME_"  # the decisions log's notes of a strategy's regime (engine/risk/decisions_log.py)


def regime_changes(db: Database, mode: str, strategy: str, *, limit: int = 200) -> pd.DataFrame:
    """The strategy's latest changes of regime in `mode`, newest first: at (UTC), condition_id,
    question, regime (lower case, as the strategy names it) and why (the intent's reason)."""
    with db.read() as conn:
        rows = conn.execute(text("""SELECT d.at, d.condition_id, COALESCE(m.question, d.condition_id), d.reason,
                                           COALESCE(d.detail, '')
                                    FROM decisions d LEFT JOIN markets m ON m.condition_id = d.condition_id
                                    WHERE d.mode = :m AND d.strategy = :s AND d.action = 'note'
                                      AND d.reason LIKE 'REGIME\\_%' ESCAPE '\\'
                                    ORDER BY d.at DESC, d.id DESC LIMIT :n"""),
                            {"m": mode, "s": strategy, "n": limit}).all()
    frame = pd.DataFrame(rows, columns=["at_ms", "condition_id", "question", "reason", "why"])
    frame["regime"] = frame["reason"].str.removeprefix(REGIME_PREFIX).str.lower()
    frame["at"] = pd.to_datetime(frame["at_ms"], unit="ms", utc=True)
    return frame


_PAIR_POSITIONS = """
    SELECT vp.condition_id AS poly, 'kalshi:' || vp.kalshi_ticker AS kalshi, vp.inverted AS inverted,
           vp.polymarket_question AS question, p.venue AS venue, p.outcome AS outcome,
           p.settled + p.pending AS shares, p.cost AS cost, p.realized AS realized, p.fees AS fees
    FROM venue_pairs vp
    JOIN positions p ON p.mode = :m AND p.strategy = :s
     AND ((p.venue = 'polymarket' AND p.condition_id = vp.condition_id)
          OR (p.venue = 'kalshi' AND p.condition_id = 'kalshi:' || vp.kalshi_ticker))"""


def pair_pnl(db: Database, mode: str, strategy: str) -> pd.DataFrame:
    """A cross-venue strategy's book per pair it traded, in dollars: shares held on each venue, the cost
    held, the pairs hedged (this market's YES against the Kalshi side that pays when it loses, NO
    likewise), what those pay at resolution less their cost (locked in), realized PnL and fees (both
    venues' legs)."""
    with db.read() as conn:
        rows = conn.execute(text(_PAIR_POSITIONS), {"m": mode, "s": strategy}).mappings().all()
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        pair = found.setdefault(row["poly"], {"pair": row["question"], "inverted": bool(row["inverted"]),
                                              "legs": {}, "cost": 0, "realized": 0, "fees": 0})
        pair["legs"][(row["venue"], row["outcome"])] = (int(row["shares"]), int(row["cost"]))
        for key in ("cost", "realized", "fees"):
            pair[key] += int(row[key])
    out = []
    desk, paired = desk_venue(), paired_venue()
    for pair in found.values():
        hedged, locked = 0, 0
        for here in ("YES", "NO"):
            there = complement_side(here, pair["inverted"]).upper()
            poly = pair["legs"].get((desk, here), (0, 0))
            kalshi = pair["legs"].get((paired, there), (0, 0))
            both = min(poly[0], kalshi[0])
            if both > 0:
                hedged += both
                locked += both - poly[1] * both // poly[0] - kalshi[1] * both // kalshi[0]
        held_here = sum(s for (venue, _), (s, _) in pair["legs"].items() if venue == desk)
        held_there = sum(s for (venue, _), (s, _) in pair["legs"].items() if venue == paired)
        out.append({"pair": pair["pair"], "here": held_here / MICRO, "on_kalshi": held_there / MICRO,
                    "cost": pair["cost"] / MICRO, "hedged": hedged / MICRO, "locked_in": locked / MICRO,
                    "realized": pair["realized"] / MICRO, "fees": pair["fees"] / MICRO})
    return pd.DataFrame(out, columns=["pair", "here", "on_kalshi", "cost", "hedged", "locked_in", "realized", "fees"])


def strategy_rewards(db: Database, mode: str, strategy: str) -> pd.DataFrame:
    """Per UTC day and market: samples, estimated and paid rewards (pUSD), and how often the
    strategy's orders scored, newest first."""
    with db.read() as conn:
        days = conn.execute(text("""SELECT d.day, d.condition_id, COALESCE(m.question, d.condition_id) AS market,
                                           d.samples, d.estimated, d.paid FROM reward_days d
                                    LEFT JOIN markets m ON m.condition_id = d.condition_id
                                    WHERE d.mode = :m AND d.strategy = :s ORDER BY d.day DESC, market"""),
                            {"m": mode, "s": strategy}).mappings().all()
    frame = pd.DataFrame([dict(r) for r in days], columns=["day", "condition_id", "market", "samples", "estimated",
                                                           "paid"])
    frame["estimated"] = frame["estimated"].astype(float) / MICRO
    frame["paid"] = frame["paid"].astype(float) / MICRO
    return frame
