"""Pure parsers for market metadata: Gamma markets and `/clob-markets/{cid}` fee parameters.

Gamma encodes `outcomes`, `outcomePrices` and `clobTokenIds` as JSON strings; captured
fixtures and newer fields use real arrays; both are accepted. Money and sizes become
micro-units (floats through their shortest repr, never their binary value).

A market's protocol is its Gamma `version`, never guessed from which fields it carries: "v1"
(or none: it predates Protocol V2) trades the CTF tokens of `clobTokenIds`; "v2" trades the
PositionManager's `positionIds` (a real array), which go on the wire as the order's tokenId.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.domain import MICRO, ONE, to_micros
from contracts.market_rows import resolution_trail
from contracts.payouts import PayoutError, Payouts
from contracts.resolutions import Resolution
from contracts.venues.polymarket.protocol_v2 import KNOWN_VERSIONS, NEG_RISK_NOT_SUPPORTED, PROTOCOL_V2


@dataclass(frozen=True, slots=True)
class GammaMarket:
    """One Gamma market as the `markets` table stores it (money and sizes in micro-units)."""

    condition_id: str
    gamma_id: str | None
    question: str
    slug: str | None
    outcomes: tuple[str, ...]
    token_ids: tuple[str, ...]
    tick: int
    min_size: int
    neg_risk: bool
    neg_risk_market_id: str | None
    end_ms: int | None
    active: bool
    closed: bool
    accepting_orders: bool
    enable_order_book: bool
    volume: int
    volume_24h: int
    liquidity: int
    tags: tuple[str, ...]
    version: str | None
    event_id: str | None = None  # the Gamma event the market belongs to (its first `events` entry)
    game_start_ms: int | None = None  # a sports market's game start (`gameStartTime`), when readable
    clear_book_on_start: bool = False  # the venue removes its resting orders at the game's start
    resolution_status: str = ""  # Gamma's umaResolutionStatus, lower case ("" before any proposal)
    resolution_history: tuple[str, ...] = ()  # Gamma's umaResolutionStatuses: the statuses before it
    rebate_ppm: int | None = None  # feeSchedule.rebateRate: the share of taker fees rebated to makers
    # The listing's YES prices (micro probability): best bid, best ask, last trade; None when absent.
    listed_bid: int | None = None
    listed_ask: int | None = None
    listed_last: int | None = None

    @property
    def protocol_v2(self) -> bool:
        return self.version == PROTOCOL_V2

    @property
    def untradable_reason(self) -> str | None:
        """Why this adapter cannot trade the market, or None when it can."""
        if self.version not in KNOWN_VERSIONS:
            return f"gamma version {self.version}: only v1 (CTF) and v2 (Protocol V2) markets are supported"
        if self.protocol_v2 and self.neg_risk:
            return NEG_RISK_NOT_SUPPORTED
        if len(self.token_ids) != 2 or len(self.outcomes) != 2:
            return "not a binary market"
        if not self.enable_order_book:
            return "no order book"
        return None


def json_list(value: Any) -> list[Any]:
    """Gamma sends arrays as JSON-encoded strings; fixtures and newer fields as arrays."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        decoded = json.loads(value)
        return decoded if isinstance(decoded, list) else []
    return list(value) if isinstance(value, (list, tuple)) else []


def iso_ms(value: Any) -> int | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None  # a date without a zone is ambiguous; better none than a wrong one
    return int(stamp.timestamp() * 1000)


def venue_payouts(raw: dict[str, Any]) -> Payouts | None:
    """The payouts a closed Gamma market reports, or None while undecided. A proposed (or
    disputed) outcome is not final: UMA's liveness has not passed and nothing is redeemable yet,
    whatever the prices show. One price of exactly 1 is a winner (older markets carry no
    resolution status); a split (0.5/0.5) counts only with the status `resolved`, for a closed
    market that never resolved shows its last trading prices there. Raises PayoutError for a
    resolved market whose vector is not one (the caller alerts, and settles nothing)."""
    if not raw.get("closed"):
        return None
    status = str(raw.get("umaResolutionStatus") or "").strip().lower()
    if status and status != "resolved":
        return None
    prices = json_list(raw.get("outcomePrices"))
    try:
        micros = [to_micros(str(p)) for p in prices]
    except ValueError:
        micros = []
    if len(micros) == 2 and sorted(micros) == [0, ONE]:
        return Payouts(micros[0], micros[1])
    if status != "resolved":
        return None
    return Payouts.of_values(prices)


def gamma_resolution(raw: dict[str, Any]) -> Resolution | None:
    """How a closed Gamma market ended, as a backtest replays it (contracts/resolutions.py): its payouts
    (`venue_payouts`), at the time Gamma says it closed (`closedTime`, else UMA's `umaEndDate`); None while
    it has not resolved, when its vector is not one, or when Gamma gives no time."""
    try:
        payouts = venue_payouts(raw)
    except PayoutError:
        return None
    at = iso_ms(raw.get("closedTime")) or iso_ms(raw.get("umaEndDate"))
    cid = raw.get("conditionId") or raw.get("condition_id")
    if payouts is None or at is None or not isinstance(cid, str):
        return None
    winner = payouts.winner
    outcome = "value" if winner is None else winner.value.lower()
    return Resolution(cid, at, outcome, payouts.yes if winner is None else None, "gamma")


def _money(raw: dict[str, Any], *keys: str) -> int:
    for key in keys:
        value = raw.get(key)
        if value not in (None, ""):
            try:
                return max(0, to_micros(value))
            except ValueError:
                continue
    return 0


def _probability(value: Any) -> int | None:
    """A listed price strictly between 0 and 1 in micro-units; None for none (the listing writes
    an empty side as 0 or 1, or leaves it out) or anything unreadable."""
    if value in (None, "") or isinstance(value, bool):
        return None
    try:
        micros = to_micros(value)
    except (ValueError, TypeError):
        return None
    return micros if 0 < micros < MICRO else None


def _tags(raw: Any) -> tuple[str, ...]:
    out = []
    for tag in json_list(raw):
        label = (tag.get("label") or tag.get("slug")) if isinstance(tag, dict) else tag
        if label:
            out.append(str(label))
    return tuple(out)


def _yes_first(outcomes: list[str], tokens: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Order (outcomes, tokens) so YES comes first; non Yes/No binaries keep venue order."""
    if len(outcomes) == 2 and [o.lower() for o in outcomes] == ["no", "yes"]:
        return (outcomes[1], outcomes[0]), (tokens[1], tokens[0])
    return tuple(outcomes), tuple(tokens)


def gamma_market(raw: dict[str, Any]) -> GammaMarket | None:
    """A Gamma `/markets` item; None when it lacks the ids a row needs."""
    condition_id = raw.get("conditionId") or raw.get("condition_id")
    version = str(raw["version"]) if raw.get("version") not in (None, "") else None
    ids_field = "positionIds" if version == PROTOCOL_V2 else "clobTokenIds"
    tokens = [str(t) for t in json_list(raw.get(ids_field))]
    if not condition_id or not tokens:
        return None
    outcomes = [str(o) for o in json_list(raw.get("outcomes"))] or (["Yes", "No"] if len(tokens) == 2 else [])
    ordered_outcomes, ordered_tokens = _yes_first(outcomes, tokens)
    tick_raw = raw.get("orderPriceMinTickSize")
    min_raw = raw.get("orderMinSize")
    return GammaMarket(
        condition_id=str(condition_id),
        gamma_id=str(raw["id"]) if raw.get("id") not in (None, "") else None,
        question=str(raw.get("question") or ""),
        slug=raw.get("slug") or None,
        outcomes=ordered_outcomes,
        token_ids=ordered_tokens,
        tick=to_micros(tick_raw) if tick_raw not in (None, "") else 10_000,
        min_size=to_micros(min_raw) if min_raw not in (None, "") else 5 * MICRO,
        neg_risk=bool(raw.get("negRisk", False)),
        neg_risk_market_id=raw.get("negRiskMarketID") or None,
        end_ms=iso_ms(raw.get("endDate") or raw.get("endDateIso")),
        active=bool(raw.get("active", True)),
        closed=bool(raw.get("closed", False)),
        accepting_orders=bool(raw.get("acceptingOrders", not raw.get("closed", False))),
        enable_order_book=bool(raw.get("enableOrderBook", True)),
        volume=_money(raw, "volume", "volumeNum"),
        volume_24h=_money(raw, "volume24hr"),
        liquidity=_money(raw, "liquidity", "liquidityNum"),
        tags=_tags(raw.get("tags")),
        version=version,
        event_id=_event_id(raw.get("events")),
        game_start_ms=iso_ms(raw.get("gameStartTime")),
        clear_book_on_start=raw.get("clearBookOnStart") is True,
        resolution_status=resolution_status(raw),
        resolution_history=resolution_trail(raw.get("umaResolutionStatuses")),
        rebate_ppm=rebate_share(raw),
        listed_bid=_probability(raw.get("bestBid")),
        listed_ask=_probability(raw.get("bestAsk")),
        listed_last=_probability(raw.get("lastTradePrice")),
    )


def resolution_status(raw: dict[str, Any]) -> str:
    """Gamma's `umaResolutionStatus` in lower case ("" when none is reported), cut to a short word:
    it names where UMA's resolution of the market stands, not a price."""
    return str(raw.get("umaResolutionStatus") or "").strip().lower()[:32]


def rebate_share(raw: dict[str, Any]) -> int | None:
    """The share of the market's taker fees its makers are rebated, ppm, as the listing names it
    (`feeSchedule.rebateRate`, a fraction): it differs by category and the venue changes it, so it is
    read, never assumed. None when the market charges no fee or names no share."""
    schedule = raw.get("feeSchedule")
    if raw.get("feesEnabled") is False or not isinstance(schedule, dict):
        return None
    rate = schedule.get("rebateRate")
    if isinstance(rate, bool) or not isinstance(rate, (int, float, str)):
        return None
    try:
        share = to_micros(rate)
    except ValueError:
        return None
    return share if 0 <= share <= MICRO else None


def _event_id(events: Any) -> str | None:
    if isinstance(events, list) and events and isinstance(events[0], dict) and events[0].get("id") not in (None, ""):
        return str(events[0]["id"])[:100]
    return None


EventRole = str  # "named", "placeholder" or "other"


@dataclass(frozen=True, slots=True)
class GammaEvent:
    """A Gamma event as the desk judges a neg-risk set by it: its whole outcome set (every market
    the venue lists under it, each named, a placeholder to be named later, or the "Other" market)
    and whether it is augmented (its outcome set is open: never a complete set)."""

    event_id: str
    title: str
    neg_risk_market_id: str | None
    augmented: bool
    members: tuple[tuple[str, EventRole, str], ...]  # (condition id, role, question)


class EventRefused(ValueError):
    """A Gamma event the desk cannot read; the message says what is wrong."""


def gamma_event(raw: Any) -> GammaEvent:
    """A Gamma `/events/{id}` answer. Unknown fields are ignored; one without an id or a markets
    list, or whose markets lack condition ids, is refused (and changes nothing)."""
    if not isinstance(raw, dict) or raw.get("id") in (None, "") or not isinstance(raw.get("markets"), list):
        raise EventRefused("not a Gamma event (an object with an id and a markets list)")
    members = []
    for market in raw["markets"]:
        if not isinstance(market, dict) or not (market.get("conditionId") or market.get("condition_id")):
            raise EventRefused(f"event {str(raw['id'])[:40]}: a market without a condition id")
        members.append((str(market.get("conditionId") or market.get("condition_id")), _role(market),
                        str(market.get("question") or "")[:500]))
    return GammaEvent(str(raw["id"])[:100], str(raw.get("title") or "")[:500], raw.get("negRiskMarketID") or None,
                      bool(raw.get("negRiskAugmented", False)), tuple(members))


def _role(market: dict[str, Any]) -> EventRole:
    """The venue flags the "Other" market (`negRiskOther`); a placeholder (an outcome to be named
    later) is listed without an order book or tokens, or not yet accepting orders."""
    if market.get("negRiskOther"):
        return "other"
    try:
        tokens = json_list(market.get("positionIds" if market.get("version") == PROTOCOL_V2 else "clobTokenIds"))
    except ValueError:
        tokens = []
    if not market.get("enableOrderBook", True) or not tokens or not market.get("acceptingOrders", True):
        return "placeholder"
    return "named"


@dataclass(frozen=True, slots=True)
class FeeParams:
    """`/clob-markets/{cid}` fee data: fee per share = rate * (p * (1 - p)) ** exponent."""

    fee_rate_ppm: int
    fee_exponent: int
    tick: int | None
    min_size: int | None
    neg_risk: bool


def clob_market_fees(raw: dict[str, Any]) -> FeeParams:
    fd = raw.get("fd") or {}
    tick, min_size = raw.get("mts"), raw.get("mos")
    return FeeParams(
        fee_rate_ppm=to_micros(fd.get("r") or 0),
        fee_exponent=int(fd.get("e") or 1),
        tick=to_micros(tick) if tick not in (None, "") else None,
        min_size=to_micros(min_size) if min_size not in (None, "") else None,
        neg_risk=bool(raw.get("nr", False)),
    )
