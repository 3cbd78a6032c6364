"""A replay's timed passes that cannot act, skipped (issue 74 item 4): results the same, a week of
quiet hours no longer decided 1.2 million times over.

A timed pass (`TradingCore.tick`) reads the books, the ledger and the time. When a pass decided
nothing (once its ledger's own steps were done, which it decides on: a trade's settlement step, the
venue's events, it replayed no row and wrote none but the decisions log's, which no pass reads;
SQLite's count of changed rows on the replay's batch tells) and nothing was replayed or written
since (or only rows that changed nothing a pass reads: no book's touch (its prices alone, where the
strategies read no more) or last print, every book fresh), the next pass would change nothing
either, until some part of the pass reads the time past a threshold. Every such threshold is asked
for here, each from the part that keeps it (`next_...`): a book growing stale (reckoned again as
rows keep the books fresh), a repeated decision written again, a volatility reading crossing a
threshold as changes leave its window and baseline, the next correlation bucket (where a run has two
markets or more), the order-rate window, cooldowns and take holds ending, the error window, the
day's rollover, a game about to start, a paper trade settling or a GTD order expiring. A pass before
the earliest of them is skipped; its curve and exposure points are still written (the last
valuation, with the income due at its time), and the refusals the pass before it counted are counted
again.

Only where every part is known: the desk's own ledger alone, strategies that do not read the clock
(`Strategy.reads_the_clock`), no indicator, no exit under way, no order waiting on the venue (a
placement or cancel unanswered, a take, an unfilled arbitrage leg), the venue taking orders and no claim
owed that the collections redeem (engine/backtest/resolutions.py).
Anything else, every pass runs, as before. `verify` (the tests') runs the passes it would skip
and fails when one of them wrote or planned anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from contracts.order_end import TAKES
from contracts.order_status import OrderStatus
from engine.backtest.cursor import Cursor
from engine.backtest.refusals import PassCounts, RefusalTally
from engine.execution.bus import VenuePhase
from engine.risk import correlation, volatility
from engine.trading.core import TradingCore
from engine.trading.exits import game_start
from engine.venues.paper import PaperVenue
from storage.sqlite.lite import utc_day_start

DAY_MS = 86_400_000
WAITING = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.CANCEL_PENDING})

# "skip": quiet passes are skipped; "run": every pass runs (as before); "verify": every pass runs and
# one that would have been skipped fails the run when it changed anything (the tests' check).
MODE: Literal["skip", "run", "verify"] = "skip"

Mark = tuple[int, int, int | None]  # (batch, row, rows changed): where the replay and its ledger are


class QuietPassActed(AssertionError):
    """`verify`: a pass the replay would have skipped wrote or planned something."""


@dataclass
class Valued:
    """The last pass's valuation, which a skipped pass's curve and exposure points repeat."""

    equity: int = 0  # micro-pUSD, every ledger of the run together
    exposure: int = 0


class QuietPasses:
    def __init__(self, core: TradingCore, cursor: Cursor, venue: PaperVenue, tally: RefusalTally, *,
                 verify: bool = False) -> None:
        """`tally`: the run's refusal counts, which a skipped pass adds to as the pass before it did."""
        self.core, self.cursor, self.venue, self.tally = core, cursor, venue, tally
        self.verify = verify
        self.checked = 0  # `verify`: the passes it would have skipped, run and found to change nothing
        self._candidate = False
        self._counted: PassCounts = (0, ())  # what the last pass run added to the tally
        self.last = Valued()
        self.skipped = 0
        self.skipped_after_rows = 0  # of them, those after replayed rows that changed nothing a pass reads
        self.quiet_after_writes = 0  # passes run that wrote only before deciding or to the decisions log
        self._start: Mark | None = None  # where the replay and its ledger were as the last pass run began
        self._decided_from: Mark | None = None  # and once its ledger's own steps were done (`prepared`)
        self._logged = 0  # the decisions log's rows by then
        self._mark: Mark | None = None  # and as it ended
        self._until = 0  # passes before this time are skipped while nothing changes (0: the last pass acted)
        self._ran_at = 0  # when the last pass ran
        self._read: tuple[object, ...] = ()  # what the last pass read of the market (`_reads`)
        self._fresh = False  # whether every book was within the data age limit at the last pass
        self._limits: object = None
        self._settings = (volatility.Settings(0, 0, 0.0, 0.0, 0.0, 0), correlation.Settings(0, 0, 0.0, 0.0))
        # Whether a claim is owed that the collections redeem with the time alone (engine/backtest/resolutions.py).
        self.collecting: Callable[[], bool] = lambda: False

    def skips(self, at: int) -> bool:
        """Whether the timed pass at `at` can be skipped (nothing it reads changed, nothing due)."""
        here = self._here()
        quiet = at < self._until and (here == self._mark or self._unread(here)) and at < self._fresh_until()
        if not quiet or self.verify:
            self._candidate = quiet
            self._start = self._decided_from = here
            self._logged = self.core.risk.decisions.rows
            self.tally.begin_pass()
            return False
        self.skipped += 1
        self.skipped_after_rows += here != self._mark
        self.tally.repeat(self._counted)
        self._mark = here
        return True

    def run_of(self, first: int, interval: int, before: int) -> int:
        """The timed passes from `first`, one each `interval` and before `before` (while no row is
        replayed and nothing wakes), that `skips` would skip one by one: skipped together; how many
        (none in `verify`, which runs each)."""
        end = min(before, self._until)
        if self.verify or first >= end:
            return 0
        here = self._here()
        if here != self._mark and not self._unread(here):
            return 0
        end = min(end, self._fresh_until())
        if first >= end:
            return 0
        count = (end - 1 - first) // interval + 1
        self.skipped += count
        self.skipped_after_rows += here != self._mark
        self.tally.repeat(self._counted, count)
        self._mark = here
        return count

    def prepared(self) -> None:
        """The pass about to run has done its ledger's own steps (the paper venue advanced: a trade's
        settlement step, an order's expiry; the venue's events drained): what it writes from here is
        what it decides. Writes before, which the pass decides on, leave the next pass as quiet as
        this one would have been."""
        self._decided_from = self._here()
        self._logged = self.core.risk.decisions.rows

    def _unread(self, here: Mark) -> bool:
        """Rows were replayed since the last pass but changed nothing it reads: no row written, every
        book's touch (`_reads`) and last print and the markets' details as they were, and every
        book was fresh then (a row only makes a book fresher: a stale one made fresh would quote again)."""
        mark = self._mark
        return (mark is not None and here[2] == mark[2] and here[2] is not None and self._fresh
                and self.venue.events.empty() and self._reads() == self._read)

    def ran(self, at: int, equity: int, exposure: int) -> None:
        """After a pass run at `at`, valued at `equity` and `exposure` (micro-pUSD)."""
        mark, counted = self._here(), self.tally.pass_counts()
        if self._candidate:
            self._candidate = False
            self._check(at, mark, counted)
            self.checked += 1
        self._counted = counted
        still = self._decided_nothing(mark)
        self.quiet_after_writes += still and mark != self._start
        self._mark = mark
        self.last = Valued(equity, exposure)
        self._until = self.quiet_until(at) if still else 0
        self._ran_at = at
        if still:
            self._read = self._reads()
            oldest = self.core.books.all_current_since()
            self._fresh = oldest is not None and at - oldest <= self.core.risk.limits.ms("max_data_age")

    def _decided_nothing(self, mark: Mark) -> bool:
        """Whether the pass that ended at `mark` replayed no row and wrote nothing once its ledger's own
        steps were done, but the decisions log's rows (a refusal's news or reminder, which nothing a
        pass decides on reads; `DecisionsLog.next_repeat` tells when one is due again)."""
        start = self._decided_from
        if start is None or mark[:2] != start[:2] or mark[2] is None or start[2] is None:
            return False
        return mark[2] - start[2] == self.core.risk.decisions.rows - self._logged

    def _check(self, at: int, mark: Mark, counted: PassCounts) -> None:
        if mark != self._start or counted != self._counted:
            raise QuietPassActed(f"the pass at {at} would have been skipped (quiet until {self._until}) but it "
                                 f"changed {mark} from {self._start}, or counted {counted} where the pass "
                                 f"before counted {self._counted}")

    def _here(self) -> Mark:
        return self.cursor.batch_number, self.cursor.i, self.core.db.batch_changes()

    def _reads(self) -> tuple[object, ...]:
        """What a pass reads of the market that a replayed row may change: each book's best levels
        and last print, and the details (tick, fees) of the markets its strategies trade. Where every
        strategy reads only the touch's prices (`Strategy.reads_touch_prices`), the touch's prices: the
        rest of the pass (the gate, the valuation, the breakers) reads no book's sizes."""
        books, catalog, hosted = self.core.books, self.core.catalog, self.core.host.hosted.values()
        best = books.best_prices if all(h.instance.reads_touch_prices() for h in hosted) else books.best
        touches = tuple((token, best(token), books.last_trade(token)) for token in books.token_books())
        markets = tuple(catalog.get(cid) for h in hosted for cid in h.markets)
        return touches, markets

    # -- what may act with the time alone ----------------------------------------------------

    def _fresh_until(self) -> int:
        """When a book next grows stale after the last pass run, as the books are now: rows replayed
        since, which changed nothing a pass reads, may have kept them fresh (a book's data, or its
        connection's, vouches for it) past the time the last pass reckoned with."""
        due = self.core.books.next_stale(self._ran_at, self.core.risk.limits.ms("max_data_age"))
        return 2**62 if due is None else due

    def quiet_until(self, now: int) -> int:
        """The earliest time after `now` a pass may act with nothing new (`now`: any time may), but
        for the books growing stale, which `_fresh_until` tells as the replay goes on."""
        if not self._known(now):
            return now
        until = min((due for due in self._thresholds(now) if due is not None), default=2**62)
        risk = self.core.risk
        judged = risk.volatility.next_judgement(now, self._settings[0], risk.memory, until)
        return until if judged is None else min(until, judged)

    def _known(self, now: int) -> bool:
        """Whether every part of the pass that may read the time tells when it would."""
        core = self.core
        desk = core.desk
        executor = desk.executor
        hosted = core.host.hosted.values()
        return (not core.ledgers.others() and not core.indicators.instances
                and all(not h.instance.reads_the_clock() and not h.instance.spans_venues for h in hosted)
                and not desk.exits.active and not desk.operator_exits.wanted and not executor.partials
                and executor.health.phase is VenuePhase.OPEN and self.venue.events.empty() and not self.collecting()
                and not any(o.status in WAITING or o.tif in TAKES for o in executor.state.orders.values()))

    def _thresholds(self, now: int) -> Iterable[int | None]:
        core = self.core
        risk = core.risk
        limits = risk.limits
        if limits is not self._limits:  # the breakers' settings, parsed once per limits
            self._limits = limits
            self._settings = volatility.Settings.of(limits), correlation.Settings.of(limits)
        yield risk.decisions.next_repeat(now)
        yield risk.correlation.next_close(now, self._settings[1], risk.memory, len(core.catalog.all()))
        # (no markout horizon: a strategy's own markouts come with the time alone, so one that reads them
        # reads the clock, `Strategy.reads_the_clock`, and no pass of its run is skipped)
        yield _venue_due(self.venue)
        yield utc_day_start(now) + DAY_MS  # the day's loss limits roll over (the desk's and each strategy's)
        yield from (until for until in risk.cooldowns.values() if until > now)
        yield risk.takes.next_end(now)
        yield risk.errors.leaves_at(now)
        # (a pass under the order-rate limit placed what it wanted: only a limit reached holds one back)
        yield risk.gate.rate_frees_at(now, limits.count("max_order_rate"))
        lead_ms = core.config.game_start_withdraw_s * 1000
        for hosted in core.host.hosted.values():
            for cid in hosted.markets:
                info = core.catalog.get(cid)
                yield None if info is None else game_start.next_change(info, now, lead_ms)


def _venue_due(venue: PaperVenue) -> int | None:
    """When the paper venue's `advance` next moves something with no new data: a trade's settlement
    step or a GTD order's expiry (None: nothing waits)."""
    expiries = [o.expires_ms for o in venue.resting.values() if o.expires_ms is not None]
    return min([*expiries, *([] if venue.next_settle_at is None else [venue.next_settle_at])], default=None)
