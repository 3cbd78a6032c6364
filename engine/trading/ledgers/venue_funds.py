"""What a live venue whose account is split into sections says before the desk places there
(engine/venues/base.py `SplitAccount`, `SectionedFunds`; a venue's exchange shards, each funding its own
markets, are such sections).

Each pass, before the risk gate, the ledger tells the venue what its intents would buy in each market
(the price and shares of each quote that spends money: a buy, or a sale of more than the strategy holds,
which the planner turns into a buy of the other side) and what its buy orders resting there already hold
back. The venue answers the markets whose new orders it would refuse now, with why: a section short of
what they need (`VENUE_UNFUNDED`: the quotes that spend money are held, sales of shares held still go),
or a window in which any order that rests would be cancelled (`VENUE_MAINTENANCE`: only fill-and-kill
and fill-or-kill orders go). Nothing doomed is sent, so no refusal counts toward a halt.

The operator is told: a section that becomes short is alerted once (`VENUE_UNFUNDED`, warning, with
what is short, where a transfer could come from and the target split that would fund it; a note,
`VENUE_FUNDED`, when it is funded again), each quote held is in the decisions log with the reason, and
what the venue says of its sections is kept for `engine status` and the dashboard
(`engine_state.venue_funds`), where the operator confirms a move (never made unasked).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts.command_refusal import CommandRejected
from contracts.domain import ONE, Intent, Quote, Side
from engine.execution.planner import TAKE
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk.gate import Decision, Reason
from engine.venues.base import QuoteHold, SectionedFunds, SplitAccount, VenueError, VenueUnavailable
from storage.desk.audit import raise_alert
from storage.engine_stores.engine_state import set_venue_funds
from storage.sqlite.db import Database


def spends(strategy: str, quote: Quote, state: ExecutionState, catalog: MarketCatalog,
           condition_id: str) -> tuple[int, int] | None:
    """(price, shares) a quote would buy (None: it only sells shares the strategy holds). Quotes are in
    YES space: a sale of more YES than held is a buy of NO at 1 - price for the rest."""
    if quote.side is Side.BUY:
        return quote.price, quote.size
    market = catalog.get(condition_id)
    held = state.totals(strategy, market.yes_token).sellable if market is not None else 0
    beyond = quote.size - held
    return (ONE - quote.price, beyond) if beyond > 0 else None


def wanted_and_resting(intents: Sequence[Intent], state: ExecutionState, catalog: MarketCatalog) -> tuple[
        dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """(what each intent's market would buy, what the ledger's buy orders resting there hold back)."""
    wanted: dict[str, list[tuple[int, int]]] = {}
    for intent in intents:
        buys = wanted.setdefault(intent.condition_id, [])
        buys += [b for q in intent.quotes if (b := spends(intent.strategy, q, state, catalog, intent.condition_id))]
    resting: dict[str, list[tuple[int, int]]] = {}
    for order in state.orders.values():
        if order.side is Side.BUY and not order.terminal and order.remaining > 0:
            resting.setdefault(order.condition_id, []).append((order.price, order.remaining))
    return wanted, resting


def _goes(quote: Quote, hold: QuoteHold, spent: bool) -> bool:
    return (hold.sells and not spent) or (hold.takes and quote.tif in TAKE)


def held_quotes(intents: Sequence[Intent], holds: Mapping[str, QuoteHold], state: ExecutionState,
                catalog: MarketCatalog) -> tuple[list[Intent], list[Decision]]:
    """The intents with each quote the venue would refuse taken out, and a decision for each."""
    out: list[Intent] = []
    decisions: list[Decision] = []
    for intent in intents:
        hold = holds.get(intent.condition_id)
        if hold is None:
            out.append(intent)
            continue
        kept = []
        for quote in intent.quotes:
            spent = spends(intent.strategy, quote, state, catalog, intent.condition_id) is not None
            if _goes(quote, hold, spent):
                kept.append(quote)
            else:
                decisions.append(Decision(intent.strategy, intent.condition_id, quote.side, quote.price, quote.size,
                                          0, Reason(hold.reason), hold.why[:300]))
        out.append(Intent(intent.strategy, intent.condition_id, tuple(kept)))
    return out, decisions


@dataclass
class FundsWatch:
    """One live ledger's venue sections, said to the operator (the module docstring)."""

    db: Database
    venue_name: str
    subject: str  # how alerts name the ledger ("<venue> live")
    short: dict[str, str] = field(default_factory=dict)  # section -> the words alerted while it is short
    said: str = ""  # the JSON last kept

    def hold(self, venue: SectionedFunds, intents: list[Intent], state: ExecutionState, catalog: MarketCatalog,
             now: int) -> tuple[list[Intent], list[Decision]]:
        wanted, resting = wanted_and_resting(intents, state, catalog)
        holds = venue.quote_holds(wanted, resting, now)
        self.tell(venue.funding())
        if not holds:
            return intents, []
        return held_quotes(intents, holds, state, catalog)

    def tell(self, funding: Mapping[str, Any]) -> None:
        """Keep what the venue said (when it changed) and alert a section that became short or funded."""
        shortfalls = {str(s.get("shard")): str(s.get("words")) for s in funding.get("shortfalls") or []
                      if isinstance(s, dict)}
        said = json.dumps(funding, sort_keys=True, default=str)
        if said == self.said and shortfalls.keys() == self.short.keys():
            return
        with self.db.write() as conn:
            if said != self.said:
                set_venue_funds(conn, self.venue_name, said)
            for section, words in shortfalls.items():
                if section not in self.short:
                    raise_alert(conn, level="warning", source="engine", code="VENUE_UNFUNDED", subject=self.subject,
                                message=words)
            for section in self.short.keys() - shortfalls.keys():
                raise_alert(conn, level="info", source="engine", code="VENUE_FUNDED", subject=self.subject,
                            message=f"{self.subject}: the part of the account that funds section {section}'s quotes "
                                    "holds enough again: they are placed from the next pass.")
        self.said, self.short = said, shortfalls


async def move_funds(venue: object, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The operator's confirmed move (contracts/command_kinds.py `move_funds`): a transfer between two
    sections, or a target split of the free money; refused, naming what is wrong, otherwise."""
    if venue is None:
        raise CommandRejected(f"{payload.get('venue')} is not trading live in this engine: arm it live and start the "
                              "engine, then move its money (or move it on the venue's own site)")
    if not isinstance(venue, SplitAccount):
        raise CommandRejected("this venue's account is not split into sections: there is nothing to move")
    split = payload.get("allocation")
    if split is not None:
        try:
            parts = dict(part.split(":") for part in str(split).replace(" ", "").split(",") if part)
            allocation = {int(k): int(v) for k, v in parts.items()}
        except ValueError:
            raise CommandRejected(f"allocation {split!r}: write it as section:percent pairs, e.g. 0:80,2:20") from None
        if allocation and (sum(allocation.values()) != 100 or min(allocation.values()) < 0):
            raise CommandRejected(f"allocation {split!r}: the percents must be 0 or more and total 100")
        return await _venue_answer(venue.funds.set_allocation(allocation))
    source, destination, amount = payload.get("source"), payload.get("destination"), payload.get("amount")
    if not isinstance(source, int) or not isinstance(destination, int) or source == destination or amount is None:
        raise CommandRejected("a move names two different sections (`source`, `destination`) and an `amount`")
    try:
        micro = Decimal(str(amount)) * ONE
    except ArithmeticError:
        raise CommandRejected(f"amount {amount!r} is not a number") from None
    if micro <= 0 or micro != micro.to_integral_value() or int(micro) % 100:
        raise CommandRejected(f"amount {amount!r}: a positive amount in whole hundredths of a cent")
    return await _venue_answer(venue.funds.move_funds(source, destination, int(micro)))


async def _venue_answer(call: Awaitable[dict[str, object]]) -> dict[str, Any]:
    try:
        return {"moved": await call}
    except VenueUnavailable as exc:  # a move is never sent twice: the money could move twice
        raise CommandRejected(f"no answer from the venue ({exc}): whether it took the move is unknown. Read the "
                              "sections' balances (the dashboard's panel, or the venue's site) before asking "
                              "again: the desk does not send it again by itself") from None
    except VenueError as exc:
        raise CommandRejected(f"the venue refused it: {exc}") from None
