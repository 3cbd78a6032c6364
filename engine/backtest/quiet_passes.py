"""A replay's timed passes that cannot act, skipped (issue 74 item 4): results the same, a week of
quiet hours no longer decided 1.2 million times over.

A timed pass (`TradingCore.tick`) reads the books, the ledger and the time. When a pass decided
nothing (once its ledger's own steps were done, which it decides on: a trade's settlement step, the
venue's events, it replayed no row and wrote none but the rows no pass decides on: the decisions
log's, and those keeping a new peak of the equity, the desk's or a strategy's, which the next pass at
the same equity does not write again; SQLite's count of changed rows on the replay's batch tells)
and nothing was replayed or written since (or only rows that changed nothing a pass reads: no
book's touch (its prices alone,
where the strategies read no more) or last print, every book fresh), the next pass would change
nothing either, until some part of the pass reads the time past a threshold. Every part of the pass
that reads the clock says when (contracts/due.py: `next_due`), registered by the pass itself
(engine/trading/passes/clock_parts.py); a pass before the earliest answer is skipped. Its curve
and exposure points are still written (the last valuation, with the income due at its time), and
the refusals the pass before it counted are counted again. When that time comes with nothing new,
the parts due then are asked again: rows that changed nothing a pass reads may have moved an answer
later (a book kept fresh by its connection's data), and nothing else moves the others'.

A part that cannot tell (a strategy that reads the clock, an indicator, an exit under way, an order
waiting on the venue, the venue not taking orders, a claim owed that the run's collections redeem:
engine/backtest/resolutions.py `Ending`) answers at once, and every pass runs. Only the
desk's own paper ledger is skipped this way (the runner's `_quiet_passes`).

`verify` runs the passes it would skip and reports each one that acted, in words (`engine backtest
--verify-quiet-passes`): a part that forgot its due time, found on any recording.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from contracts.due import NEVER, Due
from engine.backtest.cursor import Cursor
from engine.backtest.refusals import PassCounts, RefusalTally
from engine.trading.core import TradingCore
from engine.venues.paper import PaperVenue

Mark = tuple[int, int, int | None]  # (batch, row, rows changed): where the replay and its ledger are
SHOWN = 20  # the passes that acted a verification describes (it counts them all)


@dataclass
class Valued:
    """The last pass's valuation, which a skipped pass's curve and exposure points repeat."""

    equity: int = 0  # micro-pUSD, every ledger of the run together
    exposure: int = 0


@dataclass
class Verification:
    """`verify`: the passes the protocol would have skipped, run; those that acted, in words."""

    checked: int = 0
    acted: int = 0
    said: list[str] = field(default_factory=list)  # the first SHOWN, described

    def as_json(self) -> dict[str, object]:
        return {"checked": self.checked, "acted": self.acted, "passes_that_acted": self.said}


class QuietPasses:
    def __init__(self, core: TradingCore, cursor: Cursor, venue: PaperVenue, tally: RefusalTally,
                 parts: Callable[[], Sequence[Due]], *, verify: bool = False) -> None:
        """`tally`: the run's refusal counts, which a skipped pass adds to as the pass before it did;
        `parts`: the parts of the pass that read the clock (engine/trading/passes/clock_parts.py), as they
        are once the replay's core has started: a replay neither switches modes nor re-arms nor opens a
        ledger after that, so they are read once (`verify` reads them at every pass and says if they moved)."""
        self.core, self.cursor, self.venue, self.tally, self.parts = core, cursor, venue, tally, parts
        self._parts = list(parts())
        self.verify = Verification() if verify else None
        self._candidate = False
        self._counted: PassCounts = (0, ())  # what the last pass run added to the tally
        self.last = Valued()
        self.skipped = 0
        self.skipped_after_rows = 0  # of them, those after replayed rows that changed nothing a pass reads
        self.quiet_after_writes = 0  # passes run that wrote only before deciding or to the decisions log
        self.asked_again = 0  # the parts asked again as their time came with nothing new
        self._start: Mark | None = None  # where the replay and its ledger were as the last pass run began
        self._decided_from: Mark | None = None  # and once its ledger's own steps were done (`prepared`)
        self._logged = 0  # the rows no pass decides on by then
        self._mark: Mark | None = None  # and as it ended
        self._still = False  # the last pass decided nothing
        self._until: int | None = None  # the earliest time a part of the pass is due (`_soonest`); None: not asked
        self._due = ""  # which part that was
        self._asked: Mark | None = None  # where the replay was when the parts were last asked again
        self._answers: list[int] = []  # each part's answer, as last asked (a bound it had nothing due before)
        self._ran_at = 0  # when the last pass ran
        self._read: tuple[object, ...] = ()  # what the last pass read of the market (`_reads`)
        self._fresh = False  # whether every book was within the data age limit at the last pass
        self._orders: dict[int, object] = {}  # `verify`: the desk's orders as a candidate pass began

    @property
    def checked(self) -> int:
        return 0 if self.verify is None else self.verify.checked

    def skips(self, at: int) -> bool:
        """Whether the timed pass at `at` can be skipped (nothing it reads changed, nothing due)."""
        here = self._here()
        quiet = self._quiet(at, here)
        if not quiet or self.verify is not None:
            self._candidate = quiet
            self._start = self._decided_from = here
            self._logged = self._unread_rows()
            if quiet:
                self._orders = {id_: order.status for id_, order in self.core.desk.executor.state.orders.items()}
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
        if self.verify is not None or not self._still or first >= before:
            return 0
        here = self._here()
        if here != self._mark and not self._unread(here):
            return 0
        if not self._before_due(first, here):
            return 0
        assert self._until is not None
        end = min(before, self._until)
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
        self._logged = self._unread_rows()

    def ran(self, at: int, equity: int, exposure: int) -> None:
        """After a pass run at `at`, valued at `equity` and `exposure` (micro-pUSD)."""
        mark, counted = self._here(), self.tally.pass_counts()
        if self._candidate:
            self._candidate = False
            self._check(at, mark, counted)
        self._counted = counted
        still = self._decided_nothing(mark)
        self.quiet_after_writes += still and mark != self._start
        self._mark = self._asked = mark
        self.last = Valued(equity, exposure)
        self._ran_at = at
        self._still, self._until = still, None  # (the parts asked when a pass may be skipped: `_before_due`)
        if still:
            self._read = self._reads()
            oldest = self.core.books.all_current_since()
            self._fresh = oldest is not None and at - oldest <= self.core.risk.limits.ms("max_data_age")

    def _quiet(self, at: int, here: Mark) -> bool:
        if not self._still or (here != self._mark and not self._unread(here)):
            return False
        return self._before_due(at, here)

    def _before_due(self, at: int, here: Mark) -> bool:
        """Whether the pass at `at`, with nothing new since the last pass (`here`), comes before the earliest
        time a part of the pass is due. The parts are asked (as of the last pass) when first needed, and
        those due asked again as that time comes: rows that changed nothing a pass reads may have moved an
        answer later (a book kept fresh), asked once for each such place in the replay; nothing else moves
        the others'. A part that cannot tell answers as the pass does: nothing but something new changes
        that, so no pass is skipped until one runs."""
        if self._until is None:
            self._asked = here
            self._ask(range(len(self._parts)))
        elif at >= self._until and here != self._asked:
            self.asked_again += 1
            self._asked = here
            self._ask([i for i, due in enumerate(self._answers) if due <= at])
        return self._still and self._until is not None and at < self._until

    def _ask(self, which: Iterable[int]) -> None:
        """Ask the parts `which` (their index in `_parts`) when each is next due after the last pass, with no
        bound (contracts/due.py), so each answer stands until its own time comes and only the parts due are
        asked again (the volatility breaker's search is kept until a mid changes); `_until` is the earliest."""
        if self.verify is not None and [id(p) for p in self.parts()] != [id(p) for p in self._parts]:
            self.verify.said.append(f"{_when(self._ran_at)}: the parts of the pass that read the clock changed "
                                    "during the replay (a skipping run would ask those it started with)")
            self.verify.acted += 1
            self._parts = list(self.parts())
            which = range(len(self._parts))
        if len(self._answers) != len(self._parts):
            self._answers = [NEVER] * len(self._parts)
        answers, now = self._answers, self._ran_at
        for i in which:
            when = self._parts[i].next_due(now, NEVER)
            answers[i] = NEVER if when is None else when
            if answers[i] <= now:
                break  # it cannot tell: no pass is skipped until one runs
        self._until = min(answers)
        self._due = type(self._parts[answers.index(self._until)]).__name__
        self._still = self._until > now

    def _unread(self, here: Mark) -> bool:
        """Rows were replayed since the last pass but changed nothing it reads: no row written, no venue
        report waiting, every book's touch (`_reads`) and last print and the markets' details as they
        were, and every book was fresh then (a row only makes a book fresher: a stale one made fresh
        would quote again)."""
        mark = self._mark
        return (mark is not None and here[2] == mark[2] and here[2] is not None and self._fresh
                and self.venue.events.empty() and self._reads() == self._read)

    def _unread_rows(self) -> int:
        """The rows written so far that no pass decides on: the decisions log's (a refusal's news or
        reminder; `DecisionsLog.next_due` tells when one is due again), and those that keep the peaks
        and days the risk monitor holds (a new peak: the next pass, at the same equity, writes none)."""
        risk = self.core.risk
        return risk.decisions.rows + risk.kept_rows + risk.strategies.kept_rows

    def _decided_nothing(self, mark: Mark) -> bool:
        """Whether the pass that ended at `mark` replayed no row and wrote nothing once its ledger's own
        steps were done, but rows no pass decides on (`_unread_rows`)."""
        start = self._decided_from
        if start is None or mark[:2] != start[:2] or mark[2] is None or start[2] is None:
            return False
        return mark[2] - start[2] == self._unread_rows() - self._logged

    def _check(self, at: int, mark: Mark, counted: PassCounts) -> None:
        """`verify`: the pass at `at`, which the protocol would have skipped, ran: what it did, if anything."""
        assert self.verify is not None
        self.verify.checked += 1
        if mark == self._start and counted == self._counted:
            return
        self.verify.acted += 1
        if len(self.verify.said) < SHOWN:
            self.verify.said.append(f"{_when(at)}: a pass the protocol would have skipped (nothing due before "
                                    f"{_when(self._until or 0)}, the earliest part {self._due}) "
                                    f"{self._did(mark, counted)}")

    def _did(self, mark: Mark, counted: PassCounts) -> str:
        """What a pass that should have changed nothing did, in words."""
        start = self._start
        assert start is not None
        orders = self.core.desk.executor.state.orders
        placed = sum(1 for id_ in orders if id_ not in self._orders)
        moved = sum(1 for id_, status in self._orders.items() if id_ not in orders or orders[id_].status != status)
        said = []
        if placed or moved:
            said.append(f"placed {placed} order(s) and moved {moved}")
        if mark[:2] != start[:2]:
            said.append("replayed rows while it decided")
        elif mark[2] is not None and start[2] is not None and mark[2] != start[2]:
            said.append(f"wrote {mark[2] - start[2]} row(s)")
        if counted != self._counted:
            said.append(f"counted {_counts(counted)} where the pass before counted {_counts(self._counted)}")
        return "; ".join(said)

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


def _when(at: int) -> str:
    if at >= NEVER:
        return "never"
    return datetime.fromtimestamp(at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _counts(counted: PassCounts) -> str:
    checked, decided = counted
    refused = sorted({reason for denied, reason in decided if denied})
    return f"{checked} quote check(s)" + (f", refused for {', '.join(refused)}" if refused else "")
