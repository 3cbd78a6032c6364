"""Which markets a configured strategy trades: an explicit list or a filter over known markets.

The stored JSON (strategies.markets) is either
    ["0xabc…", "0xdef…"]                      explicit condition ids, kept in that order, or
    {"filter": {"text": "bitcoin", "min_liquidity": 5000, "sort": "volume", ...}}
with the filter fields below (money in pUSD, human units). `select_markets` is pure: the engine
passes the candidates it knows and the current time; the dashboard can call it for a preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.domain import MarketInfo, to_micros
from contracts.params import Errors, ParamSpec, ParamType, check_value
from contracts.venues import desk_venue, paired_venue, venue_of

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SORT_KEYS = ("liquidity", "volume", "volume_24h")


@dataclass(frozen=True, slots=True)
class MarketCandidate:
    """A market the engine knows, with the activity figures a filter ranks by (micro-pUSD)."""

    info: MarketInfo
    volume: int = 0
    liquidity: int = 0
    volume_24h: int = 0

    @property
    def condition_id(self) -> str:
        return self.info.condition_id


# Scalar filter fields reuse the params validation; "text" and "tags" are checked by hand.
FILTER_FIELDS: tuple[ParamSpec, ...] = (
    ParamSpec("min_volume", ParamType.PUSD, 0, "Lifetime volume at least this.", minimum=0),
    ParamSpec("min_liquidity", ParamType.PUSD, 0, "Order book liquidity at least this.", minimum=0),
    ParamSpec("ends_after_hours", ParamType.DECIMAL, 0, "Ends no sooner than this many hours "
              "from now (markets without an end date are excluded when set).", minimum=0, unit="h"),
    ParamSpec("ends_within_days", ParamType.DECIMAL, None, "Ends within this many days "
              "(markets without an end date are excluded when set).", minimum=0, unit="days"),
    ParamSpec("neg_risk_only", ParamType.BOOL, False, "Only markets of neg-risk events."),
    ParamSpec("tradable_only", ParamType.BOOL, True, "Only open markets accepting orders."),
    ParamSpec("max_markets", ParamType.INT, 20, "Keep at most this many, best first.",
              minimum=1, maximum=1000),
    ParamSpec("sort", ParamType.CHOICE, "liquidity", "Rank by this, highest first.", choices=SORT_KEYS),
)
_SCALARS = {spec.name: spec for spec in FILTER_FIELDS}
_TEXT_FIELDS = ("text", "tags")


SPANS_VENUES = frozenset({"cross_venue_arb"})  # kinds whose Kalshi side comes from each market's pair


def validate_market_spec(spec: object, kind: str = "") -> Errors:
    """Errors per field ("markets[2]", "filter.min_volume", ...); empty when the spec is valid. A kind
    spanning venues names Polymarket markets only (each one's Kalshi side is its pair's)."""
    if isinstance(spec, list):
        listed: Errors = {
            f"markets[{i}]": "must be a non-empty condition id string"
            for i, item in enumerate(spec)
            if not isinstance(item, str) or not item.strip()
        }
        venues = {venue_of(item.strip()) for item in spec} if not listed else set()
        if len(venues) > 1:
            listed["markets"] = ("a strategy trades one venue: list Polymarket markets or Kalshi markets "
                                 "(kalshi:<ticker>), not both (make a second strategy for the other venue)")
        elif kind in SPANS_VENUES and paired_venue() in venues:
            listed["markets"] = ("a cross-venue arbitrage names the Polymarket markets you paired with Kalshi: "
                                 "each one's Kalshi side is the market its pair links (python -m engine pairs add)")
        return listed
    if isinstance(spec, Mapping):
        errors: Errors = {f"{key}": "unknown key (expected only 'filter')" for key in spec if key != "filter"}
        if "filter" not in spec:
            errors["filter"] = "missing"
        elif not isinstance(spec["filter"], Mapping):
            errors["filter"] = "must be an object of filter fields"
        else:
            errors.update(_filter_errors(spec["filter"]))
        return errors
    return {"markets": 'must be a list of condition ids or {"filter": {...}}'}


def _filter_errors(raw: Mapping[str, Any]) -> Errors:
    errors: Errors = {}
    for key, value in raw.items():
        name = f"filter.{key}"
        if key == "text":
            if not isinstance(value, str):
                errors[name] = "must be text"
        elif key == "tags":
            if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
                errors[name] = "must be a list of tag names"
        elif key in _SCALARS:
            if not (key == "ends_within_days" and value is None):
                _, message = check_value(_SCALARS[key], value)
                if message:
                    errors[name] = message
        else:
            known = ", ".join(sorted((*_TEXT_FIELDS, *_SCALARS)))
            errors[name] = f"unknown filter field (known: {known})"
    return errors


def select_markets(spec: object, markets: Sequence[MarketCandidate], *, now_ms: int) -> list[str]:
    """Condition ids the spec selects. An invalid spec selects nothing (fail closed).

    An explicit list is returned as given (deduplicated, order kept), whether or not the ids
    are among `markets`: the operator named them, and the engine reports ids it cannot resolve.
    """
    if validate_market_spec(spec):
        return []
    if isinstance(spec, list):
        return list(dict.fromkeys(item.strip() for item in spec))
    assert isinstance(spec, Mapping)
    rules = _FilterRules.parse(spec["filter"], now_ms)
    chosen = [m for m in markets if rules.accepts(m)]
    chosen.sort(key=lambda m: (-getattr(m, rules.sort), m.condition_id))
    return list(dict.fromkeys(m.condition_id for m in chosen))[: rules.max_markets]


@dataclass(frozen=True, slots=True)
class _FilterRules:
    words: tuple[str, ...]
    tags: frozenset[str]
    min_volume: int
    min_liquidity: int
    ends_after_ms: int | None
    ends_before_ms: int | None
    neg_risk_only: bool
    tradable_only: bool
    max_markets: int
    sort: str

    @classmethod
    def parse(cls, raw: Mapping[str, Any], now_ms: int) -> _FilterRules:
        """From a validated filter: defaults filled in, money in micros, times absolute."""
        values = {spec.name: spec.default for spec in FILTER_FIELDS}
        for key, value in raw.items():
            if key in _SCALARS and value is not None:
                values[key] = check_value(_SCALARS[key], value)[0]
        after_h, within_d = values["ends_after_hours"], values["ends_within_days"]
        return cls(
            words=tuple(str(raw.get("text", "")).lower().split()),
            tags=frozenset(t.strip().lower() for t in raw.get("tags", [])),
            min_volume=to_micros(values["min_volume"]),
            min_liquidity=to_micros(values["min_liquidity"]),
            ends_after_ms=now_ms + int(after_h * HOUR_MS) if after_h else None,
            ends_before_ms=now_ms + int(within_d * DAY_MS) if within_d is not None else None,
            neg_risk_only=values["neg_risk_only"],
            tradable_only=values["tradable_only"],
            max_markets=values["max_markets"],
            sort=values["sort"],
        )

    def accepts(self, market: MarketCandidate) -> bool:
        info = market.info
        if venue_of(info.condition_id) != desk_venue():  # another venue's market is traded only when named
            return False
        if self.tradable_only and (info.closed or not info.tradable or not info.accepting_orders):
            return False
        if self.neg_risk_only and not info.neg_risk:
            return False
        if market.volume < self.min_volume or market.liquidity < self.min_liquidity:
            return False
        if self.tags and not self.tags & {t.lower() for t in info.tags}:
            return False
        if self.words:
            haystack = f"{info.question} {info.slug or ''}".lower()
            if not all(word in haystack for word in self.words):
                return False
        return self._ends_in_window(info.end_ms)

    def _ends_in_window(self, end_ms: int | None) -> bool:
        if self.ends_after_ms is None and self.ends_before_ms is None:
            return True
        if end_ms is None:
            return False
        if self.ends_after_ms is not None and end_ms < self.ends_after_ms:
            return False
        return self.ends_before_ms is None or end_ms <= self.ends_before_ms
