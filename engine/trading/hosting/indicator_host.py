"""Streaming indicators for the markets the desk follows: one instance per (market, variant),
shared by every strategy that asks for it and by the desk's own `indicators` setting, fed each
pass from the books the engine keeps (contracts/indicator_spec.py names them; engine/analytics/
windows.py computes them), handed to strategies on their views and recorded once a minute
(`indicator_values`) for research and the Markets page's chart.

Volume is read from each token's last trade print once a pass: trades between two passes past
the last are not counted (a burst reads smaller than it was, never larger). A new instance starts
from the recorder's ticks over its window (the mids, or the trade prints for volume), so after a
restart the indicators are warm at once; a backtest's replay records none, so there each starts
empty, as the replay does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache

from contracts.domain import MarketView
from contracts.indicator_spec import IndicatorError, Variant, parse_variant
from engine.analytics.windows import TimeWeighted, Velocity, VolumeSurge
from engine.feeds.books import BookCache
from engine.trading.hosting.strategy_host import Hosted
from storage.engine_stores import indicator_store
from storage.sqlite.db import Database

RECORD_MS = 60_000
Indicator = TimeWeighted | Velocity | VolumeSurge


def wanted_indicators(setting: str, views: Mapping[str, MarketView],
                      hosted: Iterable[Hosted]) -> dict[str, set[Variant]]:
    """Market -> the variants asked for there: the desk's setting on every market it follows, each
    strategy's own on its markets (a strategy's unreadable name is left out: plugins are checked
    when loaded, and a typo must not stop the pass)."""
    desk = _desk_variants(setting)
    wanted: dict[str, set[Variant]] = {cid: set(desk) for cid in views} if desk else {}
    for item in hosted:
        for name in getattr(item.instance, "indicators", ()):
            try:
                variant = parse_variant(name)
            except IndicatorError:
                continue
            for cid in item.markets:
                if cid in views:
                    wanted.setdefault(cid, set()).add(variant)
    return wanted


@cache
def _desk_variants(setting: str) -> frozenset[Variant]:
    """The setting's variants, parsed once per distinct value (it is read every pass)."""
    return frozenset(parse_variant(name) for name in setting.split())


def build(variant: Variant) -> Indicator:
    if variant.kind == "twap":
        return TimeWeighted(variant.t1_s * 1000)
    if variant.kind == "velocity":
        return Velocity(variant.t1_s * 1000)
    assert variant.t2_s is not None  # parse_variant gives volume_surge two windows
    return VolumeSurge(variant.t1_s * 1000, variant.t2_s * 1000)


class IndicatorHost:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.instances: dict[tuple[str, Variant], Indicator] = {}
        self._printed: dict[str, int] = {}  # token -> the last trade print counted (ms)
        self._recorded_at = 0

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) An indicator reads the time (its windows, its warm-up): `now` (every pass
        runs) while one is kept; None when none is."""
        return now if self.instances else None

    def want(self, wanted: Mapping[str, Iterable[Variant]], views: Mapping[str, MarketView], now: int) -> None:
        """Keep exactly these (market, variant) instances, others go; a new one starts from what the
        recorder wrote over its window (after a restart it is warm at once, not a window later)."""
        keys = {(cid, variant) for cid, variants in wanted.items() for variant in variants}
        if keys != self.instances.keys():  # asked for every pass: rebuilt only when the wish changed
            self.instances = {key: self.instances.get(key) or self._warmed(key, views, now) for key in sorted(keys)}

    def _warmed(self, key: tuple[str, Variant], views: Mapping[str, MarketView], now: int) -> Indicator:
        cid, variant = key
        indicator = build(variant)
        view = views.get(cid)
        if view is None:
            return indicator
        window_ms = max(variant.t1_s, variant.t2_s or 0) * 1000
        mids = indicator_store.recorded_mids(self.db, view.info.yes_token, now - window_ms, now)
        if isinstance(indicator, VolumeSurge):
            if mids:  # watched since the first recorded book: quiet spells count as no volume
                indicator.update(0.0, mids[0][0])
                tokens = [view.info.yes_token, view.info.no_token]
                for at, size in indicator_store.recorded_trades(self.db, tokens, mids[0][0], now):
                    indicator.update(size / 1e6, at)
                indicator.update(0.0, now)
        else:
            for at, mid in mids:
                indicator.update(mid / 1e6, at)
        return indicator

    def observe(self, views: dict[str, MarketView], books: BookCache, now: int) -> dict[str, MarketView]:
        """Feed every instance and return the views with their values (the same views without any)."""
        if not self.instances:
            return views
        volume = {cid: self._traded(view, books) for cid, view in views.items()}
        values: dict[str, dict[str, float]] = {}
        for (cid, variant), indicator in self.instances.items():
            view = views.get(cid)
            if view is None:
                continue
            if isinstance(indicator, VolumeSurge):
                indicator.update(volume[cid] / 1e6, now)
            elif view.yes is not None and view.yes.mid is not None:
                indicator.update(view.yes.mid / 1e6, now)
            if (value := indicator.value) is not None:
                values.setdefault(cid, {})[variant.name] = value
        if now - self._recorded_at >= RECORD_MS and values:
            self._recorded_at = now
            indicator_store.record(self.db, now, values)
        return {cid: replace(view, indicators=values[cid]) if cid in values else view for cid, view in views.items()}

    def _traded(self, view: MarketView, books: BookCache) -> int:
        shares = 0
        for token in (view.info.yes_token, view.info.no_token):
            last = books.last_trade(token)
            if last is not None and last.at_ms > self._printed.get(token, 0):
                if token in self._printed:  # the first print seen is history, not this pass's flow
                    shares += last.size
                self._printed[token] = last.at_ms
        return shares
