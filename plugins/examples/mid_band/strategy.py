"""An example strategy plugin's decisions: a bid and an ask `half_band` either side of the YES mid,
on the market's tick grid, rounded away from the mid; nothing where there is no two-sided book."""

from contracts.domain import Intent, Quote, Side, Snapshot, StrategyState
from engine.strategies.base import StrategyBase, closed_reason

from .schema import SCHEMA  # noqa: TID252  (a plugin is its own package: its schema beside it)


class MidBand(StrategyBase):
    schema = SCHEMA

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        size, half = self.micros("size"), self.micros("half_band")
        intents = []
        for condition_id, view in snapshot.markets.items():
            mid = view.yes.mid if view.yes is not None else None
            closed = closed_reason(view.info)
            if closed or mid is None:
                intents.append(self.intent(condition_id, reason=closed or "no two-sided book"))
                continue
            tick = view.info.tick
            bid = (mid - half) // tick * tick
            ask = -(-(mid + half) // tick) * tick
            quotes = tuple(q for q in (Quote(Side.BUY, bid, size), Quote(Side.SELL, ask, size))
                           if 0 < q.price < 1_000_000)
            intents.append(self.intent(condition_id, quotes, reason=f"mid {mid / 1e6:.3f} ± {half / 1e6:.3f}"))
        return intents
