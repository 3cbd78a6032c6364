"""JSON views of markets: CLOB ``/markets`` objects, ``/clob-markets`` info, Gamma.

Shapes follow tests/fixtures/polymarket/http/market.json (CLOB) and the Gamma
objects described in the protocol notes (string-encoded arrays, ``version: "v1"``).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from .book import Book
from .chain import COLLATERAL
from .fees import gamma_fees
from .markets import Market, Token, iso
from .units import MICRO, ONE, as_float, fmt

JSON = dict[str, Any]


def quote(book: Book, token: Token) -> tuple[int, int, int, int]:
    """(best bid, best ask, mid, spread) for a token; an empty side counts as 0 / 1."""
    bid, ask = book.token_best(token.is_yes)
    bid = 0 if bid is None else bid
    ask = ONE if ask is None else ask
    return bid, ask, (bid + ask) // 2, ask - bid


def token_price(market: Market, book: Book, token: Token) -> int:
    """Displayed outcome price: the mid while live, the payout once a resolution is proposed
    (1/0, or 0.5/0.5; final or not: only ``umaResolutionStatus`` and the CLOB's ``winner`` say
    it is final)."""
    decided = market.payouts or market.proposed
    if decided is not None:
        return decided[0] if token.is_yes else decided[1]
    return quote(book, token)[2]


def is_50_50(market: Market) -> bool:
    """The CLOB's ``is_50_50_outcome``: the market resolves (or resolved) paying half to each."""
    return (market.payouts or market.proposed) == (ONE // 2, ONE // 2)


def _number(micro: int) -> int | float:
    return micro // MICRO if micro % MICRO == 0 else as_float(micro)


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def clob_market(market: Market, book: Book) -> JSON:
    return {
        "enable_order_book": True,
        "active": True,
        "closed": market.closed,
        "archived": False,
        "accepting_orders": market.accepting_orders and not market.closed,
        "accepting_order_timestamp": iso(market.start_ts),
        "minimum_order_size": _number(market.min_size),
        "minimum_tick_size": as_float(market.tick),
        "condition_id": market.condition_id,
        "question_id": market.question_id,
        "question": market.question,
        "description": market.description,
        "market_slug": market.slug,
        "end_date_iso": market.end_date_iso,
        "game_start_time": None,
        "seconds_delay": _seconds(market.seconds_delay),  # > 0: a sports market (delayed matching)
        "fpmm": "",
        "maker_base_fee": 0,
        "taker_base_fee": 0,
        "notifications_enabled": True,
        "neg_risk": market.neg_risk,
        "neg_risk_market_id": market.neg_risk_market_id,
        "neg_risk_request_id": market.neg_risk_request_id,
        "icon": market.icon,
        "image": market.icon,
        "rewards": _rewards(market),
        "is_50_50_outcome": is_50_50(market),
        "tokens": [
            {"token_id": t.token_id, "outcome": t.outcome,
             "price": as_float(token_price(market, book, t)), "winner": market.winner == t.token_id}
            for t in market.tokens
        ],
        "tags": list(market.tags),
    }


def _rewards(market: Market) -> JSON:
    """The CLOB market's ``rewards``: its daily rate, min size (shares) and max spread (cents)."""
    program = market.reward
    if program is None:
        return {"rates": None, "min_size": 0, "max_spread": 0}
    return {"rates": [{"asset_address": COLLATERAL, "rewards_daily_rate": _number(program.daily_pool)}],
            "min_size": _number(program.min_size), "max_spread": _number(program.max_spread * 100)}


def _compact_rewards(market: Market) -> JSON | None:
    """``/clob-markets``' ``r`` (py-clob-client-v2's ClobRewards), None without a program."""
    program = market.reward
    if program is None:
        return None
    return {"min_size": _number(program.min_size), "max_spread": _number(program.max_spread * 100),
            "enabled": True, "skip_min_order_age": True, "min_order_age_seconds": 0}


def _gamma_rewards(market: Market) -> JSON:
    """Gamma's reward fields: min size (shares), max spread (cents) and the daily rate."""
    program = market.reward
    if program is None:
        return {"rewardsMinSize": 0, "rewardsMaxSpread": 0, "clobRewards": []}
    return {"rewardsMinSize": _number(program.min_size), "rewardsMaxSpread": _number(program.max_spread * 100),
            "clobRewards": [{"id": market.gamma_id, "conditionId": market.condition_id, "assetAddress": COLLATERAL,
                             "rewardsAmount": 0, "rewardsDailyRate": _number(program.daily_pool),
                             "startDate": "2026-04-28", "endDate": "2500-12-31"}]}


def simplified_market(market: Market, book: Book) -> JSON:
    full = clob_market(market, book)
    keys = ("condition_id", "rewards", "tokens", "active", "closed", "archived", "accepting_orders")
    return {k: full[k] for k in keys}


def clob_market_info(market: Market) -> JSON:
    """``/clob-markets/{cid}``: compact keys the V2 client caches (t, mts, nr, fd)."""
    info: JSON = {
        "gst": None,
        "r": _compact_rewards(market),
        "t": [{"t": t.token_id, "o": t.outcome} for t in market.tokens],
        "mos": _number(market.min_size),
        "mts": as_float(market.tick),
        "mbf": 0,
        "tbf": 0,
        "rfqe": False,
        "fd": {"r": _number(market.fee_rate), "e": market.fee_exponent, "to": True},  # taker-only fees
        "oas": 0,
    }
    if market.neg_risk:
        info["nr"] = True
    return info


def _liquidity(book: Book) -> int:
    bids, asks = book.token_levels(True)
    return sum(size * price // MICRO for price, size in bids + asks)


def _volume_24h(market: Market) -> int:
    cutoff = time.time() - 86400
    return sum(v for ts, v in market.trade_times if ts >= cutoff)


def _game_start(market: Market) -> JSON:
    """A sports market's start as Gamma writes it ("2026-04-05 15:10:00+00") and clearBookOnStart."""
    if market.game_start_ts is None:
        return {}
    start = datetime.fromtimestamp(market.game_start_ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00")
    return {"gameStartTime": start, "clearBookOnStart": market.clear_book_on_start}


def _outcome_ids(market: Market) -> JSON:
    """A v1 market's CTF tokens as a JSON-encoded string; a Protocol V2 market's position ids as an array."""
    ids = [t.token_id for t in market.tokens]
    return {"positionIds": ids} if market.protocol_v2 else {"clobTokenIds": json.dumps(ids)}


def gamma_market(market: Market, book: Book) -> JSON:
    bid, ask, _, spread = quote(book, market.yes)
    prices = [fmt(token_price(market, book, t)) for t in market.tokens]
    liquidity = _liquidity(book)
    last = market.last_trade_price if market.last_trade_price is not None else ONE // 2
    return {
        "id": market.gamma_id,
        "question": market.question,
        "conditionId": market.condition_id,
        "questionID": market.question_id,
        "slug": market.slug,
        "description": market.description,
        "startDate": iso(market.start_ts),
        "endDate": market.end_date_iso,
        "endDateIso": market.end_date_iso[:10],
        "outcomes": json.dumps([t.outcome for t in market.tokens]),
        "outcomePrices": json.dumps(prices),
        **_outcome_ids(market),
        "active": True,
        "closed": market.closed,
        "archived": False,
        "acceptingOrders": market.accepting_orders and not market.closed,
        "enableOrderBook": True,
        "negRisk": market.neg_risk,
        "negRiskMarketID": market.neg_risk_market_id,
        "negRiskRequestID": market.neg_risk_request_id,
        "orderPriceMinTickSize": as_float(market.tick),
        "orderMinSize": _number(market.min_size),
        "volume": fmt(market.volume),
        "volumeNum": as_float(market.volume),
        "liquidity": fmt(liquidity),
        "liquidityNum": as_float(liquidity),
        "volume24hr": as_float(_volume_24h(market)),
        "bestBid": as_float(bid),
        "bestAsk": as_float(ask),
        "spread": as_float(spread),
        "lastTradePrice": as_float(last),
        **gamma_fees(market),
        "umaResolutionStatus": market.uma_status,
        # UMA's trail: the statuses before the current one, a JSON-encoded string as captured from the
        # venue (a dispute stays visible after a later proposal).
        "umaResolutionStatuses": json.dumps(market.uma_history),
        "icon": market.icon,
        "image": market.icon,
        "tags": [{"id": str(i + 1), "label": tag, "slug": tag.lower().replace(" ", "-")}
                 for i, tag in enumerate(market.tags[:5])],
        "version": "v2" if market.protocol_v2 else "v1",
        **_game_start(market),
        **_gamma_rewards(market),
    }
