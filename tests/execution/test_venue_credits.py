"""What a ledger books of the venue's credits (engine/execution/credits.py): only its own (its mode
and its venue), only what was paid from the second its cash began, every such credit of the list
whatever comes before it, and a redemption's one outcome only in a market that redeems one outcome
at a time (Protocol V2); any other redemption burned both. And each credit booked tells the
operator what it was, in the alert it is written with."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from contracts.domain import MarketInfo
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi.ids import market_id
from engine.execution import claims
from engine.execution.credits import OVERLAP_MS, book_venue_credits, window
from engine.execution.credits import _alert as alert_of
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.venues.settlement import VenueCredit
from storage.engine_stores import claims_store, execution_ledger
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.execution.fakes import SH

# The ledger's cash began half a second into its second 1,000: chosen so that a second counted
# in any other unit (1,001 ms) falls elsewhere.
START = 1_000_500
V1 = MarketInfo(condition_id="c1", question="c1?", yes_token="Y1", no_token="N1", tick=10_000, min_size=5 * SH)
V2 = MarketInfo(condition_id="c2", question="c2?", yes_token="Y2", no_token="N2", tick=10_000, min_size=5 * SH,
                protocol_v2=True)


class PaidList:
    """A venue's list of credits as it stands, not cut at the time asked for: what the ledger
    skips, it skips itself."""

    def __init__(self, credits: list[VenueCredit]):
        self.paid = credits

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        return list(self.paid)


def ledger(tmp_path: Path, venue: str = POLYMARKET) -> Executor:
    path = tmp_path / "credits.db"
    migrate(path)
    return Executor(Database(path), SimpleNamespace(events=asyncio.Queue()), MarketCatalog([V1, V2]),
                    mode="paper", clock=lambda: START + 60_000, venue_name=venue)


def entry(ex: Executor, *, kind: str, ref: str, at: int, mode: str = "paper", venue: str | None = None) -> None:
    with ex.tx() as conn:
        execution_ledger.add_cash_entry(conn, mode=mode, kind=kind, amount=SH, ref=ref, note=None, now=at,
                                        venue=venue or ex.venue_name)


@pytest.mark.parametrize("venue", [POLYMARKET, KALSHI])
def test_the_window_opens_with_the_ledgers_own_deposit_and_rereads_a_day_before_its_newest_credit(
        tmp_path: Path, venue: str) -> None:
    ex = ledger(tmp_path, venue)
    other = KALSHI if venue == POLYMARKET else POLYMARKET
    entry(ex, kind="deposit", ref="initial", at=100, mode="live")
    entry(ex, kind="deposit", ref="initial", at=200, venue=other)
    assert window(ex) is None  # another mode's or venue's cash is not this ledger's
    entry(ex, kind="deposit", ref="initial", at=START)
    assert window(ex) == (START, START)
    late = START + OVERLAP_MS + 9_000
    entry(ex, kind="rebate", ref="0xlive", at=late, mode="live")
    entry(ex, kind="rebate", ref="0xother", at=late, venue=other)
    assert window(ex) == (START, START)
    entry(ex, kind="rebate", ref="0xsoon", at=START + OVERLAP_MS - 1)
    assert window(ex) == (START, START)  # a day before that credit is before the cash began
    entry(ex, kind="reward", ref="0xlate", at=START + OVERLAP_MS + 7_000)
    assert window(ex) == (START, START + 7_000)


def test_credits_paid_before_the_ledgers_first_second_or_to_another_venue_are_skipped_and_the_rest_booked(
        tmp_path: Path) -> None:
    ex = ledger(tmp_path)
    entry(ex, kind="deposit", ref="initial", at=START)
    cash = ex.state.cash
    paid = [VenueCredit("rebate", 1 * SH, "0xearly", 999_999, None),  # the second before: in the deposit
            VenueCredit("redeem", 2 * SH, "0xkalshi", START, market_id("KXTEST-26"), 2 * SH),  # Kalshi's ledger's
            VenueCredit("rebate", 3 * SH, "0xsame", 1_000_000, None),  # the venue counts seconds: the start's
            VenueCredit("reward", 4 * SH, "0xlater", START + 1_000, None)]
    booked = asyncio.run(book_venue_credits(ex, PaidList(paid)))
    assert [b.credit.tx_hash for b in booked] == ["0xsame", "0xlater"]
    assert ex.state.cash == cash + 7 * SH
    with ex.db.read() as conn:
        assert {r[0] for r in conn.exec_driver_sql("SELECT ref FROM cash_ledger WHERE kind != 'deposit'")} == {
            "0xsame", "0xlater"}


def test_a_redemption_names_its_one_outcome_only_in_a_market_that_redeems_one_at_a_time(tmp_path: Path) -> None:
    ex = ledger(tmp_path)
    entry(ex, kind="deposit", ref="initial", at=START)
    paid = [VenueCredit("redeem", 1 * SH, "0xv1", START, "c1", SH, token_id="Y1"),
            VenueCredit("redeem", 1 * SH, "0xv2", START, "c2", SH, token_id="Y2"),
            VenueCredit("redeem", 1 * SH, "0xboth", START, "c2", SH)]
    booked = asyncio.run(book_venue_credits(ex, PaidList(paid)))
    assert [(b.credit.tx_hash, b.credit.token_id) for b in booked] == [("0xv1", None), ("0xv2", "Y2"),
                                                                        ("0xboth", None)]
    with ex.db.read() as conn:
        assert sorted(r[0] for r in conn.exec_driver_sql("SELECT ref FROM cash_ledger WHERE kind = 'redemption'")) \
            == ["0xboth:c2", "0xv1:c1", "0xv2:c2:Y2"]


CID = "0x5e1ec7ed0fc0ffee"  # where: its first 14 characters
TOLD = [
    (VenueCredit("rebate", 1_250_000, "0xr", START), claims.Booking(True, 1_250_000),
     ("info", "MAKER_REBATE", "the venue paid a maker rebate of 1.25 pUSD (booked as cash)")),
    (VenueCredit("reward", 2 * SH, "0xw", START), claims.Booking(True, 2 * SH),
     ("info", "LIQUIDITY_REWARD", "the venue paid 2 pUSD of liquidity rewards (booked as cash)")),
    (VenueCredit("redeem", 3 * SH, "0xu", START, CID), claims.Booking(True, 3 * SH),
     ("warning", "CREDIT_UNCLAIMED", "the venue paid 3 pUSD for a redemption in market 0x5e1ec7ed0fc0… the "
                                     "ledger owed nothing for (shares held outside the engine?): booked as cash")),
    (VenueCredit("merge", 3 * SH, "0xu", START, CID), claims.Booking(True, 3 * SH),
     ("warning", "CREDIT_UNCLAIMED", "the venue paid 3 pUSD for a merge in market 0x5e1ec7ed0fc0… the "
                                     "ledger owed nothing for (shares held outside the engine?): booked as cash")),
    (VenueCredit("redeem", 4 * SH, "0xm", START, CID), claims.Booking(True, 4 * SH, 4_500_000, 1),
     ("warning", "REDEMPTION_MISMATCH", "the redemption in market 0x5e1ec7ed0fc0… paid 4 pUSD where the ledger "
                                        "expected 4.5: the cash booked is what the venue paid")),
    (VenueCredit("redeem", 5 * SH, "0xp", START, CID), claims.Booking(True, 5 * SH, 5 * SH, 2),
     ("info", "REDEEMED", "the venue paid 5 pUSD for the redemption in market 0x5e1ec7ed0fc0…: now cash")),
    (VenueCredit("merge", 5 * SH, "0xp", START, CID), claims.Booking(True, 5 * SH, 5 * SH, 2),
     ("info", "MERGED", "the venue paid 5 pUSD for the merge in market 0x5e1ec7ed0fc0…: now cash")),
    (VenueCredit("redeem", 3 * SH, "0xn", START), claims.Booking(True, 3 * SH),  # a payment naming no market
     ("warning", "CREDIT_UNCLAIMED", "the venue paid 3 pUSD for a redemption the ledger owed nothing for (shares "
                                     "held outside the engine?): booked as cash")),
]


CASE_IDS = [f"{told[1]}-{credit.kind}" + ("" if credit.condition_id else "-no-market") for credit, _, told in TOLD]


@pytest.mark.parametrize(("credit", "booking", "told"), TOLD, ids=CASE_IDS)
def test_each_credit_booked_tells_the_operator_what_it_was(tmp_path: Path, credit: VenueCredit,
                                                           booking: claims.Booking, told: tuple[str, str, str]) -> None:
    ex = ledger(tmp_path)
    with ex.tx() as conn:
        alert_of(conn, credit, booking)
    with ex.db.read() as conn:
        assert list(conn.exec_driver_sql("SELECT level, source, code, message FROM alerts")) == [
            (told[0], "venue", told[1], told[2])]


def test_a_redemption_of_nothing_owed_that_paid_nothing_tells_nothing(tmp_path: Path) -> None:
    ex = ledger(tmp_path)
    with ex.tx() as conn:
        alert_of(conn, VenueCredit("redeem", 0, "0x0", START, CID), claims.Booking(True))
    with ex.db.read() as conn:
        assert list(conn.exec_driver_sql("SELECT code FROM alerts")) == []


def test_a_redemption_booked_turns_what_was_owed_into_cash(tmp_path: Path) -> None:
    ex = ledger(tmp_path)
    entry(ex, kind="deposit", ref="initial", at=START)
    with ex.tx() as conn:
        claims_store.add_claim(conn, mode="paper", kind="redeem", condition_id="c1", strategy="s", token_id=None,
                               amount=4 * SH, ref="c1:s:Y1", now=START)
    ex.load()
    cash, owed = ex.state.cash, ex.state.redeemable
    assert owed == 4 * SH
    asyncio.run(book_venue_credits(ex, PaidList([VenueCredit("redeem", 4 * SH, "0xpaid", START, "c1", 4 * SH)])))
    assert (ex.state.cash, ex.state.redeemable) == (cash + 4 * SH, 0)
    asyncio.run(book_venue_credits(ex, PaidList([VenueCredit("redeem", 4 * SH, "0xpaid", START, "c1", 4 * SH)])))
    assert (ex.state.cash, ex.state.redeemable) == (cash + 4 * SH, 0)  # read again: booked once


def test_the_venues_list_is_read_again_from_one_day_before_the_newest_credit(tmp_path: Path) -> None:
    ex = ledger(tmp_path)
    entry(ex, kind="deposit", ref="initial", at=START)
    entry(ex, kind="reward", ref="0xlate", at=START + 3 * 86_400_000)
    assert window(ex) == (START, START + 2 * 86_400_000)


def test_each_credit_booked_is_logged_with_what_it_paid(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ex = ledger(tmp_path)
    entry(ex, kind="deposit", ref="initial", at=START)
    with caplog.at_level(logging.INFO, logger="engine.credits"):
        asyncio.run(book_venue_credits(ex, PaidList([VenueCredit("redeem", 2 * SH, "0xlog", START, "c1", 2 * SH)])))
    [record] = [r for r in caplog.records if r.name == "engine.credits"]
    assert record.getMessage() == "venue credit booked"
    assert [getattr(record, k) for k in ("kind", "amount", "condition_id", "tx", "claimed")] == [
        "redeem", 2 * SH, "c1", "0xlog", 0]
