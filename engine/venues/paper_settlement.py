"""Paper settlement: redeem and merge against the paper venue's own holdings, as live does.

Paper and live share everything but the venue, so a paper position ends in cash the same
way: resolved (final), it is a claim; the engine redeems it; the paper venue "mines" the
redemption `delay_ms` later, paying 1 pUSD per winning token it holds (both outcomes
burned); the engine books that payment as cash from `credits`, exactly as it books the
live venue's. A merge burns complete YES+NO sets the paper venue holds (not promised to a
resting SELL) and pays 1 pUSD a set. A Protocol V2 market's position is redeemed one outcome at a
time, as its Router does: all the paper venue holds of it, paid at that outcome's payout, the
other outcome left alone. The paper venue has no auto-redeem operator. Its
holdings are its trades (paper_trades) less what these burned; `paper_settlements` keeps
every request, so a restart loses nothing.

It pays maker rebates as the venue's program does: the market's share as the venue lists it
(Gamma's `feeSchedule.rebateRate`, which differs by category and changes; none when not listed) of
the fee a taker paid on each of its maker fills, summed by UTC day, paid at the
day's end once at least 1 pUSD is owed (less waits for a later day). Unlike the venue it
knows no other makers, so the pool is only what its own fills earned: the fills decide it,
and a replay pays the same. Liquidity rewards are paid at each day's end as the desk's rewards
tracker estimated them with the venue's scoring method (`reward_credits`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Connection

from contracts.domain import ONE, MarketInfo, fmt
from contracts.venue_rules import taker_fee
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import VenueError
from engine.venues.settlement import NothingHeld, SettlementTx, VenueCredit
from storage.engine_stores import paper_book as book_store
from storage.engine_stores import paper_settlement_store as store
from storage.engine_stores import reward_queries
from storage.sqlite.db import Database, now_ms

NOT_FINAL = "result for condition not received yet"
DAY_MS = 86_400_000
PPM = 1_000_000
REBATE_MINIMUM = 1_000_000  # micro-pUSD a maker must be owed to be paid


class PaperSettlement:
    def __init__(self, db: Database, catalog: MarketCatalog, *, clock: Callable[[], int] = now_ms,
                 delay_ms: int = 2_000, pays_income: bool = True, new_id: Callable[[], str] | None = None):
        """`pays_income` False: no rebate or reward is paid as a credit (a backtest counts what its run earned
        itself, engine/backtest/income.py: paid as cash too, it would count twice). `new_id`: 32 hex digits
        naming each request (a replay's count, so that the same run gives the same rows; else random)."""
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.delay_ms = delay_ms
        self.pays_income = pays_income
        self.new_id = new_id or (lambda: uuid.uuid4().hex)

    async def close(self) -> None:
        return None

    async def redeem(self, condition_id: str, neg_risk: bool) -> SettlementTx:
        self._same_protocol(condition_id, protocol_v2=False)
        if self.catalog.resolution(condition_id) is None:
            raise VenueError(f"execution reverted: {NOT_FINAL}")
        return self._request("redeem", condition_id, 0)

    def _same_protocol(self, condition_id: str, *, protocol_v2: bool) -> None:
        """A CTF call for a Protocol V2 market reverts, as a Router call for a CTF market does."""
        market = self.catalog.get(condition_id)
        if market is not None and market.protocol_v2 != protocol_v2:
            raise VenueError("execution reverted: condition not prepared (a Protocol V2 market's positions move "
                             "through its Router, a CTF market's through the collateral adapter)")

    async def redeem_position(self, condition_id: str, position_id: str) -> SettlementTx:
        market = self.catalog.get(condition_id)
        if market is None or position_id not in (market.yes_token, market.no_token):
            raise VenueError(f"execution reverted: position {position_id[:12]}… is not one of {condition_id[:14]}…")
        self._same_protocol(condition_id, protocol_v2=True)
        if self.catalog.resolution(condition_id) is None:
            raise VenueError(f"execution reverted: {NOT_FINAL}")
        with self.db.read_own() as conn:
            held = holding(conn, position_id)
        if held <= 0:
            raise NothingHeld(f"the paper venue holds none of position {position_id[:12]}…: redeemed already")
        return self._request("redeem", condition_id, held, position=position_id)

    async def merge(self, condition_id: str, neg_risk: bool, amount: int, protocol_v2: bool = False) -> SettlementTx:
        if amount <= 0:
            raise VenueError("a merge amount must be positive")
        self._same_protocol(condition_id, protocol_v2=protocol_v2)
        return self._request("merge", condition_id, amount)

    async def approve_auto_redeem(self, protocol_v2: bool = False) -> SettlementTx:
        raise VenueError("the paper venue has no auto-redeem operator: paper positions are redeemed by the desk")

    async def auto_redeem_approved(self, protocol_v2: bool = False) -> bool:
        return False

    async def transaction(self, ref: str) -> SettlementTx:
        self.advance()
        with self.db.read_own() as conn:
            row = store.request_state(conn, ref)
        if row is None:
            raise VenueError(f"no paper settlement {ref}")
        return SettlementTx(ref, row["state"], row["tx_hash"], row["error"], via="paper")

    async def credits(self, since_ms: int) -> list[VenueCredit]:
        self.advance()
        with self.db.read_own() as conn:
            rows = store.confirmed_since(conn, since_ms)
            rebates = (rebate_credits(conn, self.catalog, self.clock()) + reward_credits(conn, self.clock())
                       if self.pays_income else [])
        settled = [VenueCredit(r["kind"], r["paid"], r["tx_hash"], r["settled_at"], r["condition_id"], r["burned"],
                               r["position"]) for r in rows if r["kind"] == "merge" or r["burned"]]
        return sorted(settled + [c for c in rebates if c.at_ms >= since_ms], key=lambda c: c.at_ms)

    def _request(self, kind: str, condition_id: str, amount: int, position: str | None = None) -> SettlementTx:
        market = self.catalog.get(condition_id)
        if market is None:
            raise VenueError(f"execution reverted: condition not prepared ({condition_id})")
        ref = f"paper-{kind}-{self.new_id()[:16]}"
        tx_hash = "0x" + self.new_id() * 2
        now = self.clock()
        with self.db.write() as conn:
            store.insert_request(conn, ref=ref, kind=kind, condition_id=condition_id,
                                 yes_token=market.yes_token, no_token=market.no_token, requested=amount,
                                 tx_hash=tx_hash, due_at=now + self.delay_ms, now=now, position=position)
        return SettlementTx(ref, "pending", tx_hash, via="paper")

    def advance(self) -> int:
        """Carry out the requests that are due; returns how many."""
        now = self.clock()
        with self.db.write() as conn:
            due = store.due_requests(conn, now)
            for row in due:
                if row["position"] is not None:
                    self._redeem_position(conn, row["ref"], row["condition_id"], row["position"], row["requested"],
                                          now)
                else:
                    self._carry_out(conn, row["ref"], row["kind"], row["condition_id"], row["requested"], now)
        return len(due)

    def _redeem_position(self, conn: Connection, ref: str, condition_id: str, position: str, requested: int,
                         now: int) -> None:
        """A Protocol V2 redemption of one outcome: `requested` of it burned and paid at its payout."""
        market, payouts = self.catalog.get(condition_id), self.catalog.resolution(condition_id)
        if market is None or payouts is None:
            return _finish(conn, ref, now, error=NOT_FINAL)
        held = holding(conn, position)
        if requested > held:
            return _finish(conn, ref, now, error=f"ERC1155: insufficient balance for transfer (holds {fmt(held)}, "
                                                 f"redeeming {fmt(requested)})")
        yes = position == market.yes_token
        paid = requested * (payouts.yes if yes else payouts.no) // ONE
        return _finish(conn, ref, now, paid=paid, yes=requested if yes else 0, no=0 if yes else requested)

    def _carry_out(self, conn: Connection, ref: str, kind: str, condition_id: str, requested: int, now: int) -> None:
        market = self.catalog.get(condition_id)
        if market is None:
            return _finish(conn, ref, now, error="condition not prepared")
        yes, no = (holding(conn, market.yes_token), holding(conn, market.no_token))
        if kind == "redeem":
            payouts = self.catalog.resolution(condition_id)
            if payouts is None:
                return _finish(conn, ref, now, error=NOT_FINAL)
            paid = (max(0, yes) * payouts.yes + max(0, no) * payouts.no) // ONE  # 1/0, or 0.5/0.5 for a split
            return _finish(conn, ref, now, paid=paid, yes=max(0, yes), no=max(0, no))
        free_yes = yes - _promised(conn, market.yes_token)
        free_no = no - _promised(conn, market.no_token)
        if requested > min(free_yes, free_no):
            return _finish(conn, ref, now, error=f"not enough complete sets to merge {fmt(requested)}: free YES "
                                                 f"{fmt(free_yes)}, NO {fmt(free_no)}")
        return _finish(conn, ref, now, paid=requested, yes=requested, no=requested)


def holding(conn: Connection, token_id: str) -> int:
    """What the paper venue holds of a token: its trades, less what redemptions and merges burned."""
    traded = book_store.traded(conn, token_id)
    return int(traded) - burned(conn, token_id)


def burned(conn: Connection, token_id: str) -> int:
    """Shares of a token that paper redemptions and merges took (the venue no longer holds them)."""
    return store.burned(conn, token_id)


def total_paid(conn: Connection, venue: str) -> int:
    """Everything one venue's paper redemptions and merges paid in."""
    return store.total_paid(conn, venue)


def rebate_share_ppm(market: MarketInfo) -> int:
    """The share of a taker's fee the venue rebates to this market's makers, as its listing names it
    (none counted when it names none: a rebate is income the desk is never to assume)."""
    return market.rebate_share_ppm or 0


def rebates_earned(conn: Connection, catalog: MarketCatalog, after_ms: int, before_ms: int) -> dict[int, int]:
    """UTC day -> the rebate earned by the paper venue's maker fills matched in [after_ms,
    before_ms): the share times the taker's fee, in micro-pUSD * PPM (exact)."""
    rows = book_store.maker_fills(conn, after_ms, before_ms)
    earned: dict[int, int] = defaultdict(int)
    for row in rows:
        market = catalog.by_token(row["token_id"])
        if market is not None and market.fee_rate_ppm > 0:
            fee = taker_fee(row["price"], row["size"], market.fee_rate_ppm, market.fee_exponent)
            earned[row["matched_at"] // DAY_MS] += fee * rebate_share_ppm(market)
    return earned


def rebate_credits(conn: Connection, catalog: MarketCatalog, now_ms: int) -> list[VenueCredit]:
    """Every maker rebate the paper venue has paid by `now_ms` (days that have ended), oldest first."""
    earned = rebates_earned(conn, catalog, 0, now_ms - now_ms % DAY_MS)
    paid, owed = [], 0
    for day in sorted(earned):
        owed += earned[day]
        if owed // PPM >= REBATE_MINIMUM:
            amount = owed // PPM
            owed -= amount * PPM
            paid.append(VenueCredit("rebate", amount, "0x" + f"{day:064x}", (day + 1) * DAY_MS))
    return paid


def reward_credits(conn: Connection, now_ms: int) -> list[VenueCredit]:
    """Every liquidity reward the paper venue has paid by `now_ms`: each ended day's paid amount
    as the rewards tracker recorded it (engine/trading/settlement/rewards.py), paid at the day's end."""
    return [VenueCredit("reward", amount, "0x" + hashlib.sha256(f"paper-reward:{day}".encode()).hexdigest(),
                        reward_queries.day_end_ms(day))
            for day, amount in reward_queries.paid_by_day(conn, "paper", now_ms)]


def _promised(conn: Connection, token_id: str) -> int:
    return book_store.promised_sells(conn, token_id)


def _finish(conn: Connection, ref: str, now: int, *, paid: int = 0, yes: int = 0, no: int = 0,
            error: str | None = None) -> None:
    store.finish(conn, ref, now, state="failed" if error else "confirmed",
                 error=None if error is None else f"execution reverted: {error}", paid=paid,
                 yes_burned=yes, no_burned=no)
