"""What a venue's adapter offers the desk (each venue's in its package, engine/venues/<venue>/adapter.py,
registered in engine/venues/registry.py): the live `Venue` its orders go to, the `SettlementVenue` its
resolved positions end in cash through, its rules on paper, and what arming it reads (the account and
the host the engine holds, and what its keys need).

Live clients are imported inside their builders: one takes a second to import (signing, web3), which
a paper desk or a backtest never needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.settings import Settings
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import Venue
from engine.venues.paper_rules import PaperRules
from engine.venues.settlement import SettlementVenue


@dataclass(frozen=True)
class LiveParts:
    """What a live adapter is built from."""

    settings: Settings
    catalog: MarketCatalog
    heartbeat_s: float  # how often the desk tells the venue it is alive, where the venue asks


@dataclass(frozen=True)
class Live:
    venue: Venue
    lost_after_ms: int | None = None  # the venue answers a placement sooner than the desk's grace allows for


def _none(settings: Settings) -> str | None:
    return None


@dataclass(frozen=True)
class VenueAdapter:
    reachable: Callable[[Settings], bool]  # the desk's settings name the venue (its live builders can run)
    live: Callable[[LiveParts], Live]
    settlement: Callable[[Settings, Callable[[str], bool]], SettlementVenue]  # (settings, resolved(cid))
    paper: Callable[[], PaperRules]  # its rules as the paper venue applies them (one per paper venue)
    # Its live keys are set: a live ledger of it can reach the venue (what a crash-loop halt cancels through).
    armable: Callable[[Settings], bool] = lambda settings: True
    # The account the settings hold, said without its secret, and the host it trades on (arming checks
    # that a passing preflight ran on both: storage/desk/arming.py); None: none.
    account: Callable[[Settings], str | None] = _none
    host: Callable[[Settings], str | None] = _none
    # What arming it live needs when it is not `armable` (the settings to set, and the check to run).
    arm_needs: str = ""
