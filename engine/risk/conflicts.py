"""Two strategies wanting opposite things in one market: the surer one trades.

A strategy's intent is *directional* in a market when every quote it wants there is on one side
(quotes are in YES space: a bid wants YES up, an ask wants it down); a market maker quoting both
sides wants no direction and is never in a conflict. When directional intents in one market point
both ways and at least one of them states a confidence (`Intent.confidence`: value betting's is
its fair value's source's, the operator's counts as certain), the most confident intent wins:
every intent on the other side keeps only the quotes that reduce its own position (an exit comes
first, whoever is surer) and is told why in the decisions log (`CONFLICT`). Ties, and intents
stating no confidence (the least sure), fall back to the strategies' priority and then their
names, as the self-trade rule orders them. When no intent in the market states a confidence
nothing changes here: the self-trade rule alone applies, as before.

Pure, and called once a tick by the risk monitor before the self-trade rule
(engine/risk/monitor.py); the seam is `settle`, which takes the tick's intents, each strategy's
position and the priorities, and gives back the intents and the refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from contracts.domain import Intent, Quote, Side, fmt
from engine.risk.self_trade import Refusal

NetYes = Callable[[str, str], int]  # (strategy, market) -> YES-equivalent shares held (NO counts short)


def direction(intent: Intent) -> Side | None:
    """The YES-space side every quote of the intent is on, or None (no quotes, or both sides)."""
    sides = {q.side for q in intent.quotes}
    return sides.pop() if len(sides) == 1 else None


def settle(intents: list[Intent], net_yes: NetYes,
           priorities: Mapping[str, int]) -> tuple[list[Intent], list[Refusal]]:
    """The intents with the losing side's position-adding quotes held back, and why each was."""
    by_market: dict[str, list[int]] = {}
    for i, intent in enumerate(intents):
        if direction(intent) is not None:
            by_market.setdefault(intent.condition_id, []).append(i)
    out = list(intents)
    refusals: list[Refusal] = []
    for members in by_market.values():
        contenders = [intents[i] for i in members]
        if len({direction(c) for c in contenders}) < 2 or all(c.confidence is None for c in contenders):
            continue
        winner = max(contenders, key=lambda c: (_sure(c), priorities.get(c.strategy, 0), _by_name(c.strategy)))
        side = direction(winner)
        for i in members:
            if direction(intents[i]) is not side:
                out[i], held = _hold(intents[i], winner, net_yes(intents[i].strategy, intents[i].condition_id))
                refusals += held
    return out, refusals


def _sure(intent: Intent) -> int:
    return -1 if intent.confidence is None else intent.confidence


def _by_name(name: str) -> tuple[int, ...]:
    """Earlier names rank higher on a full tie (the self-trade rule's order): negated code points."""
    return tuple(-ord(c) for c in name)


def _hold(loser: Intent, winner: Intent, held: int) -> tuple[Intent, list[Refusal]]:
    """The loser's quotes that reduce its position stay; the others wait, each with the reason."""
    kept: list[Quote] = []
    refusals: list[Refusal] = []
    for quote in loser.quotes:
        if (quote.side is Side.SELL and held > 0) or (quote.side is Side.BUY and held < 0):
            kept.append(quote)  # it reduces the position: an exit comes first
            continue
        refusals.append(Refusal(loser.strategy, loser.condition_id, quote, _why(loser, winner)))
    return (loser if len(kept) == len(loser.quotes) else replace(loser, quotes=tuple(kept))), refusals


def _why(loser: Intent, winner: Intent) -> str:
    wants = "YES up" if direction(winner) is Side.BUY else "YES down"
    theirs = "unstated" if winner.confidence is None else fmt(winner.confidence)
    mine = "unstated" if loser.confidence is None else fmt(loser.confidence)
    how = "surer" if _sure(winner) > _sure(loser) else "as sure, higher in priority or name"
    return (f"strategy '{winner.strategy}' wants {wants} here with confidence {theirs} against this one's {mine} "
            f"({how}): this quote waits; quotes that reduce the position still go")
