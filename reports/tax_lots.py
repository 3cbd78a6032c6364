"""The tax-lot export: one year's realized gains per lot, both venues, as a CSV with Form 8949's columns
(`python -m engine tax-lots`, and the Orders page's download build the same file from here).

Each row is one lot's part in one disposition, matched first in, first out (contracts/tax_lots.py
says the rule and its arithmetic): its description, date acquired, date sold, proceeds, cost basis
and gain or (loss), fees included (a purchase's fee is in its basis, a sale's is taken off its
proceeds), then whether it was held short or long term (Part I or II), how it was disposed of, the
venue, the shares, the market and the token. What counts as a disposition:

- a sale (a SELL fill);
- a resolution: the market resolved and the ledger closed what it held at the payout, on that day
  (proceeds: a share's payout; a losing side's are 0, a loss of its whole basis). The redemption that
  later pays the cash is not a second disposition: it collects what the resolution realized;
- a merge of complete YES+NO sets, or a venue's net of YES with NO (Kalshi's): each side's shares at
  its share of the dollar a set pays;
- a refund: a market the venue voided (paid back at cost) or settled at a value: the shares at what
  the venue paid back.

Rebates and rewards are income, not dispositions: they are not in this file. Dates are UTC days
(MM/DD/YYYY, as the form prints them); amounts are dollars (pUSD, 1 to the dollar, on Polymarket) with
two decimals, a loss with a minus sign, each rounded carrying the remainder so that a disposition's rows
add up to what it paid, and a lot's to what it cost, to the cent (contracts/tax_lots.py).

The file opens in a spreadsheet as data (contracts/spreadsheet_csv.py): every field quoted, a question's
line breaks kept inside its cell, a cell that could read as a formula (a question, a market or token id
from a listing starting with =, +, -, @, ...) marked as text with a leading apostrophe; the amounts and
shares, plain decimal numbers, stay numbers (a loss too: "-12.05").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts import spreadsheet_csv
from contracts.domain import ONE, fmt, notional
from contracts.tax_lots import Acquired, Disposed, LotSale, day, dollars, long_term, match_fifo
from contracts.venues import KALSHI, LABELS
from storage.desk.tax_history import LedgerHistory, ledger_history
from storage.sqlite.db import Database

COLUMNS = ("Description of property", "Date acquired", "Date sold or disposed of", "Proceeds",
           "Cost or other basis", "Gain or (loss)", "Term", "Disposition", "Venue", "Shares", "Market", "Token")
RULE = ("lots matched first in, first out per token and ledger (the strategies share one account); fees "
        "included: a purchase's in its basis, a sale's taken off its proceeds")
NO_PURCHASE = "no purchase recorded"


@dataclass(frozen=True)
class TaxRow:
    venue: str
    token_id: str
    condition_id: str
    outcome: str
    sale: LotSale

    @property
    def term(self) -> str:
        if self.sale.acquired_at is None:
            return "unknown"
        return "long" if long_term(day(self.sale.acquired_at), day(self.sale.sold_at)) else "short"


@dataclass(frozen=True)
class TaxExport:
    year: int
    mode: str
    rows: list[TaxRow]
    names: dict[str, str]

    @property
    def unmatched(self) -> int:
        """Rows whose shares the ledger never saw bought."""
        return sum(1 for r in self.rows if r.sale.acquired_at is None)

    def totals(self) -> dict[str, tuple[int, int, int]]:
        """(proceeds, basis, gain) in cents by term, as the rows show them."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in self.rows:
            proceeds, basis = row.sale.proceeds_cents, row.sale.basis_cents
            for term in (row.term, "all"):
                out[term][0] += proceeds
                out[term][1] += basis
                out[term][2] += proceeds - basis
        return {term: (p, b, g) for term, (p, b, g) in out.items()}


def year_bounds(year: int) -> tuple[int, int]:
    """[Jan 1, next Jan 1) of a UTC year, in epoch ms."""
    return (int(datetime(year, 1, 1, tzinfo=UTC).timestamp() * 1000),
            int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp() * 1000))


def tax_export(db: Database, year: int, mode: str = "live") -> TaxExport:
    """The year's dispositions of `mode`'s ledgers, every venue's, one row per lot."""
    start, end = year_bounds(year)
    history = ledger_history(db, mode, end)
    rows = [row for row in _all_rows(history, end) if start <= row.sale.sold_at < end]
    rows.sort(key=lambda r: (r.sale.sold_at, r.sale.acquired_at or 0, r.venue, r.token_id))
    return TaxExport(year, mode, rows, history.names)


def _all_rows(history: LedgerHistory, end: int) -> Iterator[TaxRow]:
    by_token: dict[tuple[str, str], list[tuple[int, int, int, Acquired | Disposed]]] = defaultdict(list)
    markets: dict[tuple[str, str], tuple[str, str]] = {}
    for fill in history.fills:
        key = (fill.venue, fill.token_id)
        markets[key] = (fill.condition_id, fill.outcome)
        value = notional(fill.price, fill.size)
        event = (Acquired(fill.at, fill.size, value + fill.fee) if fill.side == "BUY"
                 else Disposed(fill.at, fill.size, value - fill.fee, "sale"))
        by_token[key].append((fill.at, 0 if fill.side == "BUY" else 1, fill.id, event))
    for conv in history.conversions:
        key = (conv.venue, conv.token_id)
        markets.setdefault(key, (conv.condition_id, conv.outcome))
        kind = _conversion_kind(conv.tx_kind, conv.venue, conv.price)
        by_token[key].append((conv.at, 2, conv.id, Disposed(conv.at, conv.shares, conv.shares * conv.price // ONE,
                                                             kind)))
    for key, events in by_token.items():
        condition_id, outcome = markets[key]
        ordered = [event for *_, event in sorted(events, key=lambda e: e[:3])]
        ordered = _with_resolution(ordered, history, key[1], condition_id, outcome, end)
        sales, _ = match_fifo(ordered)
        for sale in sales:
            yield TaxRow(key[0], key[1], condition_id, outcome, sale)


def _with_resolution(events: list[Acquired | Disposed], history: LedgerHistory, token_id: str, condition_id: str,
                     outcome: str, end: int) -> list[Acquired | Disposed]:
    """The token's events with its market's resolution among them: what was held then, disposed of at
    the payout. A market the ledger closed without dating it (before migration 0093: a Kalshi market's)
    is closed at what its redeem claims were owed, on the day they were written, else on the day its
    positions last changed, once every position in the token is flat."""
    resolved = history.resolutions.get(condition_id)
    if resolved is not None:
        before = [e for e in events if e.at <= resolved.at]
        after = [e for e in events if e.at > resolved.at]
        held = _held(before)
        if held <= 0:
            return events
        payout = resolved.payout_yes if outcome == "YES" else resolved.payout_no
        return [*before, Disposed(resolved.at, held, held * payout // ONE, _resolution_kind(payout)), *after]
    held = _held(events)
    size, changed_at = history.held.get(token_id, (held, 0))
    if held <= 0 or size != 0:
        return events
    owed, claimed_at = history.claimed.get(token_id, (0, changed_at))
    if claimed_at >= end:
        return events
    return [*events, Disposed(claimed_at, held, owed, "resolution (payout from its redeem claims)")]


def _held(events: list[Acquired | Disposed]) -> int:
    return sum(e.shares if isinstance(e, Acquired) else -e.shares for e in events)


def _resolution_kind(payout: int) -> str:
    if payout == 0:
        return "resolution (expired worthless)"
    return f"resolution (paid {_per_share(payout)} a share)"


def _conversion_kind(tx_kind: str, venue: str, price: int) -> str:
    if tx_kind == "merge":
        what = "netted with the other side" if venue == KALSHI else "merged with the other side"
        return f"{what} ({_per_share(price)} a share)"
    return f"refund: voided or settled at a value ({_per_share(price)} a share)"


def _per_share(micro: int) -> str:
    """A price a share, exact, with at least cents' two decimals ("1.00", "0.4175")."""
    whole, _, part = fmt(micro).partition(".")
    return f"{whole}.{part.ljust(2, '0')}"


def _description(row: TaxRow, names: dict[str, str]) -> str:
    market = names.get(row.condition_id) or row.condition_id
    noun = "share" if row.sale.shares == ONE else "shares"
    text = f"{fmt(row.sale.shares)} {row.outcome} {noun}: {market} ({LABELS.get(row.venue, row.venue)})"
    return f"{text} ({NO_PURCHASE})" if row.sale.acquired_at is None else text


def _date(at_ms: int | None) -> str:
    return "" if at_ms is None else day(at_ms).strftime("%m/%d/%Y")


def csv_bytes(export: TaxExport) -> bytes:
    """The export as a UTF-8 CSV, its header Form 8949's columns and then the lot's details, safe to open in
    a spreadsheet (the module's docstring)."""
    rows = [[_description(row, export.names), _date(row.sale.acquired_at), _date(row.sale.sold_at),
             dollars(row.sale.proceeds_cents), dollars(row.sale.basis_cents), dollars(row.sale.gain_cents), row.term,
             row.sale.kind, LABELS.get(row.venue, row.venue), fmt(row.sale.shares), row.condition_id, row.token_id]
            for row in export.rows]
    return spreadsheet_csv.csv_bytes([list(COLUMNS), *rows])


def summary(export: TaxExport) -> str:
    """What the file holds, in one or two lines (the CLI prints it; the page shows it)."""
    totals = export.totals()
    if not export.rows:
        return f"No {export.mode} dispositions in {export.year} (UTC)."
    parts = [f"{len(export.rows):,} lot rows for {export.year} ({export.mode}, UTC dates)"]
    for term in ("short", "long", "unknown"):
        if term in totals:
            proceeds, basis, gain = totals[term]
            parts.append(f"{term} term: proceeds {dollars(proceeds)}, basis {dollars(basis)}, gain {dollars(gain)}")
    text = "; ".join(parts) + "."
    if export.unmatched:
        text += (f" {export.unmatched} row(s) sold shares with {NO_PURCHASE} (no basis): check them before "
                 "filing.")
    return text
