"""What protects money, pinned by hand-computed figures rather than by the code's own answers:
the last gate check before an order is sent (a kill or stop that lands while the order is being
signed sends nothing), and realized PnL for partial sells, oversells, fees and payouts."""

from __future__ import annotations

from pathlib import Path

from contracts.domain import Intent, Side
from engine.execution.ledger import FillFact, PositionTotals, fold
from engine.venues.base import OrderRequest, PreparedOrder, TradeStatus
from engine.venues.paper import PaperVenue
from tests.desk import Desk, make_desk
from tests.execution.test_executor import quote, step

PUSD = 1_000_000


class KilledWhileSigning(PaperVenue):
    """A paper venue during whose signing the operator's kill closes the desk's order gate."""

    desk: Desk
    sent: int = 0

    async def prepare(self, request: OrderRequest) -> PreparedOrder:
        self.desk.executor.gate.block()  # the kill lands between the intent's commit and the send
        return await super().prepare(request)

    async def submit(self, prepared: PreparedOrder):
        self.sent += 1
        return await super().submit(prepared)

    async def submit_many(self, prepared):
        self.sent += len(prepared)
        return await super().submit_many(prepared)


def test_a_kill_while_the_order_is_signed_sends_nothing(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "g.db", venue_class=KilledWhileSigning)
    desk.venue.desk = desk  # type: ignore[attr-defined]  # the test desk's venue is the scripted one
    desk.books.set("Y1", bids=[(0.38, 100)], asks=[(0.40, 100)])
    step(desk, Intent("mm", "c1", (quote(Side.BUY, 0.39, 10), quote(Side.SELL, 0.45, 10))))
    assert desk.venue.sent == 0  # type: ignore[attr-defined]  # the test desk's venue is the scripted one
    rows = desk.rows("SELECT status, error FROM orders ORDER BY id")
    assert rows and all(error and error.startswith("blocked before sending") for _, error in rows), rows
    assert desk.rows("SELECT COUNT(*) FROM fills") == [(0,)]


def _fill(side: Side, price: str, shares: int, fee: str = "0") -> FillFact:
    return FillFact(side, int(float(price) * PUSD), shares * PUSD, int(float(fee) * PUSD), TradeStatus.CONFIRMED)


def test_realized_pnl_by_hand_for_partial_sells_fees_and_oversells() -> None:
    buy = _fill(Side.BUY, "0.40", 10, fee="0.02")
    # 4 of 10 sold at 0.55: 4 x (0.55 - 0.40) = 0.60 realized; 6 left costing 2.40; fees 0.03.
    assert fold([buy, _fill(Side.SELL, "0.55", 4, fee="0.01")]) == PositionTotals(
        6 * PUSD, 0, 2_400_000, 600_000, 30_000)
    # Bought 3 at 0.10 and 3 at 0.20 (average 0.15), 2 sold at 0.30: 2 x (0.30 - 0.15) = 0.30.
    averaged = [_fill(Side.BUY, "0.10", 3), _fill(Side.BUY, "0.20", 3), _fill(Side.SELL, "0.30", 2)]
    assert fold(averaged) == PositionTotals(4 * PUSD, 0, 600_000, 300_000, 0)
    # 15 sold at 0.60 while 10 are held at 0.40: the 10 close for 6.00 - 4.00 = 2.00 and the 5
    # sold beyond the holding bring 3.00 at no cost; 5 short, costing nothing.
    oversold = fold([_fill(Side.BUY, "0.40", 10), _fill(Side.SELL, "0.60", 15)])
    assert (oversold.size, oversold.cost, oversold.realized) == (-5 * PUSD, 0, 5 * PUSD)
    # Sold with nothing held: all of it is proceeds.
    assert fold([_fill(Side.SELL, "0.70", 2)]).realized == 1_400_000


def test_a_position_closes_at_its_payout_by_hand() -> None:
    fills = [_fill(Side.BUY, "0.40", 10, fee="0.02"), _fill(Side.SELL, "0.55", 4)]
    # 6 left costing 2.40, closed at 0.5 a share (a 50/50): 0.60 + 3.00 - 2.40 = 1.20 realized.
    assert fold(fills, payout=PUSD // 2) == PositionTotals(0, 0, 0, 1_200_000, 20_000)
    assert fold(fills, payout=PUSD).realized == 600_000 + 6 * PUSD - 2_400_000
    assert fold(fills, payout=0).realized == 600_000 - 2_400_000
