"""`python -m engine import-history --pmxt FILE_OR_FOLDER --market ID[,ID...]`: the PMXT archive's
books of some markets into this desk's recording, as a named session a backtest replays.

The archive's rows (engine/venues/polymarket/pmxt.py) are sorted by time in a scratch SQLite file beside
the desk's database (storage/research/sort_scratch.py: the archive is sorted by market and token, a
replay needs time order, and the file keeps memory flat whatever the files' size), written out as
a session file and
imported through the one session import (storage/research/session_files.py): the same checks of
every market and tick, all or nothing, repeats dropped, a market the desk lists never replaced.
Each market's metadata (question, tokens, tick, minimum size, neg-risk, fees) comes from Gamma at
import time, or from a file of Gamma market objects; so does how it ended, when it has (its payouts and
when it closed: engine/feeds/parse_markets.py `gamma_resolution`), kept for a backtest to settle at
(storage/research/market_resolutions.py). A market Gamma shows unresolved has no known end: the trader
may give it (`python -m engine resolutions set`), or a backtest says none was known.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.resolutions import Resolution
from engine.feeds.newest_first import ListingMoved, read_newest_first
from engine.venues.polymarket.discovery import market_row
from engine.venues.polymarket.parse_markets import clob_market_fees, gamma_market, gamma_resolution
from engine.venues.polymarket.pmxt import PmxtError, PmxtReport, archive_files, hour_before_hint, read_ticks
from engine.venues.polymarket.pmxt_rows import RowState, Tick, trade_tick
from engine.venues.polymarket.rest import RestClient
from storage.research import market_resolutions
from storage.research.recording_sessions import Session
from storage.research.session_files import FORMAT, VERSION, import_session
from storage.research.session_history import tick_sizes_in_span
from storage.research.sort_scratch import add_lines, lines_by_time
from storage.sqlite.db import Database, now_ms

Listed = tuple[list[dict[str, Any]], list[Resolution]]  # the markets' rows, and how those that ended did


async def gamma_markets(gamma_host: str, condition_ids: Sequence[str]) -> Listed:
    """Each market's row from Gamma as discovery would store it (open or closed: an archive hour
    is usually of a market that has since closed), and how each that resolved ended."""
    client = RestClient(gamma_host)
    found: list[dict[str, Any]] = []
    ended: list[Resolution] = []
    try:
        for cid in condition_ids:
            items: list[Any] = []
            for closed in ("false", "true"):
                answer = await client.get_json("/markets", {"condition_ids": cid, "closed": closed}, family="gamma")
                items += answer if isinstance(answer, list) else []
            found.append(_row(cid, items, "Gamma"))
            ended += _ended(cid, items)
    finally:
        await client.close()
    return found, ended


async def with_fees(clob_host: str, markets: list[dict[str, Any]], *, required: bool) -> list[str]:
    """Each market's fee rate and exponent (and the CLOB's tick, minimum size, neg-risk) from the
    CLOB's `/clob-markets/{id}`, written into its row; returns the markets whose fees could not be
    read. `required`: such a market refuses the import (a backtest would charge it no fee)."""
    client = RestClient(clob_host)
    unknown = []
    try:
        for market in markets:
            cid = market["condition_id"]
            try:
                fees = clob_market_fees(await client.get_json(f"/clob-markets/{cid}"))
            except Exception as exc:  # the CLOB's own words: a 404 for a market it forgot, a timeout
                if required:
                    raise PmxtError(f"market {cid}: the CLOB's fees for it cannot be read ({str(exc)[:200]}); a "
                                    "backtest without them would charge no fee") from None
                unknown.append(cid)
                continue
            market.update(fee_rate_ppm=fees.fee_rate_ppm, fee_exponent=fees.fee_exponent, fees_at=now_ms(),
                          tick=fees.tick, min_size=fees.min_size, neg_risk=int(fees.neg_risk))
    finally:
        await client.close()
    return unknown


def file_markets(path: Path, condition_ids: Sequence[str]) -> Listed:
    """The markets' rows from a file holding Gamma market objects (a JSON list, as Gamma's
    `/markets` answers), and how each that resolved ended."""
    items = _json_list(path, "Gamma market objects (as Gamma's /markets answers)")
    rows = [_row(cid, items, path.name) for cid in condition_ids]
    return rows, [found for cid in condition_ids for found in _ended(cid, items)]


def _ended(cid: str, items: list[Any]) -> list[Resolution]:
    """How the market ended, as its Gamma object says ([] while it has not)."""
    for item in items:
        if isinstance(item, dict) and (item.get("conditionId") or item.get("condition_id")) == cid:
            found = gamma_resolution(item)
            if found is not None:
                return [found]
    return []


def _row(cid: str, items: list[Any], source: str) -> dict[str, Any]:
    for item in items:
        if isinstance(item, dict) and (item.get("conditionId") or item.get("condition_id")) == cid:
            try:
                market = gamma_market(item)
            except (ValueError, TypeError, KeyError) as exc:
                raise PmxtError(f"market {cid}: {source}'s answer cannot be read ({str(exc)[:200]})") from None
            if market is None or len(market.token_ids) < 2:
                raise PmxtError(f"market {cid}: {source} gives no question and token pair for it")
            return market_row(market, now_ms())
    raise PmxtError(f"market {cid}: {source} does not know it (give its metadata with --markets-file: a JSON "
                    "list of Gamma market objects)")


TRADES_PAGE = 1_000  # rows a /trades page (the Data API allows up to 10,000)
TRADES_MAX_OFFSET = 10_000  # the Data API's v1 /trades serves no deeper page


async def public_trades(data_api_host: str, condition_ids: Sequence[str], span: tuple[int, int],
                        progress: Callable[[int], None] | None = None) -> list[Any]:
    """The markets' public trades inside `span` (epoch ms) from the Data API's v1 `/trades`,
    newest first, a page at a time until one reaches before the span. Its pages stop at offset
    10,000: a span older than a market's newest ~10,500 trades (each page re-reads 50 of the one
    before: engine/feeds/newest_first.py) is refused (give a --trades file)."""
    client = RestClient(data_api_host)
    found: list[Any] = []
    try:
        for cid in condition_ids:
            found += await _market_trades(client, cid, span)
            if progress is not None:
                progress(len(found))
    finally:
        await client.close()
    return found


async def _market_trades(client: RestClient, cid: str, span: tuple[int, int]) -> list[Any]:
    start_s, end_s = span[0] // 1000, -(-span[1] // 1000)

    async def page(offset: int) -> list[Any]:
        params = {"market": cid, "takerOnly": "true", "limit": TRADES_PAGE, "offset": offset}
        try:
            rows = await client.get_json("/trades", params, family="data_api")
        except Exception as exc:  # the Data API's own words: a 4xx, a 5xx after retries, a timeout
            raise PmxtError(f"market {cid}: the Data API's public trades cannot be read ({str(exc)[:200]})") from None
        if not isinstance(rows, list):
            raise PmxtError(f"market {cid}: the Data API's /trades answered something that is not a list of trades")
        return rows

    def before_the_span(rows: list[Any]) -> bool:
        return any(isinstance(t, dict) and isinstance(t.get("timestamp"), int) and t["timestamp"] < start_s
                   for t in rows)

    try:  # a busy market trades while it is read: its pages are pieced together, no trade read twice
        listing = await read_newest_first(page, TRADES_PAGE, TRADES_MAX_OFFSET, before_the_span)
    except ListingMoved as exc:
        raise PmxtError(f"market {cid}: the Data API's public trades cannot be read whole: {exc}") from None
    if not listing.complete:
        start = datetime.fromtimestamp(start_s, UTC).strftime("%Y-%m-%d %H:%M")
        raise PmxtError(f"market {cid}: the Data API's /trades reaches back only {len(listing.rows):,} trades, "
                        f"all after these files' start ({start} UTC): give the span's trades with --trades FILE")
    return [t for t in listing.rows if not isinstance(t, dict) or not isinstance(t.get("timestamp"), int)
            or start_s <= t["timestamp"] <= end_s]  # the malformed ones too: the import counts them


def trades_file(path: Path) -> list[Any]:
    """Public trades as the Data API's `/trades` answers them (a JSON list)."""
    return _json_list(path, "trades (as the Data API's /trades answers)")


def _json_list(path: Path, what: str) -> list[Any]:
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PmxtError(f"{path}: not a readable JSON list of {what} ({str(exc)[:200]})") from None
    if not isinstance(items, list):
        raise PmxtError(f"{path}: not a JSON list of {what}")
    return items


def import_pmxt(db: Database, path: Path | list[Path], markets: list[dict[str, Any]], *, actor: str,
                name: str | None = None,
                trades: list[Any] | Callable[[tuple[int, int]], list[Any]] | None = None,
                progress: Callable[[int], None] | None = None,
                ended: Sequence[Resolution] = ()) -> tuple[Session, int, PmxtReport]:
    """Import the archive's rows of `markets` (their stored rows) as one session, with `trades`
    (the Data API's public trades, for files that hold none; or what fetches them for the files'
    span) beside them, and how those that ended did (`ended`, the venue's record: kept unless the desk
    knows the market's end already); returns the session, the ticks imported and what was read and left
    out. All or nothing."""
    files = archive_files(path) if isinstance(path, Path) else path
    tokens = {m[side]: m["condition_id"] for m in markets for side in ("yes_token", "no_token")}
    report, state = PmxtReport(), RowState(tokens)
    with tempfile.TemporaryDirectory(prefix=".pmxt-", dir=db.path.parent) as scratch:
        folder = Path(scratch)
        span = _sorted(folder / "sort.db", read_ticks(files, state, report, progress))
        archive_prints = state.prints_seen
        if span is not None and trades is not None:
            listed = trades(span) if callable(trades) else trades
            if listed:
                _sorted(folder / "sort.db", _trade_ticks(listed, tokens, span, state, report))
        if span is None:
            hint = hour_before_hint(report)
            raise PmxtError(f"no row of {', '.join(sorted(set(tokens.values())))} that this desk can read in "
                            f"{len(files)} file(s): {json.dumps(dict(report.bad)) if report.bad else 'none of them'}"
                            + (f"; {hint}" if hint else ""))
        session_file = folder / "session.jsonl.gz"
        shown = name or "pmxt " + datetime.fromtimestamp(span[0] / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        history = _history(report, state, archive_prints, trades is not None, span)
        _write_session(session_file, folder / "sort.db", shown, markets, span, report, files, history)
        session, imported = import_session(db, session_file, actor=actor, name=shown)
    if ended:
        with db.write() as conn:
            market_resolutions.keep(conn, ended, by=actor)
    return session, imported, report


def _trade_ticks(trades: list[Any], tokens: dict[str, str], span: tuple[int, int], state: RowState,
                 report: PmxtReport) -> Iterator[Tick]:
    for trade in trades:
        tick = trade_tick(trade, tokens, span, state)
        if tick is not None:
            report.ticks += 1
            yield tick


def _history(report: PmxtReport, state: RowState, archive_prints: int, trades_given: bool,
             span: tuple[int, int]) -> dict[str, Any]:
    """What the session's history is, for every result that replays it to state: the archive's
    layouts, where its prints came from (the archive's own, the Data API's, or none: book-only),
    the hours missing, and the tick sizes in force (session_history.tick_sizes_in_span: the tick at the
    span's start, from a change before it or after it, and each change inside at its time)."""
    prints = "archive" if archive_prints else "data_api" if trades_given and state.prints_seen else "none"
    return {"source": "pmxt", "layouts": sorted(report.layouts), "prints": prints,
            "print_fees": state.fees_seen, "gaps": [list(g) for g in report.gaps],
            "tick_sizes": tick_sizes_in_span(state.tick_changes, span)}  # a change after the span's end too


def _sorted(scratch: Path, ticks: Iterator[Tick]) -> tuple[int, int] | None:
    """The ticks into the scratch file, keyed by (time, arrival); the span of all it holds."""
    return add_lines(scratch, ((tick[0], _line(tick)) for tick in ticks))


def _utc(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _line(tick: Tick) -> str:
    return json.dumps(list(tick), separators=(",", ":"))


def _write_session(out: Path, scratch: Path, name: str, markets: list[dict[str, Any]], span: tuple[int, int],
                   report: PmxtReport, files: list[Path], history: dict[str, Any]) -> None:
    left_out = ", ".join(f"{n:,} {why}" for why, n in report.bad.most_common()) or "none"
    gaps = "; ".join(f"{_utc(a)} to {_utc(b)}" for a, b in report.gaps)
    notes = (f"Imported from the PMXT archive ({'/'.join(sorted(report.layouts))}): {len(files)} file(s) "
             f"({files[0].name} to {files[-1].name}); prints: {history['prints']}; "
             f"{report.ticks:,} ticks of {report.rows:,} rows; "
             + (f"missing (books reset): {gaps}; " if gaps else "") + f"left out: {left_out}")[:2000]
    header = {"format": FORMAT, "version": VERSION,
              "session": {"name": name, "notes": notes, "started_at": span[0], "stopped_at": span[1],
                          "markets": sorted(m["condition_id"] for m in markets), "history": history},
              "markets": markets}
    with gzip.open(out, "wt", encoding="utf-8") as lines:
        lines.write(json.dumps(header, separators=(",", ":")) + "\n")
        for line in lines_by_time(scratch):
            lines.write(line + "\n")
