"""A market's end inside a backtest's span, booked as the venue pays it, through the same code as the
paper desk: no backtest-only shortcut.

What the recording knows of how each of the run's markets ended (`market_resolutions`: what the recorder
heard on the feed, what an import read of the venue's record, what the trader gave;
storage/research/market_resolutions.py) is replayed at its time as a RESOLVE row among the recorded ones,
and that row becomes what the feed would have told the desk (engine/trading/passes/market_events.py
answers it on every ledger, as live):

- a winner (`yes`, `no`): the market channel's `market_resolved` naming the winning token: every ledger
  closes its positions at the payout (PnL realized) and each winning one becomes a claim on the venue
  (engine/execution/event_applier.py `settle_market`), the paper venue cancels the orders resting there;
- a Polymarket market paid at a value (a 50/50): the same, at the payouts the recording holds (live asks
  Gamma for them: engine/trading/settlement/resolution.py, whose `settle_resolution` this calls);
- on a venue that refunds voids (Kalshi), a void or a settlement at a value: its paper ledgers pay every
  position back at once (engine/trading/settlement/void_refunds.py `book_paper_void`), as Kalshi does.

A position ends in cash only when the venue pays (engine/execution/claims.py): the claims are redeemed and
paid by the paper venue's settlement (engine/venues/paper_settlement.py) and booked from its credits
(engine/execution/credits.py) by the ledgers' collections (engine/trading/settlement/collections.py), run
here on the replay's clock every `redeem_check_s` from the run's start, as the paper desk's collections
job runs (`Collections.run`: a redemption sent at one run is paid `paper_mined_after_ms` later and booked
at the next), for as long as a claim the desk would redeem is owed, and after the recording's last row up
to the run's end. Inside a replay's batch these reads see the batch's own rows (`Database.read_own`), and
its held rows are written first by any statement naming their tables (storage/sqlite/write_behind.py).

A run that ends with positions in markets it did not see end says so in its result: they are valued at
their last mid (at cost where no book was known), with what the desk knows of their end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.domain import MarketInfo, fmt
from contracts.resolutions import Resolution, utc
from contracts.venue_policies import policy_for_market, policy_of
from engine.backtest.as_it_was import merged
from engine.feeds.market_data_events import MarketResolved, MarketVoided
from engine.trading.operator.operator_actions import settle_resolution
from storage.research import market_resolutions
from storage.research.backtest_recording import RESOLVE, Row

if TYPE_CHECKING:
    from engine.backtest.cursor import SimClock
    from engine.trading.core import TradingCore
    from engine.trading.passes.ledger import Ledger

SET_ONE = "python -m engine resolutions set"


@dataclass
class RunResolutions:
    """What the run knows of how its markets ended, and what it did with it."""

    known: dict[str, Resolution]
    from_ms: int
    to_ms: int
    yes_tokens: dict[str, str] = field(default_factory=dict)  # market -> its YES token (a RESOLVE row's index)
    applied: list[Resolution] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # market -> why its end was not booked

    @property
    def inside(self) -> list[Resolution]:
        """The ends the replay meets, by time: inside (from, to]."""
        return sorted((r for r in self.known.values() if r.at is not None and self.from_ms < r.at <= self.to_ms),
                      key=lambda r: (r.at or 0, r.condition_id))

    def rows(self, tokens: Sequence[str]) -> list[Row]:
        """The RESOLVE rows the replay splices in: (at, the market's YES token's index, RESOLVE, .., market)."""
        index = {token: i for i, token in enumerate(tokens)}
        return [(r.at or 0, index.get(self.yes_tokens.get(r.condition_id, "")), RESOLVE, None, None, None,
                 r.condition_id) for r in self.inside]


def load(main_db: Path, markets: Sequence[MarketInfo], from_ms: int, to_ms: int) -> RunResolutions:
    return RunResolutions(market_resolutions.known(main_db, [m.condition_id for m in markets]), from_ms, to_ms,
                          {m.condition_id: m.yes_token for m in markets})


def spliced(batches: Iterator[list[Row]], run: RunResolutions, tokens: Sequence[str]) -> Iterator[list[Row]]:
    """The replay's rows with each end inside the run as a RESOLVE row after every row of its instant (one after
    the recording's last row still in the run: the run's time passes on to its end)."""
    rows = run.rows(tokens)
    return merged(batches, rows, ties_first=False, trailing=True) if rows else batches


class Ending:
    """The RESOLVE rows applied to the core (RowApplier's `resolved`), and the collections run after them."""

    def __init__(self, core: TradingCore, run: RunResolutions, clock: SimClock, sites: Sequence[Ledger] = ()) -> None:
        """`sites`: the ledgers the run trades (set once the core has opened them)."""
        self.core, self.run, self.clock, self.sites = core, run, clock, list(sites)
        self.every = core.config.redeem_check_s * 1000
        self.next_at = run.from_ms + self.every  # the paper desk's collections job: every redeem_check_s

    def __call__(self, row: Row) -> None:
        resolution = self.run.known.get(str(row[6]))
        if resolution is not None:
            self.apply(resolution)

    def apply(self, resolution: Resolution) -> None:
        """What the feed would have told the desk of the market's end, told it now."""
        core, cid, at = self.core, resolution.condition_id, resolution.at or self.clock.now
        market = core.catalog.get(cid)
        if market is None:
            return
        policy, payouts = policy_for_market(cid), resolution.payouts()
        if resolution.outcome in ("yes", "no"):
            token = market.yes_token if resolution.outcome == "yes" else market.no_token
            core.books.publish(MarketResolved(cid, token, at))
        elif policy.refunds_voids and (resolution.outcome == "void" or payouts is not None):
            core.books.publish(MarketVoided(cid, at, None if resolution.outcome == "void" else resolution.yes_pays))
        elif payouts is not None:  # paid at a value with no single winner: the payouts the recording holds
            core.books.publish(MarketResolved(cid, None, at))
            for ledger in core.ledgers.all():
                if ledger.live or ledger.desk:
                    settle_resolution(ledger, cid, payouts)
        else:
            self.run.refused[cid] = (f"{policy.label} voids no market (a canceled one pays 0.5/0.5: give that)"
                                     if resolution.outcome == "void" else
                                     "what a share paid is not known (give it: " + SET_ONE + ")")
            return
        core.catalog.close(cid)  # the venue trades it no more (live, the market refresh reads it closed)
        self.run.applied.append(resolution)

    # -- what the venue pays -------------------------------------------------------------------

    def collecting(self) -> bool:
        """Whether a ledger is owed a claim its collections would redeem (auto_redeem on, or a venue that pays by
        itself on paper), so the collections must run at their times."""
        return any(ledger.executor.state.redeemable > 0 and self._redeems(ledger) for ledger in self.sites)

    def _redeems(self, ledger: Ledger) -> bool:
        return bool(self.core.config.auto_redeem) or not policy_of(ledger.venue_name).redeems

    async def due(self, now: int) -> None:
        """At a timed pass at `now`: the collections run that are due by then, at once (at `now`)."""
        if self.next_at > now:
            return
        if self.collecting():
            await self.core.scheduled.collect_owed()
        self.next_at = now - (now - self.run.from_ms) % self.every + self.every

    async def finish(self) -> None:
        """The recording's rows are over: the collections still run at their times until the run's end, while
        anything they would redeem is owed (a payment due inside the run is booked)."""
        while self.collecting() and self.next_at <= self.run.to_ms:
            self.clock.now = max(self.clock.now, self.next_at)
            await self.core.scheduled.collect_owed()
            self.next_at += self.every

    # -- what the result says ------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """For the result (its page, report, JSON): the ends booked, the markets still held at the run's end
        (valued at their last mid) with what is known of their end, and what the venue still owed."""
        held = sorted({cid for ledger in self.sites for (cid, _), size in _held(ledger) if size > 0})
        owed = sum(ledger.executor.state.redeemable for ledger in self.sites)
        return {"settled": [_said(r) for r in self.run.applied],
                "open": [{"market": cid, "known": _known(self.run.known.get(cid), self.run),
                          "refused": self.run.refused.get(cid)} for cid in held],
                "owed": fmt(owed) if owed else None}


def _held(ledger: Ledger) -> Iterator[tuple[tuple[str, str], int]]:
    state = ledger.executor.state
    for key, totals in state.positions.items():
        cid, _ = state.position_market[key]
        yield (cid, key[1]), totals.size


def _said(resolution: Resolution) -> dict[str, Any]:
    return {"market": resolution.condition_id, "at": resolution.at, "outcome": resolution.label,
            "source": resolution.source}


def _known(resolution: Resolution | None, run: RunResolutions) -> str:
    """What the desk knows of a held market's end, in words."""
    if resolution is None:
        return f"its end is not known to the desk (give it: {SET_ONE})"
    if resolution.at is None:
        return (f"it resolved {resolution.label} at a time the desk did not record (give the time: "
                f"{SET_ONE})")
    when = f"it resolved {resolution.label} at {utc(resolution.at)} UTC"
    if resolution.at > run.to_ms:
        return f"{when}, after the run's end"
    return f"{when}, before the run's start" if resolution.at <= run.from_ms else f"{when}, inside the run"
