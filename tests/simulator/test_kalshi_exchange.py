"""The simulator's Kalshi matching and book-keeping (simulator/kalshi/exchange.py), on random order
flow: money is neither made nor lost (what the accounts hold, what rests reserved and the fees
charged always add up to what they started with, and after settlement every contract was paid
100 cents), no balance goes below zero, and an order that stopped resting holds nothing back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.kalshi.exchange import HOUSE, Exchange, Market, Refused

ACCOUNTS = ("a", "b", "c")
START = 5_000  # cents each account starts with (small: some orders are refused for balance)

orders = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.sampled_from(("yes", "no")), st.sampled_from(("buy", "sell")),
                            st.integers(1, 99), st.integers(1, 60),
                            st.sampled_from(("good_till_canceled", "immediate_or_cancel", "fill_or_kill")),
                            st.booleans(), st.sampled_from(("taker_at_cross", "maker")), st.booleans()),
                  min_size=1, max_size=40)


def _exchange(maker_fees: bool) -> Exchange:
    ex = Exchange(seed=1, starting_balance_cents=START)
    ex.add_market(Market("T", "E", "t", "s", "r1", "r2", 0, 1, maker_fees=maker_fees))
    ex.seed_ladder("T", 50, 0)
    for name in ACCOUNTS:
        ex.open_account(name)
    return ex


def _held(ex: Exchange) -> int:
    """Cash in the accounts and held back for resting orders, plus every fee charged."""
    cash = sum(a.balance for a in ex.accounts.values())
    reserved = sum(o.reserved for o in ex.orders.values())
    fees = sum(f.fee for a in ex.accounts.values() for f in a.fills)
    return cash + reserved + fees


def _open_contracts(ex: Exchange) -> int:
    """Contracts outstanding: each YES held has a NO held against it (the positions net to zero)."""
    return sum(max(0, p.count) for a in ex.accounts.values() for p in a.positions.values())


@settings(max_examples=150, deadline=None)
@given(flow=orders, result=st.sampled_from(("yes", "no", "void")), maker_fees=st.booleans())
def test_money_is_conserved_through_trading_and_settlement(flow: list[tuple], result: str, maker_fees: bool) -> None:
    ex = _exchange(maker_fees)
    start = _held(ex)
    for n, (who, side, action, price, count, tif, post_only, stp, cancel) in enumerate(flow):
        try:
            order = ex.place(who, ticker="T", side=side, action=action, count=count, yes_price=price if side == "yes"
                             else 100 - price, order_type="limit", tif=tif, post_only=post_only, stp=stp,
                             client_order_id=f"o{n}", now_ms=n)
        except Refused:
            continue
        if cancel and order.status == "resting":
            ex.cancel(who, order.order_id, n)
        # every contract bought on one side was sold on the other: cash + reserves + fees, plus what the
        # open contracts will pay, is what everyone started with
        assert _held(ex) + 100 * _open_contracts(ex) == start
        assert all(a.balance >= 0 for name, a in ex.accounts.items() if name != HOUSE)
        assert sum(p.count for a in ex.accounts.values() for p in a.positions.values()) == 0
        assert all(o.reserved == 0 for o in ex.orders.values() if o.status != "resting")
        assert all(0 <= o.remaining <= o.initial_count for o in ex.orders.values())
    owed = {name: a.balance + (a.positions["T"].cost if "T" in a.positions else 0)
            + sum(o.reserved for o in ex.orders.values() if o.account == name and o.status == "resting")
            for name, a in ex.accounts.items()}
    ex.settle("T", result, 10_000)
    assert _open_contracts(ex) == 0
    if result == "void":  # each account is paid back what its contracts cost, and its resting orders' reserves
        # (costs are each account's own averages: they need not add up to 100 cents a contract across accounts)
        assert {name: a.balance for name, a in ex.accounts.items()} == owed
    else:
        assert _held(ex) == start  # every contract paid 100 cents to its winning side
    assert all(o.reserved == 0 and o.status != "resting" for o in ex.orders.values())
