"""Resting quotes the venue refused, held out of the decisions on events until the next timed pass.

A refusal marks its market (engine/trading/passes/event_decisions.py), and its REJECTED row changes
the market's inputs, so the decision that follows runs; a quote refused for a reason that lasts (the
balance, the account, a market the venue stopped taking orders in) is then wanted again and would be
placed again, refused again and decided again: measured against the simulator refusing every order,
34 placements of each quote in 0.49 s until the error-rate breaker halted the desk, where the timed
pass tries it once a pass (5 in 2 s). Now a decision on events leaves out a quote the venue refused
(the same strategy, market, YES side and price; any size, as the gate may trim it) until the next
timed pass starts, and that pass tries it again as it always did: a refused quote is retried at the
timed cadence, never faster. Takes have their own hold in the risk gate (engine/risk/take_backoff.py);
a refusal made before sending (the gate's last check, the venue's health) writes no row, so its
decision's inputs are unchanged and it does not loop. Pure: the caller passes the times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from contracts.domain import Intent, Side, yes_space
from engine.execution.bus import PlacementRefused
from engine.execution.planner import TAKE


class RefusedQuotes:
    def __init__(self) -> None:
        # (strategy, market) -> the YES-space (side, price) of each refused quote, and when (ms)
        self.held: dict[tuple[str, str], dict[tuple[Side, int], int]] = {}

    def refused(self, event: PlacementRefused, now: int) -> None:
        """The venue refused a placement: a resting one waits for the next timed pass."""
        spec = event.spec
        if not event.by_venue or spec.tif in TAKE:
            return
        quote = yes_space(spec.outcome, spec.side, spec.price)
        self.held.setdefault((event.strategy, event.market.condition_id), {})[quote] = now

    def passed(self, started: int) -> None:
        """A timed pass that started at `started` tried again what was refused before it."""
        for key, quotes in list(self.held.items()):
            kept = {quote: at for quote, at in quotes.items() if at >= started}
            if kept:
                self.held[key] = kept
            else:
                del self.held[key]

    def hold(self, intents: list[Intent], working: Callable[[str, str], Iterable[tuple[Side, int]]]) -> list[Intent]:
        """`intents` without the refused quotes. `working(strategy, market)`: the YES side and price of
        each of its open orders there. An intent with a refused quote that has an order working at its
        price (a top-up refused: leaving the quote out would cancel that order), or with a refused leg
        of an arbitrage (whole or not at all), is left out whole: what is in force stays, and the
        timed pass decides it."""
        if not self.held:
            return intents
        out: list[Intent] = []
        for intent in intents:
            held = self.held.get((intent.strategy, intent.condition_id))
            refused = [q for q in intent.quotes if q.tif not in TAKE and (q.side, q.price) in held] if held else []
            if not refused:
                out.append(intent)
                continue
            busy = set(working(intent.strategy, intent.condition_id))
            if not any(q.group or (q.side, q.price) in busy for q in refused):
                out.append(replace(intent, quotes=tuple(q for q in intent.quotes if q not in refused)))
        return out
