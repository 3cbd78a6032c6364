"""The engine's view of market metadata: condition id or token -> MarketInfo.

Loaded from the `markets` table (written by the market refresh job), with each market's
liquidity-reward program from `reward_programs` (engine/trading/settlement/rewards.py); tests and
backtests can also add markets directly.

A row that cannot be read (contracts/market_rows.py), or an imported one claiming a
token of a market the venue lists, is never loaded: whoever built the catalog with `set_aside`
is told (the trading core moves it into the quarantine with an alert, storage/engine_stores/quarantine_store.py),
and the rest loads, so one bad row never fails a start. A market only an imported session file
knows (`origin = 'imported'`) is not loaded either: it lives apart from the live desk, which
never selects, quotes, tests or values it; a backtest replays it as its own venue's
(storage/research/backtest_scratch.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from contracts.domain import MarketInfo, Outcome
from contracts.market_rows import resolution_trail, unreadable
from contracts.neg_risk_sets import why_incomplete
from contracts.payouts import Payouts
from contracts.payouts import stored as stored_payouts
from contracts.venues.kalshi import fee_store as kalshi_fee_store
from contracts.venues.kalshi import fees as kalshi_fees
from contracts.venues.kalshi import grid as kalshi_grid
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.polymarket.protocol_v2 import PROTOCOL_V2
from storage.engine_stores import catalog_store, reward_queries
from storage.sqlite.db import Database

Row = Mapping[str, Any]
SetAside = Callable[[list[tuple[Row, str]]], None]


def usable_rows(rows: Sequence[Row]) -> tuple[list[Row], list[tuple[Row, str]]]:
    """The rows the engine can load, and the others with why: unreadable, or imported and
    claiming a token of a market the venue lists (a session file never shadows the venue)."""
    usable: list[Row] = []
    refused: list[tuple[Row, str]] = []
    for row in rows:
        problem = unreadable(row)
        if problem is None:
            usable.append(row)
        else:
            refused.append((row, problem))
    venue_tokens = {token: row["condition_id"] for row in usable if row.get("origin") != "imported"
                    for token in (row["yes_token"], row["no_token"])}
    kept = []
    for row in usable:
        owners = {owner for token in (row["yes_token"], row["no_token"])
                  if (owner := venue_tokens.get(token)) is not None and owner != row["condition_id"]}
        if row.get("origin") == "imported" and owners:
            refused.append((row, f"imported, it claims a token of the venue's market {min(owners)}"))
        else:
            kept.append(row)
    return kept, refused


class MarketCatalog:
    def __init__(self, markets: Iterable[MarketInfo] = (), *, set_aside: SetAside | None = None):
        """`set_aside`: told of the rows a load could not use (see the module's docstring)."""
        self._by_id: dict[str, MarketInfo] = {}
        self._by_token: dict[str, MarketInfo] = {}
        self._resolved: dict[str, Payouts] = {}
        # Markets told closed by what the desk heard, not by a row: kept closed across reloads
        # (a Kalshi market has no markets row to say so: engine/venues/kalshi/reference.py).
        self._closed: set[str] = set()
        self._set_aside = set_aside
        for market in markets:
            self.add(market)

    def add(self, market: MarketInfo, resolved: Payouts | None = None) -> None:
        self._by_id[market.condition_id] = market
        self._by_token[market.yes_token] = market
        self._by_token[market.no_token] = market
        if resolved is not None:
            self._resolved[market.condition_id] = resolved

    def get(self, condition_id: str) -> MarketInfo | None:
        return self._by_id.get(condition_id)

    def by_token(self, token_id: str) -> MarketInfo | None:
        return self._by_token.get(token_id)

    def all(self) -> list[MarketInfo]:
        return list(self._by_id.values())

    def is_v2_position(self, token_id: str) -> bool:
        """Whether the token is a Protocol V2 market's position id (its balance is `CONDITIONAL-V2`)."""
        market = self._by_token.get(token_id)
        return market is not None and market.protocol_v2

    def fee_schedule(self, condition_id: str) -> tuple[int, int] | None:
        """The market's taker fee (rate in ppm, exponent) as the venue publishes it; None if unknown."""
        market = self._by_id.get(condition_id)
        if market is None or not market.fees_known:
            return None
        return market.fee_rate_ppm, market.fee_exponent

    def fees_unknown(self, condition_ids: Iterable[str]) -> list[str]:
        return [cid for cid in condition_ids if cid in self._by_id and not self._by_id[cid].fees_known]

    def resolution(self, condition_id: str) -> Payouts | None:
        """The market's payout vector once it resolved; None before."""
        return self._resolved.get(condition_id)

    def payout(self, condition_id: str, outcome: Outcome) -> int | None:
        """What one share of `outcome` pays (micro-pUSD) once the market resolved; None before."""
        payouts = self._resolved.get(condition_id)
        return None if payouts is None else payouts.of(outcome)

    def set_tick(self, token_id: str, tick: int) -> MarketInfo | None:
        """The market of `token_id` trades on `tick` from now on; returns the market when its tick
        changed (None: unknown token, or no change). Its MarketInfo is a new object, so every
        plan made with the old one is made afresh."""
        market = self._by_token.get(token_id)
        if market is None or market.tick == tick:
            return None
        changed = replace(market, tick=tick)
        self.add(changed)
        return changed

    def mark_resolved(self, condition_id: str, payouts: Payouts) -> None:
        self._resolved[condition_id] = payouts

    def close(self, condition_id: str) -> None:
        """No strategy trades the market from now on, for as long as this catalog lives: every
        later load keeps it closed (the planner then cancels its working orders)."""
        self._closed.add(condition_id)
        market = self._by_id.get(condition_id)
        if market is not None and not market.closed:
            self.add(replace(market, closed=True, accepting_orders=False))

    def load(self, db: Database) -> int:
        """(Re)load every usable market of the venue the table holds; returns how many."""
        usable, refused = usable_rows(catalog_store.all_markets(db))
        if refused and self._set_aside is not None:
            self._set_aside(refused)
        rows = [row for row in usable if row.get("origin") != "imported"]
        groups = Counter(row["neg_risk_market_id"] for row in rows if row["neg_risk_market_id"])
        events = catalog_store.events(db)
        tradable = {row["condition_id"] for row in rows if row["tradable"] and not row["closed"]}
        rewards = reward_queries.programs(db)
        for row in rows:
            info = market_info(row)
            if (program := rewards.get(info.condition_id)) is not None:
                info = replace(info, reward_daily_pool=program.daily_pool, reward_max_spread=program.max_spread,
                               reward_min_size=program.min_size)
            if info.neg_risk_market_id:
                info = replace(info, neg_risk_outcome_count=groups[info.neg_risk_market_id],
                               neg_risk_set_refusal=why_incomplete(events.get(row.get("event_id") or ""), tradable))
            self.add(info, stored_payouts(row))
        self.load_kalshi(db)
        return len(rows)

    def load_kalshi(self, db: Database) -> None:
        """The paired Kalshi markets again, as the desk last read them (their grids, fees, status)."""
        for row in catalog_store.paired_kalshi_markets(db):
            self.add(kalshi_market(row))
        for condition_id in self._closed:
            self.close(condition_id)


def kalshi_market(row: Mapping[str, Any]) -> MarketInfo:
    """A Kalshi market the operator paired, in the desk's terms (contracts/venues/kalshi/ids.py): a strategy
    trades it only by naming it (`kalshi:<ticker>` in its market list; a filter selects among
    Polymarket's markets), on Kalshi's ledger (engine/trading/passes/ledger.py). Its price grid and its
    series' fees as the desk last read them (storage/engine_stores/catalog_store.py); until read, whole
    cents (valid on every grid) and the dearest known fees, since paper must never flatter. Counts
    to 0.01 contract. Closed when Kalshi voided it or its status says trading is over; not accepting
    orders while Kalshi has it paused."""
    ticker = str(row["ticker"])
    bands = kalshi_grid.bands_from_json(row.get("price_grid"))
    fees = kalshi_fees.KalshiFees(str(row.get("fee_type") or kalshi_fees.UNREAD[0]),
                                  int(row.get("fee_multiplier_ppm") or kalshi_fees.UNREAD[1]))
    schedule = kalshi_fee_store.schedule_from_json(fees, row.get("fee_changes"))
    status = str(row.get("status") or "active")
    closed = bool(row.get("voided")) or status in ("closed", "determined", "disputed", "amended", "finalized")
    return MarketInfo(condition_id=kalshi_ids.market_id(ticker), question=str(row["title"]),
                      yes_token=kalshi_ids.token_id(ticker, "yes"), no_token=kalshi_ids.token_id(ticker, "no"),
                      tick=kalshi_grid.grid_tick(bands), min_size=kalshi_ids.LOT, closed=closed,
                      accepting_orders=not closed and status == "active", price_grid=bands,
                      kalshi_fee_type=fees.fee_type, kalshi_fee_multiplier_ppm=fees.multiplier_ppm,
                      kalshi_fee_changes=tuple((c.at_ms, c.fees.fee_type, c.fees.multiplier_ppm)
                                               for c in schedule.changes),
                      kalshi_fees_read_at=schedule.read_at_ms,
                      kalshi_series_fees=None if schedule.series_base is None else (
                          schedule.series_base.fee_type, schedule.series_base.multiplier_ppm),
                      kalshi_event_fee_changes=tuple(
                          (c.at_ms, None, None) if c.fees is None else (c.at_ms, c.fees.fee_type, c.fees.multiplier_ppm)
                          for c in schedule.event_changes),
                      kalshi_exchange_index=None if row.get("exchange_index") is None else int(row["exchange_index"]))


def market_info(row: Mapping[str, Any]) -> MarketInfo:
    """A `markets` row as the desk reads it (the catalog loads them; a backtest reads a recording's alike)."""
    return MarketInfo(
        condition_id=row["condition_id"], question=row["question"], yes_token=row["yes_token"],
        no_token=row["no_token"], tick=row["tick"], min_size=row["min_size"], neg_risk=bool(row["neg_risk"]),
        neg_risk_market_id=row["neg_risk_market_id"], end_ms=row["end_at"], fee_rate_ppm=row["fee_rate_ppm"],
        fee_exponent=row["fee_exponent"], tradable=bool(row["tradable"]),
        accepting_orders=bool(row["accepting_orders"]), closed=bool(row["closed"]), slug=row["slug"],
        tags=tuple(json.loads(row["tags"] or "[]")), fees_known=row.get("fees_at") is not None,
        game_start_ms=row.get("game_start_at"), clear_book_on_start=bool(row.get("clear_book_on_start")),
        protocol_v2=row.get("gamma_version") == PROTOCOL_V2, resolution_status=row.get("resolution_status") or "",
        resolution_history=resolution_trail(row.get("resolution_history")), rebate_share_ppm=row.get("rebate_ppm"),
    )
