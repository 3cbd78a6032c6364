"""The up/down windows the desk follows: each one's price to beat read from the venue once it has
opened, and how each is priced, kept for the Markets page.

Every pass of the series job (engine/trading/passes/jobs.py, every few seconds), for each window in the
catalog that has opened and not ended: its price to beat is asked from Gamma (its event's
`eventMetadata.priceToBeat`, engine/venues/polymarket/series.py) until Gamma has published it, and handed to the
reference (engine/venues/polymarket/spot_reference.py), which then prices the window against the venue's number
whenever the desk joined it; and its pricing (which stream, which price to beat, from where) is
written to `updown_windows` when it changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.domain import MarketInfo
from contracts.updown import Window, window_of
from engine.venues.polymarket.series import prices_to_beat
from engine.venues.polymarket.spot_reference import UpDownReference
from storage.engine_stores.updown_store import WindowPricing, record
from storage.sqlite.db import Database


class WindowWatch:
    def __init__(self, db: Database, gamma_host: str) -> None:
        self.db = db
        self.gamma_host = gamma_host
        self.recorded: dict[str, WindowPricing] = {}

    async def check(self, reference: UpDownReference | None, markets: Iterable[MarketInfo], now_ms: int) -> int:
        """One pass; returns how many prices to beat it read from Gamma."""
        if reference is None:
            return 0
        open_now = {info.condition_id: (info, window) for info in markets
                    if (window := window_of(info.slug)) is not None and _open(window, now_ms)}
        wanted = {info.slug: window for info, window in open_now.values()
                  if info.slug and (window.series.asset, window.start_s) not in reference.beats}
        found = await prices_to_beat(self.gamma_host, wanted) if wanted else {}
        for slug, price in found.items():
            reference.set_beat(wanted[slug], price)
        self._record(reference, open_now.items(), now_ms)
        return len(found)

    def _record(self, reference: UpDownReference, windows: Iterable[tuple[str, tuple[MarketInfo, Window]]],
                now_ms: int) -> None:
        changed = []
        for cid, _ in windows:
            pricing = reference.pricing(cid)
            if pricing is None:
                continue
            row = WindowPricing(cid, pricing.priced_by, None if pricing.beat is None else round(pricing.beat * 1e6),
                                pricing.beat_from)
            if self.recorded.get(cid) != row:
                changed.append(row)
        record(self.db, changed, now_ms)
        self.recorded.update({row.condition_id: row for row in changed})


def _open(window: Window, now_ms: int) -> bool:
    return window.start_s * 1000 <= now_ms < window.end_s * 1000
