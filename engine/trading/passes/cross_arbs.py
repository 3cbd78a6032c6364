"""Cross-venue arbitrage legs (engine/strategies/cross_venue_arb.py): a strategy's two legs, one on
Polymarket's ledger and one on Kalshi's, checked each by its own venue's risk, sent at once, and kept
even afterwards.

- **One money.** Both legs trade the same kind of money: the Polymarket leg's ledger (the desk's mode
  for a promoted strategy, paper otherwise) and Kalshi's (its own armed mode) must be of one mode, or
  the strategy waits (said once, `CROSS_VENUE_HELD`): half a hedge on paper is no hedge.
- **Whole or not at all.** Each leg is checked by its own ledger's risk gate (its limits, exposure,
  breakers); the pair goes at the smaller approved size, in hundredths of a Kalshi contract, or not at all
  (the refusal in the decisions log as GROUP_INCOMPLETE).
- **Not into a pause.** While Kalshi is paused, or about to be (engine/trading/ledgers/exchange_pauses.py),
  neither leg is sent: a Polymarket leg alone would be no hedge.
- **Sent at once**, both fill-and-kill at their limit prices, on their two executors.
- **Kept even.** Whenever neither venue has an order of the strategy open in the pair's markets, the
  shares held of each leg are compared (this market's YES against the Kalshi side that pays when it
  loses, and NO likewise): what one leg holds beyond the other is unwound on its own ledger, once
  settled, through the arbitrage unwind path (engine/trading/ledgers/arbs.py), with an ARB_PARTIAL alert, an
  audit record and a decision. It is worked out from the ledgers each pass, never from memory, so an
  attempt interrupted by a crash is evened at the next start as well. A difference below the venue's
  minimum order (a Polymarket leg filled at a better price than its limit gets a fraction of a share
  more) no order can unwind: it is said once as dust with its reason (ARB_DUST, a decision), held to
  resolution, and taken off the next pair's Polymarket leg where the venue can express that amount.
- Until both legs settle, each ledger counts its leg in its exposure, and the total exposure limit
  counts every ledger of one mode together.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from contracts import kalshi_ids
from contracts.cross_venue import complement_side
from contracts.domain import MICRO, ONE, Intent, MarketInfo, Quote, Side, StrategyState, Tif, fmt
from contracts.venue_rules import LOT
from contracts.venues import KALSHI, POLYMARKET, venue_of
from engine.execution.planner import OrderSpec, take_size
from engine.feeds.catalog import MarketCatalog
from engine.risk.gate import Decision, Reason
from engine.risk.monitor import RiskMonitor
from engine.trading.hosting.views import strategy_state
from engine.trading.ledgers import arbs
from engine.trading.parts import TradingSite
from engine.trading.passes.venue_ledger import VenueLedger, markets_on
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


@dataclass(frozen=True)
class Decided:
    """A strategy's intents of one pass, and the two ledgers its legs trade on."""

    strategy: str
    markets: tuple[str, ...]  # its Polymarket markets (each paired with a Kalshi market)
    intents: tuple[Intent, ...]
    poly: Site
    kalshi: Site


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
            poly = [i for i in legs if venue_of(i.condition_id) != KALSHI]
            kalshi = [i for i in legs if venue_of(i.condition_id) == KALSHI]
            if len(poly) != 1 or len(kalshi) != 1:
                log.warning("a cross-venue group without one leg on each venue", extra={"group": group})
                continue
            await self._send_pair(d, poly[0], kalshi[0], now)

    async def _send_pair(self, d: Decided, poly: Intent, kalshi: Intent, now: int) -> None:
        size = min(_approved(d.poly.risk, poly, now), _approved(d.kalshi.risk, kalshi, now))
        size = size // kalshi_ids.LOT * kalshi_ids.LOT  # Kalshi counts to 0.01 contract
        poly_market = d.poly.site.catalog.get(poly.condition_id)
        kalshi_market = d.kalshi.site.catalog.get(kalshi.condition_id)
        if poly_market is None or kalshi_market is None:
            return
        kalshi_order = _buy(kalshi_market, kalshi.quotes[0], size)
        poly_order = _absorbing(d, poly_market, _buy(poly_market, poly.quotes[0], size), kalshi_order.token_id)
        paused = d.kalshi.site.venue_held(now) if isinstance(d.kalshi.site, VenueLedger) else None
        why = ""
        if paused:
            why = f"Kalshi takes no order now ({paused})"
        elif size < max(kalshi_ids.LOT, poly_market.min_size):
            why = "a leg was refused or trimmed below a whole pair on its venue"
        elif size * poly_order.price // MICRO < MICRO:
            why = "the Polymarket leg would be worth under $1, the least marketable BUY Polymarket takes"
        if why:
            asked = poly.quotes[0]
            d.poly.risk.decisions.write([Decision(d.strategy, poly.condition_id, asked.side, asked.price, asked.size, 0,
                                                  Reason.GROUP_INCOMPLETE, f"cross-venue: {why}, so neither leg is "
                                                  "sent")], now)
            return
        poly_leg = (d.strategy, poly_market, poly_order, REASON)
        kalshi_leg = (d.strategy, kalshi_market, kalshi_order, REASON)
        await asyncio.gather(d.poly.site.executor.place_now([poly_leg]),
                             d.kalshi.site.executor.place_now([kalshi_leg]))
        log.info("cross-venue arbitrage sent", extra={"strategy": d.strategy, "polymarket": poly.condition_id,
                                                      "kalshi": kalshi.condition_id, "size": size})

    def _even(self, d: Decided, pairs: Mapping[str, tuple[str, bool]], now: int) -> None:
        """What one leg holds beyond the other, unwound on its own ledger (once settled)."""
        poly_state, kalshi_state = d.poly.site.executor.state, d.kalshi.site.executor.state
        for poly_cid, (kalshi_cid, inverted) in sorted((c, pairs[c]) for c in d.markets if c in pairs):
            poly_market = d.poly.site.catalog.get(poly_cid)
            kalshi_market = d.kalshi.site.catalog.get(kalshi_cid)
            if poly_market is None or kalshi_market is None or _working(d, now, poly_cid, kalshi_cid):
                continue
            for outcome, token in (("YES", poly_market.yes_token), ("NO", poly_market.no_token)):
                theirs = kalshi_ids.token_id(kalshi_cid.removeprefix(f"{KALSHI}:"), complement_side(outcome, inverted))
                here, there = poly_state.totals(d.strategy, token).size, kalshi_state.totals(d.strategy, theirs).size
                if here > there:
                    self._unwind(d, d.poly, poly_market, token, here - there, now)
                elif there > here:
                    self._unwind(d, d.kalshi, kalshi_market, theirs, there - here, now)

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
        """A leg holding less beyond the other than its venue's minimum order (a Polymarket leg filled at a
        better price than its limit gets a fraction of a share more; a Kalshi unwind leaves a fraction no
        whole contract matches): shown, once, as dust with its reason, never silently."""
        key = (d.strategy, token, excess)
        if key in self.alerted:
            return
        self.alerted.add(key)
        why = (f"{fmt(excess)} of {token} held beyond the other venue's leg, below the market's minimum order of "
               f"{fmt(market.min_size)}: no order can unwind it. Dust, held to resolution (it pays if that side "
               "wins)" + (", and taken off the next pair's Polymarket leg" if leg.site.executor.venue_name == POLYMARKET
                          else ""))
        leg.risk.decisions.write([Decision(d.strategy, market.condition_id, Side.SELL, 0, excess, 0,
                                           Reason.GROUP_INCOMPLETE, f"cross-venue: {why}")], now)
        with leg.site.db.write() as conn:
            raise_alert(conn, level="info", source="executor", code="ARB_DUST", subject=f"{d.strategy}:{token}",
                        message=f"strategy '{d.strategy}' cross-venue arbitrage: {why} ({leg.site.mode} ledger)")


def _absorbing(d: Decided, market: MarketInfo, order: OrderSpec, hedge_token: str) -> OrderSpec:
    """The Polymarket leg less what that side already holds beyond its Kalshi leg (`hedge_token`): dust no
    order can sell on its own, so the pair ends even; in whole lots, only while the leg stays a legal order."""
    held = d.poly.site.executor.state.totals(d.strategy, order.token_id).size
    hedged = d.kalshi.site.executor.state.totals(d.strategy, hedge_token).size
    excess = held - hedged if 0 < held - hedged < market.min_size else 0
    excess -= excess % LOT
    size = order.size - excess
    # Only an amount the venue can express as it is (a smaller one would leave the other leg uneven instead).
    if excess <= 0 or size < market.min_size or take_size(order.price, size, Side.BUY) != size:
        return order
    return replace(order, size=size)


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
           for site in (d.poly, d.kalshi) for o in site.site.executor.state.orders.values()):
        return True
    for site in (d.poly, d.kalshi):
        ex = site.site.executor
        with site.site.db.read() as conn:
            if trading_reads.fills_in_flight(conn, mode=ex.mode, venue=ex.venue_name, strategy=d.strategy,
                                             condition_ids=markets, since=now - FILLS_IN_FLIGHT_MS) > 0:
                return True
    return False


def kalshi_legs(hosted: Mapping[str, Any], pairs: Mapping[str, tuple[str, bool]]) -> set[str]:
    """The Kalshi markets the cross-venue strategies trade (paired with their Polymarket markets): the
    feed's views must hold their books."""
    return {m for h in hosted.values() if h.instance.spans_venues for m in markets_on(h, KALSHI, pairs)}


def sites(desk: Site, paper: VenueLedger | None, kalshi: VenueLedger | None, name: str,
          hosted: Any) -> tuple[Site, Site] | str:
    """The two ledgers a cross-venue strategy's legs trade on, or why it waits: its Polymarket leg's (the
    desk's, or `paper`, the paper ledger beside a live desk, for a strategy not promoted) and Kalshi's, of
    one mode."""
    beside = desk.site.mode == "live" and not hosted.live
    if beside and (paper is None or not paper.live):
        return "its paper ledger beside the live desk is not open"
    poly = Site(paper, paper.risk, paper.arbitrage) if beside and paper is not None else desk
    if kalshi is None or not kalshi.live or name not in kalshi.strategies:
        return "Kalshi's ledger does not take it now (see the KALSHI_HELD or KALSHI_UNAVAILABLE alerts)"
    if kalshi.mode != poly.site.mode:
        return (f"its Polymarket leg would trade {poly.site.mode} and its Kalshi leg {kalshi.mode}: both legs of "
                "an arbitrage trade one money (promote it and arm both venues live, or keep both on paper)")
    return poly, Site(kalshi, kalshi.risk, kalshi.arbitrage)


def cross_state(name: str, hosted: Any, catalog: MarketCatalog, poly: Site, kalshi: Site,
                pairs: Mapping[str, tuple[str, bool]], state: StrategyState) -> StrategyState:
    """The strategy's state over both ledgers: `state` (its Polymarket leg's) with its Kalshi markets'
    positions and orders, and each venue's free cash."""
    theirs = strategy_state(name, markets_on(hosted, KALSHI, pairs), catalog, kalshi.site.executor.state)
    return replace(state, positions={**state.positions, **theirs.positions},
                   open_orders=state.open_orders + theirs.open_orders,
                   venue_cash={POLYMARKET: state.cash, KALSHI: theirs.cash})


def held_alert(db: Database, name: str, why: str) -> None:
    with db.write() as conn:
        raise_alert(conn, level="warning", source="engine", code="CROSS_VENUE_HELD", subject=name,
                    message=f"cross-venue strategy {name} waits: {why}")
