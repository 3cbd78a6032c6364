"""Small builders for scripted markets, books and strategy state (human units in, micros out)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.domain import (
    Book,
    Level,
    MarketInfo,
    MarketView,
    OrderView,
    Outcome,
    PositionView,
    Side,
    Snapshot,
    StrategyState,
    to_micros,
)

CENT = 10_000  # 0.01 in micros: the usual tick


def px(value: str | float) -> int:
    """A price or money amount in micros: px("0.52") == 520_000."""
    return to_micros(value)


def sh(value: str | float) -> int:
    """Shares in micro-shares: sh(10) == 10_000_000."""
    return to_micros(value)


def info(cid: str = "c1", *, tick: int = CENT, min_size: int = sh(5), **extra: Any) -> MarketInfo:
    """A market with a one-cent tick; `extra` sets any other MarketInfo field."""
    return MarketInfo(
        condition_id=cid, question=f"Question {cid}?", yes_token=f"{cid}-yes", no_token=f"{cid}-no",
        tick=tick, min_size=min_size, **extra,
    )


def book(bids: Sequence[tuple[str, float]] = (), asks: Sequence[tuple[str, float]] = (),
         token: str = "t", updated_ms: int = 0) -> Book:
    """Levels as (price, shares), best first."""
    return Book(
        token_id=token,
        bids=tuple(Level(px(p), sh(s)) for p, s in bids),
        asks=tuple(Level(px(p), sh(s)) for p, s in asks),
        updated_ms=updated_ms,
    )


def view(cid: str = "c1", *, yes: Book | None = None, no: Book | None = None,
         market: MarketInfo | None = None, fair: str | None = None,
         reference: str | None = None) -> MarketView:
    return MarketView(
        info=market or info(cid), yes=yes, no=no,
        fair_value=px(fair) if fair is not None else None,
        reference=px(reference) if reference is not None else None,
    )


def snap(*views: MarketView, now_ms: int = 0) -> Snapshot:
    return Snapshot(now_ms=now_ms, markets={v.info.condition_id: v for v in views})


def state(name: str = "s", *, positions: dict[str, float] | None = None,
          orders: Sequence[OrderView] = (), cash: str | float = 0) -> StrategyState:
    """`positions`: condition id -> net YES shares (negative: NO shares held)."""
    views = {}
    for cid, shares in (positions or {}).items():
        views[cid] = PositionView(cid, yes=sh(shares)) if shares >= 0 else PositionView(cid, no=sh(-shares))
    return StrategyState(name=name, positions=views, open_orders=tuple(orders), cash=px(cash))


def order(cid: str, side: Side, price: str, size: float, *, outcome: Outcome = Outcome.YES,
          client_id: str = "o1") -> OrderView:
    return OrderView(client_id=client_id, condition_id=cid, outcome=outcome, side=side,
                     price=px(price), size=sh(size), filled=0, status="LIVE")
