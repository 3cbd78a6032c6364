"""Exits the operator asks for: sell a strategy's position (or all of it: "flatten strategy")
while the desk trades, through the same path a stop loss takes (exits.py): the strategy is kept
out of that market while the exit lasts and for its exit cooldown after, its orders there (and
other strategies' orders the sale would trade with) are withdrawn first, then what it holds
settled is sold with a fill-and-kill at the mid less the max-slippage limit; an attempt that
cannot sell it all is tried again with a growing back-off until nothing is held. Every attempt
is in the decisions log (OPERATOR_EXIT), the first audited and alerted.

The floor the operator confirmed travels in the command (`floors`, contracts/exit_floors.py): no attempt
sells below it, and once the market is below it the exit ends (said in the answer) rather than wait for
the market to come back. A position the command names no floor for, when it names any, was not in what
the operator confirmed (bought since): it is left alone, said so. A command with no floors at all (an
older front end's, or one queued before floors travelled) sells at the engine's own floor when it sends,
the mid less the max slippage, as a stop loss does; its answer says no floor was confirmed.

The command answers with the first attempt: per position, what sold and why anything did not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.command_refusal import CommandRejected
from contracts.domain import fmt
from contracts.exit_floors import read_floors
from engine.risk.gate import Reason
from engine.trading.exits.selling import Holding, Sold, below, dust_words, is_dust, moved_past
from engine.trading.exits.strategy_exits import Exit, find_exits, start_exits, take_exit
from engine.trading.operator.operator_actions import (
    NOT_CONFIRMED,
    confirmed_floor,
    floor_words,
    holdings_in_scope,
    kill_latched,
)

if TYPE_CHECKING:
    from contracts.limits import Limits
    from engine.execution.state import ExecutionState
    from engine.risk.monitor import RiskMonitor
    from engine.trading.exits.exit_book import ExitBook, Key
    from engine.trading.parts import TradingSite


@dataclass
class OperatorExits:
    """The positions the operator asked to sell, until nothing of them is held."""

    # (strategy, token) -> (why, for the log; the floor the operator confirmed, None when none came)
    wanted: dict[Key, tuple[str, int | None]] = field(default_factory=dict)

    def current(self, link: TradingSite) -> list[Exit]:
        """This pass's exits for them; a position sold out (or gone) is dropped, and so is one whose market
        is below the floor the operator confirmed; one whose book has no price this pass waits for it."""
        state = link.executor.state
        out = []
        for key, (why, floor) in list(self.wanted.items()):
            market = link.catalog.get(state.position_market[key][0]) if key in state.position_market else None
            if market is None or state.totals(*key).size <= 0 or is_dust(state.totals(*key).size, market) \
                    or below(floor, link.marks(key[1])):
                del self.wanted[key]  # sold out, gone, down to dust no sale can act on, or below the floor
            elif (exit_ := _exit(state, link, key, why, floor)) is not None:
                out.append(exit_)
        return out

    def with_strategies(self, link: TradingSite, limits: Mapping[str, Limits]) -> list[Exit]:
        """Every exit due on the ledger: the operator's first, then the strategies' own (stop loss, take
        profit, ...) for the positions the operator did not ask about."""
        asked = self.current(link)
        keys = {e.key for e in asked}
        found = find_exits(link.executor.state, link.marks, limits)
        return asked + [e for e in found if e.key not in keys]


def _exit(state: ExecutionState, link: TradingSite, key: Key, why: str, floor: int | None) -> Exit | None:
    totals = state.totals(*key)
    market = state.position_market.get(key)
    book = link.marks(key[1])
    if totals.size <= 0 or market is None or book is None or book.mid is None:
        return None
    return Exit(key[0], market[0], key[1], Reason.OPERATOR_EXIT, why, totals.sellable, book.mid, totals.size,
                floor)


async def exit_positions(link: TradingSite, risk: RiskMonitor, book: ExitBook, exits: OperatorExits,
                         payload: dict[str, Any]) -> dict[str, Any]:
    """The `exit` command: {strategy, condition_id?, outcome?, floors?, reason?}."""
    if kill_latched(link.db):
        raise CommandRejected("the kill latch is set: re-arm first")
    if link.executor.blocked:
        raise CommandRejected("the engine is not trading (stopped or killed): start it first, or use flatten")
    holdings = [h for h in holdings_in_scope(link, payload) if _outcome_matches(h, payload.get("outcome"))]
    if not holdings:
        raise CommandRejected(f"strategy {payload['strategy']!r} holds nothing in that scope")
    why = "the operator's exit" + (f": {payload['reason']}" if payload.get("reason") else "")
    floors = read_floors(payload.get("floors"))
    answers = []
    for holding in holdings:
        key = (holding.strategy, holding.token)
        floor = confirmed_floor(holding, floors)
        if is_dust(holding.held, holding.market):
            answers.append(_answer(holding, dust_words(holding.held, holding.market)))
            continue
        if floors is not None and floor is None:
            answers.append(_answer(holding, NOT_CONFIRMED))
            continue
        if below(floor, link.marks(holding.token)):  # nothing to withdraw the strategy's orders for
            assert floor is not None
            answers.append(_answer(holding, moved_past(floor, link.marks(holding.token)), floor))
            continue
        exit_ = _exit(link.executor.state, link, key, why, floor)
        if exit_ is None:
            answers.append(_answer(holding, "its market has no price to sell at now; nothing was sent"))
            continue
        exits.wanted[key] = (why, floor)
        start_exits(link, risk, book, [exit_])
        sold = await take_exit(link, risk, book, exit_)
        if isinstance(sold, Sold) and sold.below_floor:
            exits.wanted.pop(key, None)  # the exit ends: it does not wait for the market to come back
        answers.append(_answer(holding, sold, floor))
    return {"positions": answers, "sold": fmt(sum(a["sold_shares"] for a in answers)),
            "floor": floor_words(floors),
            "note": "an exit not sold in full is tried again until nothing is held, never below its floor "
                    "(decisions log: OPERATOR_EXIT)"}


def _outcome_matches(holding: Holding, outcome: str | None) -> bool:
    return outcome is None or holding.market.outcome_of(holding.token).value == outcome


def _answer(holding: Holding, result: Sold | str, floor: int | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"strategy": holding.strategy, "condition_id": holding.market.condition_id,
                              "question": holding.market.question,
                              "outcome": holding.market.outcome_of(holding.token).value,
                              "held": fmt(holding.held)}
    if floor is not None:
        answer["floor"] = fmt(floor)
    if isinstance(result, Sold):
        answer.update(sold=fmt(result.sold), sold_shares=result.sold, limit=None if result.limit is None
                      else fmt(result.limit), not_sold=result.why_not, **result.results())
    else:
        answer.update(sold="0", sold_shares=0, not_sold=result)
    return answer
