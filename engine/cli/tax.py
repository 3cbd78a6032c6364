"""`python -m engine tax-lots --year YYYY`: one year's realized gains per lot, both venues, as a CSV with
Form 8949's columns (reports/tax_lots.py builds it; the Orders page downloads the same file).

Only the standard library at the top: the parser is built on every `python -m engine`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contracts.settings import Settings
from engine.cli.args import bounded_int
from engine.cli.errors import EXIT_OK, CliError, open_db

HELP = """One year's realized gains per lot, from both venues' ledgers (Polymarket and Kalshi), as a CSV with
Form 8949's columns: description, date acquired, date sold, proceeds, cost basis, gain or (loss); then
the term (short or long), how it was disposed of, the venue, the shares, the market and the token.

Lots are matched FIRST IN, FIRST OUT per token and ledger (the strategies share one account). Fees are
included: a purchase's fee is in its basis, a sale's is taken off its proceeds. A disposition is a
sale; a resolution (on the day the market resolved, at its payout: a losing side's proceeds are 0; the
later redemption only collects the cash); a merge of YES+NO sets or a venue's net of them (at each
side's share of the dollar); a refund of a voided market (at what the venue paid back). Rebates and
rewards are income, not in this file. Money is computed exactly in micro-units and shown in dollars
(pUSD is 1 to the dollar) with two decimals, each row's gain its shown proceeds less its shown basis.
The cents carry the remainder: the rows of one sale split over several lots add up to what the sale
paid, and the rows of one lot to what it cost, to the cent (a row may differ by a cent from its own
amount rounded alone). Dates are UTC days (MM/DD/YYYY); the year is a UTC year.

The file opens in a spreadsheet as data: every field is quoted (RFC 4180, CRLF line ends), a line
break inside a market's question stays in its cell, and a text cell a spreadsheet could read as a
formula (starting with = + - @, a tab or a carriage return, or their full-width forms) starts with an
apostrophe; amounts and shares are plain numbers, a loss a negative one. Check the file with your tax
adviser."""


def register(sub: argparse._SubParsersAction) -> None:
    tax = sub.add_parser("tax-lots", help="one year's realized gains per lot (FIFO, fees included), both venues, "
                                          "as a CSV with Form 8949's columns",
                         description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    tax.add_argument("--year", type=bounded_int(2020, 2099, "year"), required=True,
                     help="the UTC year whose dispositions to list")
    tax.add_argument("--mode", choices=("live", "paper"), default="live",
                     help="which ledgers (default live: paper trading is no taxable event)")
    tax.add_argument("--out", type=Path, help="write the CSV here (default: standard output)")
    tax.set_defaults(func=cmd_tax_lots)


def cmd_tax_lots(settings: Settings, args: argparse.Namespace) -> int:
    from reports.tax_lots import csv_bytes, summary, tax_export

    export = tax_export(open_db(settings), args.year, args.mode)
    data = csv_bytes(export)
    if args.out is None:
        sys.stdout.buffer.write(data)
    else:
        try:
            args.out.write_bytes(data)
        except OSError as exc:
            raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
        print(f"wrote {args.out}", file=sys.stderr)
    print(summary(export), file=sys.stderr)
    return EXIT_OK
