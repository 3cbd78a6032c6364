"""Cross-venue arbitrage legs (engine/strategies/cross_venue_arb.py): a strategy's two legs, one on a
desk market's ledger and one on its paired market's, on the venue the operator's pairs link it to
(contracts/venues/__init__.py `paired_venue()`), checked each by its own ledger's risk, sent at once, and
kept even afterwards. What differs between the two venues is read from their policies
(contracts/venue_policies.py); messages name each by its label.

- **One money.** Both legs trade the same kind of money: the desk leg's ledger (the desk's mode for a
  promoted strategy, paper otherwise) and the paired venue's (its own armed mode) must be of one mode,
  or the strategy waits (said once, `CROSS_VENUE_HELD`): half a hedge on paper is no hedge.
- **Whole or not at all.** Each leg is checked by its own ledger's risk gate (its limits, exposure,
  breakers); the pair goes at the smaller approved size, in the coarser of the two venues' lots, or not
  at all (the refusal in the decisions log as GROUP_INCOMPLETE).
- **Not into a pause.** While the paired venue is paused, or about to be
  (engine/trading/ledgers/exchange_pauses.py), neither leg is sent: a desk leg alone would be no hedge.
- **Sent at once**, both fill-and-kill at their limit prices, on their two executors.
- **Kept even.** Whenever neither venue has an order of the strategy open in the pair's markets, the
  shares held of each leg are compared (this market's YES against the paired side that pays when it
  loses, and NO likewise): what one leg holds beyond the other is unwound on its own ledger, once
  settled, through the arbitrage unwind path (engine/trading/ledgers/arbs.py), with an ARB_PARTIAL alert, an
  audit record and a decision. It is worked out from the ledgers each pass, never from memory, so an
  attempt interrupted by a crash is evened at the next start as well. A difference below the venue's
  minimum order (a desk leg filled at a better price than its limit gets a fraction of a share more)
  no order can unwind: it is said once as dust with its reason (ARB_DUST, a decision), held to
  resolution, and taken off the next pair's desk leg where the venue can express that amount.
- Until both legs settle, each ledger counts its leg in its exposure, and the total exposure limit
  counts every ledger of one mode together.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.cross_venue import complement_side
from contracts.domain import MICRO, ONE, Intent, MarketInfo, Outcome, Quote, Side, StrategyState, Tif, fmt
from contracts.venue_policies import VenuePolicy, policy_for_market, policy_of
from contracts.venues import desk_venue, paired_venue, venue_of
from engine.execution.planner import OrderSpec, take_size
from engine.feeds.catalog import MarketCatalog
from engine.risk.gate import Decision, Reason
from engine.risk.monitor import RiskMonitor
from engine.trading.hosting.views import strategy_state
from engine.trading.ledgers import arbs
from engine.trading.parts import TradingSite
from engine.trading.passes.ledger import Ledger
from engine.trading.passes.routing import markets_on
from storage.desk.audit import raise_alert, write_audit
from storage.engine_stores import trading_reads
from storage.sqlite.db import Database

log = logging.getLogger("engine.trading.passes.cross_arbs")
REASON = "cross-venue arbitrage"
FILLS_IN_FLIGHT_MS = 60_000  # how long an order's reported fills may take to land before the pair is evened anyway


@dataclass(frozen=True)
class Site:
    """One leg's ledger: where it trades, its risk gate, and its arbitrage unwinds."""

    site: TradingSite
    risk: RiskMonitor
    unwinds: arbs.Settlements

    @property
    def venue(self) -> str:
        return self.site.executor.venue_name


@dataclass(frozen=True)
class Decided:
    """A strategy's intents of one pass, and the two ledgers its legs trade on."""

    strategy: str
    markets: tuple[str, ...]  # its desk markets (each paired with a market on the paired venue)
    intents: tuple[Intent, ...]
    desk: Site  # the desk market's leg: the desk's ledger, or the paper one beside a live desk
    paired: Site  # the paired market's leg, on the paired venue's ledger


@dataclass
class CrossArbs:
    """The legs of every cross-venue strategy, each pass (one per trading core)."""

    alerted: set[tuple[str, str, int]] = field(default_factory=set)  # (strategy, token, excess) said once

    async def run(self, decided: Sequence[Decided], pairs: Mapping[str, tuple[str, bool]], now: int) -> None:
        """Send each strategy's new pairs of legs, then even out what its legs hold."""
        await asyncio.gather(*(self._send(d, now) for d in decided))
        for d in decided:
            self._even(d, pairs, now)

    async def _send(self, d: Decided, now: int) -> None:
        groups: dict[str, list[Intent]] = {}
        for intent in d.intents:
            if intent.quotes:
                groups.setdefault(intent.quotes[0].group, []).append(intent)
        for group, legs in groups.items():
            desk = [i for i in legs if venue_of(i.condition_id) != d.paired.venue]
            paired = [i for i in legs if venue_of(i.condition_id) == d.paired.venue]
            if len(desk) != 1 or len(paired) != 1:
                log.warning("a cross-venue group without one leg on each venue", extra={"group": group})
                continue
            await self._send_pair(d, desk[0], paired[0], now)

    async def _send_pair(self, d: Decided, desk: Intent, paired: Intent, now: int) -> None:
        here, there = policy_for_market(desk.condition_id), policy_for_market(paired.condition_id)
        lot = math.lcm(here.lot, there.lot)  # a size both venues count to
        size = min(_approved(d.desk.risk, desk, now), _approved(d.paired.risk, paired, now)) // lot * lot
        desk_market = d.desk.site.catalog.get(desk.condition_id)
        paired_market = d.paired.site.catalog.get(paired.condition_id)
        if desk_market is None or paired_market is None:
            return
        paired_order = _buy(paired_market, paired.quotes[0], size)
        desk_order = _absorbing(d, desk_market, _buy(desk_market, desk.quotes[0], size), paired_order.token_id)
        paused = d.paired.site.venue_held(now) if isinstance(d.paired.site, Ledger) else None
        why = ""
        if paused:
            why = f"{there.label} takes no order now ({paused})"
        elif size < max(lot, desk_market.min_size):
            why = "a leg was refused or trimmed below a whole pair on its venue"
        else:
            why = _under_least_buy(size, ((here, desk_order), (there, paired_order)))
        if why:
            asked = desk.quotes[0]
            d.desk.risk.decisions.write([Decision(d.strategy, desk.condition_id, asked.side, asked.price, asked.size, 0,
                                                  Reason.GROUP_INCOMPLETE, f"cross-venue: {why}, so neither leg is "
                                                  "sent")], now)
            return
        desk_leg = (d.strategy, desk_market, desk_order, REASON)
        paired_leg = (d.strategy, paired_market, paired_order, REASON)
        await asyncio.gather(d.desk.site.executor.place_now([desk_leg]),
                             d.paired.site.executor.place_now([paired_leg]))
        log.info("cross-venue arbitrage sent", extra={"strategy": d.strategy, here.venue: desk.condition_id,
                                                      there.venue: paired.condition_id, "size": size})

    def _even(self, d: Decided, pairs: Mapping[str, tuple[str, bool]], now: int) -> None:
        """What one leg holds beyond the other, unwound on its own ledger (once settled)."""
        desk_state, paired_state = d.desk.site.executor.state, d.paired.site.executor.state
        for desk_cid, (paired_cid, inverted) in sorted((c, pairs[c]) for c in d.markets if c in pairs):
            desk_market = d.desk.site.catalog.get(desk_cid)
            paired_market = d.paired.site.catalog.get(paired_cid)
            if desk_market is None or paired_market is None or _working(d, now, desk_cid, paired_cid):
                continue
            for outcome in Outcome:
                token = desk_market.token(outcome)
                theirs = paired_market.token(Outcome(complement_side(outcome, inverted).upper()))
                here, there = desk_state.totals(d.strategy, token).size, paired_state.totals(d.strategy, theirs).size
                if here > there:
                    self._unwind(d, d.desk, desk_market, token, here - there, now)
                elif there > here:
                    self._unwind(d, d.paired, paired_market, theirs, there - here, now)
    def _unwind(self, d: Decided, leg: Site, market: MarketInfo, token: str, excess: int, now: int) -> None:
        if excess < market.min_size:
            self._dust(d, leg, market, token, excess, now)  # no order can sell it: said, and taken off the next pair
            return
        if any(u.strategy == d.strategy and u.token_id == token for u in leg.unwinds.pending):
            return  # already on its way
        group = f"{d.strategy}:{market.condition_id}"
        leg.unwinds.pending.append(arbs.Unwind(d.strategy, market.condition_id, token, excess, group))
        leg.risk.decisions.write([Decision(d.strategy, market.condition_id, Side.SELL, 0, excess, excess,
                                           Reason.GROUP_INCOMPLETE, "cross-venue: this leg holds more than the "
                                           "other venue's; the excess is unwound")], now)
        if (d.strategy, token, excess) in self.alerted:
            return
        self.alerted.add((d.strategy, token, excess))
        with leg.site.db.write() as conn:
            raise_alert(conn, level="warning", source="executor", code="ARB_PARTIAL",
                        message=f"strategy '{d.strategy}' cross-venue arbitrage: {fmt(excess)} of {token} held beyond "
                                f"the other venue's leg ({leg.site.mode} ledger): unwound once settled")
            write_audit(conn, actor="engine", action="arb.partial", entity=f"strategy:{d.strategy}",
                        before={"token": token, "excess": excess}, after={"on_partial": "unwind"})
        log.warning("cross-venue leg uneven: unwinding", extra={"strategy": d.strategy, "token": token,
                                                               "excess": excess})


    def _dust(self, d: Decided, leg: Site, market: MarketInfo, token: str, excess: int, now: int) -> None:
        """A leg holding less beyond the other than its venue's minimum order (a desk leg filled at a
        better price than its limit gets a fraction of a share more; an unwind of the paired leg leaves a
        fraction no whole contract matches): shown, once, as dust with its reason, never silently."""
        key = (d.strategy, token, excess)
        if key in self.alerted:
            return
        self.alerted.add(key)
        why = (f"{fmt(excess)} of {token} held beyond the other venue's leg, below the market's minimum order of "
               f"{fmt(market.min_size)}: no order can unwind it. Dust, held to resolution (it pays if that side "
               "wins)" + (f", and taken off the next pair's {policy_of(leg.venue).label} leg" if leg is d.desk
                          else ""))
        leg.risk.decisions.write([Decision(d.strategy, market.condition_id, Side.SELL, 0, excess, 0,
                                           Reason.GROUP_INCOMPLETE, f"cross-venue: {why}")], now)
        with leg.site.db.write() as conn:
            raise_alert(conn, level="info", source="executor", code="ARB_DUST", subject=f"{d.strategy}:{token}",
                        message=f"strategy '{d.strategy}' cross-venue arbitrage: {why} ({leg.site.mode} ledger)")


def _absorbing(d: Decided, market: MarketInfo, order: OrderSpec, hedge_token: str) -> OrderSpec:
    """The desk leg less what that side already holds beyond its paired leg (`hedge_token`): dust no
    order can sell on its own, so the pair ends even; in whole lots, only while the leg stays a legal order."""
    held = d.desk.site.executor.state.totals(d.strategy, order.token_id).size
    hedged = d.paired.site.executor.state.totals(d.strategy, hedge_token).size
    excess = held - hedged if 0 < held - hedged < market.min_size else 0
    excess -= excess % policy_for_market(market.condition_id).lot
    size = order.size - excess
    # Only an amount the venue can express as it is (a smaller one would leave the other leg uneven instead).
    if excess <= 0 or size < market.min_size or take_size(order.price, size, Side.BUY) != size:
        return order
    return replace(order, size=size)


def _under_least_buy(size: int, legs: Sequence[tuple[VenuePolicy, OrderSpec]]) -> str:
    """Why a pair of `size` is not sent when a leg would be worth less than the least marketable BUY its
    venue takes ("": every leg is worth enough)."""
    for policy, order in legs:
        if size * order.price // MICRO < policy.min_marketable_buy:
            return (f"the {policy.label} leg would be worth under ${fmt(policy.min_marketable_buy)}, the least "
                    f"marketable BUY {policy.label} takes")
    return ""


def _approved(risk: RiskMonitor, intent: Intent, now: int) -> int:
    """The size the leg's own risk gate approves (0: refused), checked on its own (no group: the two
    legs are on two gates, kept whole here)."""
    alone = replace(intent, quotes=tuple(replace(q, group="", on_partial="") for q in intent.quotes))
    checked = risk.check([alone], now)
    return min((q.size for q in checked[0].quotes), default=0) if checked and checked[0].quotes else 0


def _buy(market: MarketInfo, quote: Quote, size: int) -> OrderSpec:
    """A leg as the order it is: a buy of the side the YES-space quote stands for (a SELL of YES at p is
    a buy of NO at 1 - p), fill-and-kill at its limit."""
    if quote.side is Side.BUY:
        return OrderSpec(market.yes_token, market.outcome_of(market.yes_token), Side.BUY, quote.price, size, Tif.FAK)
    return OrderSpec(market.no_token, market.outcome_of(market.no_token), Side.BUY, ONE - quote.price, size, Tif.FAK)


def _working(d: Decided, now: int, *markets: str) -> bool:
    """Whether an attempt is still in flight in the markets: an order of the strategy open there on
    either ledger, or one whose fills its venue has not reported yet (bounded: a fill the venue never
    reports does not hold the pair for ever)."""
    if any(o.strategy == d.strategy and o.condition_id in markets
           for site in (d.desk, d.paired) for o in site.site.executor.state.orders.values()):
        return True
    for site in (d.desk, d.paired):
        ex = site.site.executor
        with site.site.db.read() as conn:
            if trading_reads.fills_in_flight(conn, mode=ex.mode, venue=ex.venue_name, strategy=d.strategy,
                                             condition_ids=markets, since=now - FILLS_IN_FLIGHT_MS) > 0:
                return True
    return False




def paired_legs(hosted: Mapping[str, Any], pairs: Mapping[str, tuple[str, bool]]) -> set[str]:
    """The paired markets the cross-venue strategies trade (paired with their desk markets): the feed's
    views must hold their books."""
    return {m for h in hosted.values() if h.instance.spans_venues for m in markets_on(h, paired_venue(), pairs)}


def sites(desk: Site, paper: Ledger | None, paired: Ledger | None, name: str,
          hosted: Any) -> tuple[Site, Site] | str:
    """The two ledgers a cross-venue strategy's legs trade on, or why it waits: its desk leg's (the
    desk's, or `paper`, the paper ledger beside a live desk, for a strategy not promoted) and the
    paired venue's, of one mode."""
    on_paper = desk.site.mode == "live" and not hosted.live
    if on_paper and (paper is None or not paper.live):
        return "its paper ledger beside the live desk is not open"
    here = Site(paper, paper.risk, paper.arbitrage) if on_paper and paper is not None else desk
    if paired is None or not paired.live or name not in paired.strategies:
        there = policy_of(paired_venue())  # the venue a pair's other leg trades on
        return (f"{there.label}'s ledger does not take it now (see the {there.code('HELD')} or "
                f"{there.code('UNAVAILABLE')} alerts)")
    if paired.mode != here.site.mode:
        return (f"its {policy_of(desk_venue()).label} leg would trade {here.site.mode} and its "
                f"{policy_of(paired_venue()).label} leg "
                f"{paired.mode}: both legs of an arbitrage trade one money (promote it and arm both venues live, "
                "or keep both on paper)")
    return here, Site(paired, paired.risk, paired.arbitrage)


def cross_state(name: str, hosted: Any, catalog: MarketCatalog, desk: Site, paired: Site,
                pairs: Mapping[str, tuple[str, bool]], state: StrategyState) -> StrategyState:
    """The strategy's state over both ledgers: `state` (its desk leg's) with its paired markets'
    positions and orders, and each venue's free cash."""
    theirs = strategy_state(name, markets_on(hosted, paired.venue, pairs), catalog, paired.site.executor.state)
    return replace(state, positions={**state.positions, **theirs.positions},
                   open_orders=state.open_orders + theirs.open_orders,
                   venue_cash={desk.venue: state.cash, paired.venue: theirs.cash})


def held_alert(db: Database, name: str, why: str) -> None:
    with db.write() as conn:
        raise_alert(conn, level="warning", source="engine", code="CROSS_VENUE_HELD", subject=name,
                    message=f"cross-venue strategy {name} waits: {why}")
