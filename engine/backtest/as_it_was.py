"""The market as it was when recorded, not as it is today: the tick in force at each moment (a
resolved market's tick today is often 0.001 while the hour replayed traded on 0.01), the taker
fee the venue's own prints carried, and what the replayed history is (its source, its prints,
its missing hours), stated on every result.

Tick size changes are kept in `tick_sizes` (from the PMXT archive's `tick_size_change` rows, or a
session file's header); the replay starts each market on the tick in force at the run's start and
applies each later change at its time (a TICK row spliced into the recording's rows, handed to the
core as the feed hands it a `tick_size_change`), so the strategy plans, and the paper venue
refuses, on that hour's grid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from contracts.domain import MarketInfo
from contracts.strategy_kinds import registry as kinds
from contracts.strategy_schemas.ensemble import ENSEMBLE
from contracts.strategy_schemas.ladder import LADDER
from contracts.strategy_schemas.value_betting import VALUE_BETTING
from engine.trading.hosting.fair_history import ReplayedFairValues
from storage.research import backtest_recording as recording
from storage.research.backtest_recording import TICK, Row

BPS_PPM = 100  # a fee rate in basis points, in parts per million


def ticks_at_start(main_db: Path, markets: Sequence[MarketInfo], from_ms: int,
                   to_ms: int) -> tuple[dict[str, int], list[tuple[str, int, int | None, int]]]:
    """({condition id: the tick in force at `from_ms`} for markets whose recorded tick differs from
    today's, [the changes inside the run, by time]). A change after the run's end counts for the
    first: it says what the tick was before it (the desk may have recorded it in a later session)."""
    by_token = {t: m for m in markets for t in (m.yes_token, m.no_token)}
    changes = recording.tick_changes(main_db, list(by_token))
    start: dict[str, int] = {}
    for token, at, old, new in changes:  # by time: the last change at or before the start wins
        cid = by_token[token].condition_id
        if at <= from_ms:
            start[cid] = new
        elif cid not in start and old is not None:
            start[cid] = old  # the first change after the start says what it was before
    start = {cid: tick for cid, tick in start.items()
             if tick != next(m.tick for m in markets if m.condition_id == cid)}
    return start, [c for c in changes if from_ms < c[1] <= to_ms]


def with_start_ticks(rows: list[dict], markets: list[MarketInfo],
                     ticks: Mapping[str, int]) -> tuple[list[dict], list[MarketInfo]]:
    """The run's market rows and infos on the ticks in force at its start."""
    return ([{**r, "tick": ticks.get(str(r["condition_id"]), r["tick"])} for r in rows],
            [replace(m, tick=ticks[m.condition_id]) if m.condition_id in ticks else m for m in markets])


def spliced(batches: Iterator[list[Row]], changes: Sequence[tuple[str, int, int | None, int]],
            tokens: Sequence[str]) -> Iterator[list[Row]]:
    """The recording's rows with each tick size change as a TICK row before the first row at or after
    its time (price: the new tick; size: the old one, or None)."""
    index = {token: i for i, token in enumerate(tokens)}
    pending = [(at, index[token], TICK, None, new, old, None) for token, at, old, new in changes if token in index]
    return merged(batches, pending)


def merged(batches: Iterator[list[Row]], pending: Sequence[Row], *, ties_first: bool = True,
           trailing: bool = False) -> Iterator[list[Row]]:
    """The recording's rows with `pending` (by time) among them: each before the first row at or after its
    time (`ties_first`), or after every row of its instant. A pending row after the last row is left out
    (the replay never reaches its time), or with `trailing`, replayed after it."""
    at = 0
    for batch in batches:
        if at == len(pending) or pending[at][0] > batch[-1][0]:
            yield batch
            continue
        rows: list[Row] = []
        for row in batch:
            while at < len(pending) and (pending[at][0] <= row[0] if ties_first else pending[at][0] < row[0]):
                rows.append(pending[at])
                at += 1
            rows.append(row)
        yield rows
    if trailing and at < len(pending):
        yield list(pending[at:])


def print_fee_ppm(data: str | None) -> int | None:
    """The taker fee rate a print says it paid (ppm), when above 0. A print reading 0 is not taken as
    "no fee": the venue's trade records were measured to read 0 on a fee-charged fill."""
    if not data:
        return None
    try:
        fee = json.loads(data).get("fee_bps")
    except (ValueError, AttributeError):
        return None
    return fee * BPS_PPM if isinstance(fee, int) and not isinstance(fee, bool) and fee > 0 else None


def stated_history(main_db: Path, source: str, from_ms: int, to_ms: int, markets: Sequence[str],
                   fair_values: str | None = None) -> dict[str, Any]:
    """What a run replayed, for its page and report: each session it overlaps (name, source, archive
    layouts, prints or book only, the hours missing inside the run), the tick changes applied, and
    (for a strategy trading on fair values) which fair values it used."""
    if source == "history":
        return {"source": "price history (/prices-history): a synthetic book around each point, prints both ways",
                "sessions": [], "gaps": [], "fair_values": fair_values}
    wanted = set(markets)
    sessions, gaps = [], []
    for row in recording.session_histories(main_db, from_ms, to_ms):
        named = set(json.loads(str(row["markets"]) or "[]"))
        if named and wanted and not named & wanted:
            continue
        history = json.loads(str(row["history"])) if row["history"] else {}
        spans = covered_spans(int(str(row["started_at"])), int(str(row["stopped_at"] or to_ms)),
                              history.get("gaps", []))
        sessions.append({"name": row["name"], "origin": row["origin"], "source": history.get("source", "recorded"),
                         "spans": spans,
                         "layouts": history.get("layouts", []), "prints": history.get("prints", "recorded"),
                         "print_fees": history.get("print_fees", False), "book": history.get("book")})
        gaps += [g for g in history.get("gaps", []) if g[1] >= from_ms and g[0] <= to_ms]
    return {"source": "recorded ticks", "sessions": sessions, "gaps": sorted(gaps), "fair_values": fair_values}


def covered_spans(start: int, end: int, gaps: Sequence[Sequence[int]]) -> list[list[int]]:
    """The session's span split at its gaps: the stretches it has data for."""
    spans, at = [], start
    for low, high in sorted((g[0], g[1]) for g in gaps):
        if low > at:
            spans.append([at, low - 1])
        at = max(at, high + 1)
    if at <= end:
        spans.append([at, end])
    return spans


def fair_value_words(kind: str, params: Mapping[str, Any], history: ReplayedFairValues | None,
                     markets: Sequence[str]) -> tuple[str, bool] | None:
    """(which fair values a run of a strategy that trades on them replayed, in words; whether it lacked
    them: no history covered a market, or an ensemble never had its minimum of sources), or None for a
    strategy that reads none (value betting on the reference price reads the recorded Kalshi books)."""
    reads = kind in (VALUE_BETTING.kind, ENSEMBLE.kind) or (kind == LADDER.kind and params.get("center") == "signal")
    if not reads or (kind == VALUE_BETTING.kind and params.get("fair_source") == "reference"):
        return None
    held = history.replayed if history is not None else None
    count, wanted = len(markets), set(markets)
    replayed = held.markets & wanted if held is not None else set()
    standing = held.standing & wanted if held is not None else set()
    if held is not None and held.posts:
        said = [f"{held.posts} outside and poll fair value(s) from {', '.join(sorted(held.sources))} replayed as the "
                "desk received them, each until its time-to-live ran out or its source's next one replaced it "
                f"({len(replayed)} of {count} market(s))"]
    else:
        said = [f"no history of outside or poll fair values covers {'this market' if count == 1 else 'these markets'}"
                " in this span (the desk keeps each one it receives from the signals API, MCP and polls, from "
                "when it receives it; news signals are not kept), so none was replayed"]
    if standing:
        said.append(f"the operator's standing values as they stand today ({len(standing)} of {count} market(s))")
    bare = wanted - replayed - standing
    if bare:
        said.append(f"{len(bare)} of {count} market(s) had no fair value at all: the strategy could not trade there")
    short = False
    if kind == ENSEMBLE.kind:
        least = int(params.get("min_sources", _default(ENSEMBLE.kind, "min_sources")))
        most = held.most_sources if held is not None else 0
        short = most < least
        said.append(f"at most {most} source(s) were in force at once in any market, "
                    + (f"fewer than its minimum of {least}: it could not trade" if short else
                       f"its minimum {least} judged on those"))
    return "; ".join(said), bool(bare) or short


def _default(kind: str, name: str) -> Any:
    return next(spec.default for spec in kinds()[kind].params_schema if spec.name == name)
