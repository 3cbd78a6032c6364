"""What a backtest earns besides its trades: liquidity rewards and maker rebates, as it goes.

Every `reward_sample_s` of simulated time the rewards tracker scores the run's resting paper
orders against the replayed book, as the desk does live (engine/trading/settlement/rewards.py): the
estimate is the program's pool times the run's summed share over a full day of samples.
Rebates accrue on each maker fill (the venue's share of the taker's fee,
engine/venues/paper_settlement.py). Both are added to the equity curve at each decision, so the
metrics and a sweep's objective count them; the results report them apart (Metrics.rewards,
Metrics.rebates). The venue's payout thresholds (a 1 pUSD day for rewards, 1 pUSD owed for
rebates) and payout times are not applied: a backtest counts what was earned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.domain import MICRO
from engine.venues.paper_settlement import PPM, rebate_share_ppm, rebates_earned
from storage.engine_stores import reward_queries

if TYPE_CHECKING:
    from engine.trading.core import TradingCore

BOOK_DEPTH = 100


class BacktestIncome:
    def __init__(self, core: TradingCore, start_ms: int) -> None:
        self.core = core
        self.sample_ms = core.rewards.sample_s * 1000
        self.next_sample = start_ms + self.sample_ms
        self.rewards = 0  # micro-pUSD estimated so far
        self.rebates = 0  # micro-pUSD * PPM accrued so far
        self.rebates_to = start_ms
        # The run's markets' programs, copied into its scratch ledger before it starts (runner); nothing
        # in a replay changes them, so they are read once, not at each of a week's 10 k samples.
        self.programs = reward_queries.programs(core.db)

    def at(self, now_ms: int) -> int:
        """Rewards and rebates earned by `now_ms` (micro-pUSD), sampling the rewards when due."""
        if now_ms >= self.next_sample:
            core = self.core
            if self.programs and core.rewards.sample("paper", lambda token: core.books.book(token, BOOK_DEPTH),
                                                     self._yes_token, self.programs):
                # (the estimates change only with a sample that scored orders: `sample` writes none else)
                self.rewards = reward_queries.estimated_total(core.db, "paper")
            self._accrue_rebates(now_ms)
            self.next_sample = now_ms - (now_ms - self.next_sample) % self.sample_ms + self.sample_ms
        return self.rewards + self.rebates // PPM

    def totals(self, end_ms: int) -> tuple[float, float]:
        """(rewards, rebates) in pUSD at the end of the run (rebates brought up to its end)."""
        self._accrue_rebates(end_ms)
        return self.rewards / MICRO, self.rebates // PPM / MICRO

    def _accrue_rebates(self, now_ms: int) -> None:
        # No market of the run charges a fee its makers share: nothing to read (a read of the paper trades
        # would also write out the rows the replay holds, engine/backtest/runner.py SCRATCH_WRITE_BEHIND).
        if any(m.fee_rate_ppm > 0 and rebate_share_ppm(m) > 0 for m in self.core.catalog.all()):
            with self.core.db.read_own() as conn:  # inside the replay's batch: see its own fills
                self.rebates += sum(rebates_earned(conn, self.core.catalog, self.rebates_to, now_ms + 1).values())
        self.rebates_to = now_ms + 1

    def _yes_token(self, condition_id: str) -> str | None:
        market = self.core.catalog.get(condition_id)
        return None if market is None else market.yes_token
