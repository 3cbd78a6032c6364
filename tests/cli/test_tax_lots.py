"""`python -m engine tax-lots`: a year's realized gains per lot from a real SQLite ledger written by the
executor (paper venue fills with taker fees, a resolution won and one lost, a Kalshi market's fills and
its void refund), as a CSV with Form 8949's columns: FIFO lots, fees in the basis and off the proceeds,
each row's dollars exact to the cent from the ledger's micro-units."""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from contracts.domain import Intent, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from contracts.payouts import Payouts
from engine.execution import claims, store
from engine.venues.base import TradeStatus
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p
from tests.execution.test_executor import quote, step
from tests.helpers import isolated_env, run_cli

DAY = 86_400_000
KALSHI_CID, KALSHI_YES = "kalshi:RAIN-26", "kalshi:RAIN-26:yes"


def _next_day(desk: Desk) -> None:
    desk.clock.advance(DAY)
    desk.venue.advance()  # the paper venue settles its fills (a sale needs settled shares)
    desk.settle()


def _kalshi_fill(desk: Desk, n: int, side: Side, price: float, shares: int, fee: int) -> None:
    """A Kalshi ledger's order and fill, written as the executor writes them (its rows carry the venue)."""
    with desk.executor.tx() as conn:
        order = store.insert_order(conn, client_id=f"k{n}", venue_order_id=f"kv{n}", mode="paper", strategy="k",
                                   condition_id=KALSHI_CID, token_id=KALSHI_YES, outcome=Outcome.YES, side=side,
                                   price=p(price), size=shares * SH, tif=Tif.GTC, post_only=False, payload=None,
                                   reason="kalshi", now=desk.clock(), status=OrderStatus.FILLED, filled=shares * SH)
        store.write_fill(conn, store.FillWrite(f"kt{n}", order, p(price), shares * SH, fee, "TAKER",
                                                TradeStatus.CONFIRMED, desk.clock()), desk.clock())


def _ledger(tmp_path: Path) -> tuple[Path, int]:
    """The desk's paper ledger over four days of November 2023; returns its path and the first day's time."""
    desk = make_desk(tmp_path / "trader.db", fee_rate_ppm=20_000)
    start = desk.clock()
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    desk.books.set("Y2", bids=[(0.28, 100)], asks=[(0.30, 100)])
    step(desk, Intent("v", "c1", (quote(Side.BUY, 0.50, 10, Tif.FAK),), "edge"))  # lot 1
    step(desk, Intent("v", "c2", (quote(Side.BUY, 0.30, 6, Tif.FAK),), "edge"))
    _kalshi_fill(desk, 1, Side.BUY, 0.40, 4, 10_000)
    _next_day(desk)
    desk.books.set("Y1", bids=[(0.50, 100)], asks=[(0.52, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.52, 10, Tif.FAK),), "edge"))  # lot 2, another strategy's
    _next_day(desk)
    desk.books.set("Y1", bids=[(0.60, 100)], asks=[(0.62, 100)])
    step(desk, Intent("v", "c1", (quote(Side.SELL, 0.60, 10, Tif.FAK),), "take profit"))  # all of lot 1
    _kalshi_fill(desk, 2, Side.SELL, 0.45, 1, 10_000)
    _next_day(desk)
    desk.executor.applier.settle_market("c1", Payouts.won_by(Outcome.YES))  # lot 2 resolves at 1
    desk.executor.applier.settle_market("c2", Payouts.won_by(Outcome.NO))  # c2's YES expires worthless
    with desk.executor.tx() as conn:  # Kalshi voids its market: the 3 contracts left paid back at 0.41
        tx_id = claims.tx_opened(conn, mode="paper", kind="redeem", condition_id=KALSHI_CID, amount=0, actor="kalshi",
                                 now=desk.clock())
        claims.record_refund(conn, mode="paper", tx_id=tx_id, condition_id=KALSHI_CID, now=desk.clock(),
                             legs=[claims.RefundLeg("k", KALSHI_YES, Outcome.YES, 3 * SH, p(0.41))])
    desk.db.dispose()
    return tmp_path / "trader.db", start


def _dollars(micro: int) -> str:
    return str((Decimal(micro) / 10**6).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _fills(path: Path) -> dict[tuple[str, int], tuple[int, int, int]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return {(token, i): (price * size // 10**6, fee, size) for i, (token, price, size, fee) in enumerate(
            conn.execute("SELECT token_id, price, size, fee FROM fills ORDER BY matched_at, id"))}


def test_the_export_lists_each_lot_fifo_with_fees_and_every_kind_of_disposition(tmp_path: Path) -> None:
    path, start = _ledger(tmp_path)
    env = isolated_env(tmp_path)
    done = run_cli(["tax-lots", "--year", "2023", "--mode", "paper", "--out", str(tmp_path / "lots.csv")], env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "lots.csv").read_text())))
    assert list(rows[0])[:6] == ["Description of property", "Date acquired", "Date sold or disposed of", "Proceeds",
                                 "Cost or other basis", "Gain or (loss)"]
    fills = list(_fills(path).values())  # in match order: c1 lot 1, c2, Kalshi buy, c1 lot 2, c1 sale, Kalshi sale
    lot1, c2_buy, k_buy, lot2, sale, k_sale = fills
    got = [(r["Date acquired"], r["Date sold or disposed of"], r["Disposition"], r["Shares"], r["Proceeds"],
            r["Cost or other basis"], r["Gain or (loss)"], r["Venue"]) for r in rows]
    k_basis = k_buy[0] + k_buy[1]  # 4 contracts at 0.40 and the fee: a quarter of it sold, three paid back
    assert got == [  # by date sold, then acquired, then venue
        ("11/14/2023", "11/16/2023", "sale", "1", _dollars(k_sale[0] - k_sale[1]), _dollars(k_basis // 4),
         f"{Decimal(_dollars(k_sale[0] - k_sale[1])) - Decimal(_dollars(k_basis // 4)):.2f}", "Kalshi"),
        ("11/14/2023", "11/16/2023", "sale", "10", _dollars(sale[0] - sale[1]), _dollars(lot1[0] + lot1[1]),
         f"{Decimal(_dollars(sale[0] - sale[1])) - Decimal(_dollars(lot1[0] + lot1[1])):.2f}", "Polymarket"),
        ("11/14/2023", "11/17/2023", "refund: voided or settled at a value (0.41 a share)", "3", "1.23",
         _dollars(k_basis - k_basis // 4), f"{Decimal('1.23') - Decimal(_dollars(k_basis - k_basis // 4)):.2f}",
         "Kalshi"),
        ("11/14/2023", "11/17/2023", "resolution (expired worthless)", "6", "0.00", _dollars(c2_buy[0] + c2_buy[1]),
         f"-{_dollars(c2_buy[0] + c2_buy[1])}", "Polymarket"),
        ("11/15/2023", "11/17/2023", "resolution (paid 1.00 a share)", "10", "10.00", _dollars(lot2[0] + lot2[1]),
         f"{Decimal('10.00') - Decimal(_dollars(lot2[0] + lot2[1])):.2f}", "Polymarket"),
    ]
    assert all(r["Term"] == "short" for r in rows)
    assert rows[1]["Description of property"] == "10 YES shares: c1 (Polymarket)"
    assert "5 lot rows for 2023 (paper, UTC dates)" in done.stderr and start // 1000 == 1_700_000_000


def test_another_year_or_the_live_ledger_lists_nothing_and_a_bad_year_is_refused(tmp_path: Path) -> None:
    _ledger(tmp_path)
    env = isolated_env(tmp_path)
    later = run_cli(["tax-lots", "--year", "2024", "--mode", "paper"], env)
    assert later.returncode == 0 and later.stdout.splitlines()[1:] == []
    assert "No paper dispositions in 2024 (UTC)." in later.stderr
    live = run_cli(["tax-lots", "--year", "2023"], env)  # live by default: the paper desk's lots are not in it
    assert live.returncode == 0 and live.stdout.startswith('"Description of property",') and len(
        live.stdout.splitlines()) == 1
    bad = run_cli(["tax-lots", "--year", "23"], env)
    assert bad.returncode == 2 and "year must be between 2,020 and 2,099" in bad.stderr
    assert "FIRST IN, FIRST OUT" in run_cli(["tax-lots", "--help"], env).stdout
