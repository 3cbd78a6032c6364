"""An exchange's pauses, known before they bite, for a venue whose policy announces them
(`VenuePolicy.announces_pauses`, contracts/venue_policies.py; its watch reads them:
engine/feeds/exchange_state.py).

- **Before a scheduled pause** (a window of its schedule, LEAD_MS ahead) the ledger's intents on
  that venue are emptied: its quotes are withdrawn while cancels are still taken, and nothing new is
  placed into the window. Its adapter may also ask the venue to cancel resting orders on a pause
  itself, so one placed a moment before is cancelled there.
- **While trading is paused**, nothing is placed: each quote held is in the decisions log as
  VENUE_MAINTENANCE with the reason. A pause refusal that comes anyway (a pause not on the
  schedule, met before the status said so) is the venue's maintenance, never a fault (its adapter
  says so), so no breaker counts it.
- **It resumes by itself**: the status is read every second while paused, and the next pass after
  the venue resumes places the quotes again.
- **Said**: what was last read is kept for `engine status` and the dashboard, and a pause's start
  and end alerted, by the venue's adapter (engine/venues/registry.py `pair_feeds`).

Paper trading on such a venue (a paper venue standing in for it) is held the same way: its books do
not move while it is paused, and a paper fill there would be one the venue could not have made.
"""

from __future__ import annotations

from contracts.domain import Intent
from contracts.venue_policies import POLICIES
from engine.feeds.exchange_state import LEAD_MS, ExchangeState, said_when
from engine.risk.gate import Decision, Reason


def _pausing() -> str:
    """How messages name the venue that announces pauses, when a caller does not say (one venue does)."""
    labels = [policy.label for policy in POLICIES.values() if policy.announces_pauses]
    return labels[0] if len(labels) == 1 else "the venue"


def held(state: ExchangeState | None, now: int, lead_ms: int = LEAD_MS, label: str | None = None) -> str | None:
    """Why a ledger on the paused venue (`label`: how messages name it) places nothing now (None: it trades)."""
    label = label or _pausing()
    if state is None or state.read_ms is None:
        return None
    if state.paused:
        kind = "the whole exchange is paused (cancels refused too)" if not state.exchange_active else \
            f"{label}'s trading is paused"
        until = f" until about {said_when(state.resume_ms)}" if state.resume_ms else ""
        return f"{kind}{until}: nothing is placed there until it resumes"
    window = state.near(now, lead_ms)
    if window is not None:
        return (f"{label} pauses trading {said_when(window[0])} to {said_when(window[1])} (its schedule): the desk's "
                f"quotes there are withdrawn {lead_ms // 1000} s before and placed again once it resumes")
    return None


def hold_for_pause(intents: list[Intent], state: ExchangeState | None, now: int,
                   label: str | None = None) -> tuple[list[Intent], list[Decision]]:
    """A ledger's intents, emptied while its venue is paused or about to be, with a decision for
    each quote held."""
    why = held(state, now, label=label)
    if why is None:
        return intents, []
    decisions = [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.VENUE_MAINTENANCE, why)
                 for i in intents for q in i.quotes]
    return [Intent(i.strategy, i.condition_id, ()) for i in intents], decisions
