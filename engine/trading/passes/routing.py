"""The ledgers the desk trades, and which one a strategy trades: one (venue, mode).

A ledger (engine/trading/passes/ledger.py) is named by its venue and its mode. The desk's is the venue in use
in the desk's mode; every other is kept in one map under the same key. A strategy trades one venue
(contracts/market_filter.py refuses a list naming two), that of its markets. Its mode: a venue armed on its own
from the desk (contracts/venue_policies.py `venues_armed_alone`, its mode kept in engine_state) trades in its armed
mode; any other venue trades in the desk's mode once the strategy is promoted, on paper before (a strategy
never promoted never trades real money). A cross-venue strategy names the desk venue's markets: its first leg
is routed as they are, its other leg on the pair venue's ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts.command_refusal import CommandRejected
from contracts.venue_policies import policy_of
from contracts.venues import LABELS, venue_of
from engine.trading.passes.ledger import Ledger

LedgerKey = tuple[str, str]  # (venue, mode)


def venue_traded(markets: Sequence[str], desk_venue: str) -> str:
    """The venue a strategy's markets are on (the desk's when it names none)."""
    return venue_of(markets[0]) if markets else desk_venue


def mode_on(venue: str, promoted: bool, desk_mode: str, armed: Mapping[str, str]) -> str:
    """The mode a strategy trades `venue` in: its armed mode for a venue armed on its own, else the
    desk's mode once promoted and paper before."""
    if venue in armed:
        return armed[venue]
    return desk_mode if promoted else "paper"


def ledger_of(hosted: Any, desk: LedgerKey, armed: Mapping[str, str]) -> LedgerKey:
    """The ledger a hosted strategy's intents go to (`desk`: the desk's own)."""
    venue = venue_traded(hosted.markets, desk[0])
    return venue, mode_on(venue, bool(hosted.live), desk[1], armed)


class Ledgers:
    """Every ledger the desk trades: its own, and one per other (venue, mode); which one a strategy or an
    exit goes to."""

    def __init__(self, desk: Ledger, armed: dict[str, str]) -> None:
        self.desk = desk  # the desk's own ledger (its mode changes while stopped)
        self.armed = armed  # venues armed on their own, each in its own mode
        self.open: dict[LedgerKey, Ledger] = {}  # the others

    @property
    def desk_key(self) -> LedgerKey:
        return self.desk.venue_name, self.desk.mode

    def all(self) -> list[Ledger]:
        """Every ledger, the desk's first, then those of the desk's venue (the order their passes run in)."""
        return [self.desk, *self.others()]

    def by_key(self) -> list[tuple[LedgerKey, Ledger]]:
        """The others, the desk venue's first."""
        venue = self.desk_key[0]
        return sorted(self.open.items(), key=lambda kv: (kv[0][0] != venue, kv[0]))

    def others(self) -> list[Ledger]:
        return [ledger for _, ledger in self.by_key()]

    def trading(self) -> list[Ledger]:
        """Every ledger whose venue is connected, the desk's first."""
        return [ledger for ledger in self.all() if ledger.live]

    def get(self, venue: str, mode: str | None = None) -> Ledger | None:
        """The other ledger of `venue` in `mode` (by default the venue's armed mode, else paper)."""
        return self.open.get((venue, mode or self.armed.get(venue, "paper")))

    def of(self, key: LedgerKey) -> Ledger | None:
        """The ledger of `key`, the desk's included (None: not open)."""
        return self.desk if key == self.desk_key else self.open.get(key)

    def route(self, hosted: Any) -> LedgerKey:
        """The ledger a hosted strategy's intents go to (the desk's own key included)."""
        return ledger_of(hosted, self.desk_key, self.armed)

    def for_exit(self, payload: Mapping[str, Any]) -> Ledger:
        """The ledger an operator's exit sells on. A position on another venue (its market is there, or its
        strategy trades there) is sold on that venue's ledger, whatever `ledger` says; on the desk's venue,
        `ledger` names the mode (the desk's by default). Refused when that ledger is not open."""
        desk_venue, desk_mode = self.desk_key
        venue = venue_of(str(payload["condition_id"])) if payload.get("condition_id") else desk_venue
        if venue == desk_venue:
            venue = next((other.venue_name for other in self.others() if other.venue_name != desk_venue
                          and payload.get("strategy") in other.strategies), desk_venue)
        if venue != desk_venue:
            mode = self.armed.get(venue, desk_mode)
            ledger = self.open.get((venue, mode))
            if ledger is None or not ledger.live:
                raise CommandRejected(f"{LABELS[venue]}'s {mode} ledger is not open (no enabled strategy trades a "
                                      f"{LABELS[venue]} market now): its positions can be sold once one does")
            return ledger
        if (mode := payload.get("ledger", desk_mode)) == desk_mode:
            return self.desk
        ledger = self.open.get((desk_venue, mode))
        if ledger is None or not ledger.live:
            raise CommandRejected(f"the desk trades {desk_mode} and nothing trades {mode} beside it now: "
                                  f"its {mode} positions can be sold once it does")
        return ledger

    async def keep_open(self, key: LedgerKey, make: Callable[[LedgerKey], Ledger], names: set[str],
                        starting_cash: int, *, rearm: bool, holds: bool = False) -> Ledger | None:
        """The ledger of `key` kept open for `names` (`_kept_open`)."""
        kept = await _kept_open(self.open.get(key), lambda: make(key), names, starting_cash, rearm=rearm,
                                holds=holds)
        if kept is not None:
            self.open[key] = kept
        return kept

    # -- their life (engine/trading/passes/ledger.py), every ledger's the same, the desk's first ----------------

    async def drain(self, why: str) -> None:
        """Every ledger's strategies' orders withdrawn and their venues' answers awaited (bounded, one after
        the other)."""
        for ledger in self.all():
            await ledger.drain(why)

    async def close(self) -> None:
        """Every ledger's venue released, the others forgotten (the engine stopping: drained before)."""
        for ledger in self.all():
            await ledger.disconnect()
        self.open.clear()

    async def kill(self) -> dict[str, Any]:
        """Every ledger killed: the desk's answer is the kill's, each other's under its name (`answer_key`)."""
        result: dict[str, Any] = {}
        for ledger in self.all():
            answer = await ledger.kill()
            if ledger is self.desk:
                result.update(answer)
            else:
                result[ledger.answer_key] = answer
        return result

    async def set_mode(self, venue: str | None, mode: str) -> None:
        """Only while stopped: a venue armed on its own opens its ledger in `mode` at the next Start (its
        breakers are kept per mode); the desk's (`venue` None) switches the desk's own ledger (`Ledger.switch_mode`)."""
        if venue is not None and venue in self.armed:
            self.armed[venue] = mode
        else:
            await self.desk.switch_mode(mode)


def markets_on(hosted: Any, venue: str, pairs: Mapping[str, tuple[str, bool]]) -> list[str]:
    """The markets of `venue` a hosted strategy trades: those it names (a strategy trades one venue:
    contracts/market_filter.py refuses a list naming two), or, for one spanning venues (cross-venue
    arbitrage), those paired with its markets."""
    if hosted.markets and venue_of(hosted.markets[0]) == venue:
        return list(hosted.markets)
    if hosted.instance.spans_venues:
        return [pairs[cid][0] for cid in hosted.markets if cid in pairs and venue_of(pairs[cid][0]) == venue]
    return []


def traders_on(hosted: Mapping[str, Any], venue: str, mode: str,
               pairs: Mapping[str, tuple[str, bool]] | None = None) -> tuple[set[str], dict[str, str]]:
    """Which hosted strategies trade the ledger of a venue armed on its own in `mode`, and why each other
    trading its markets is held. On paper, all of them. Live: only promoted ones (a strategy never
    promoted never trades real money), and, where the venue nets an account's positions in a market
    (`one_strategy_per_market_live`), one per market (two strategies' books there would not be theirs:
    the first by name keeps it)."""
    policy = policy_of(venue)
    markets = {name: markets_on(h, venue, pairs or {}) for name, h in hosted.items()}
    trading = sorted(name for name, found in markets.items() if found)
    if mode != "live":
        return set(trading), {}
    traders: set[str] = set()
    held: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in trading:
        if not hosted[name].live:
            held[name] = ("it is paper only: promote it on the Strategies page (its paper record first), or arm "
                          f"{policy.label} back to paper")
        elif policy.one_strategy_per_market_live and (shared := sorted(m for m in markets[name] if m in taken)):
            held[name] = (f"strategy {taken[shared[0]]} trades {shared[0]} already, and {policy.label} nets one "
                          f"account's positions in a market: one strategy per {policy.label} market while live")
        else:
            traders.add(name)
            taken.update({m: name for m in markets[name]})
    return traders, held


async def _kept_open(ledger: Ledger | None, make: Callable[[], Ledger], names: set[str],
                           starting_cash: int, *, rearm: bool, holds: bool = False) -> Ledger | None:
    """The ledger its strategies (`names`) trade in: opened when the first is hosted, or while its ledger
    `holds` positions (leftovers of strategies promoted since: valued and exitable, never traded on);
    kept only once open (a failed open is tried again at the next start or reload), its strategies and
    limits brought up to date. `rearm`: an operator's Start, which ends a ledger halt as it ends the desk's."""
    if ledger is None and (names or holds):
        opened = make()
        opened.strategies = names
        await opened.open(starting_cash)
        ledger = opened
        if rearm:
            await ledger.rearm()
    if ledger is not None:
        ledger.strategies = names
        ledger.reconfigure()
    return ledger
