"""Exact fixed-point arithmetic: prices, sizes and balances are ints in 1e-6 units.

Prices are micro-units of pUSD per share (0.52 -> 520_000), sizes are micro-shares,
balances are micro-pUSD, exactly the 6-decimal integers the exchange contracts use.
Floats never touch money; they only appear in a few JSON outputs where the real
venue itself sends numbers (e.g. ``minimum_tick_size``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICRO = 1_000_000
ONE = MICRO  # price of a certain outcome


class AmountError(ValueError):
    """A decimal string that is not a valid 6-decimal amount."""


def to_micro(value: str | int | float | Decimal) -> int:
    """Parse a human amount (``"0.52"``, ``5``) into micro-units, refusing >6 decimals."""
    try:
        dec = Decimal(str(value))
    except InvalidOperation as exc:
        raise AmountError(f"not a number: {value!r}") from exc
    scaled = dec * MICRO
    if scaled != scaled.to_integral_value():
        raise AmountError(f"more than 6 decimals: {value!r}")
    return int(scaled)


def fmt(micro: int) -> str:
    """Format micro-units as the venue does: plain decimal, no trailing zeros."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")


def as_float(micro: int) -> float:
    """For the few JSON fields the venue sends as numbers (never used in arithmetic)."""
    return float(Decimal(micro) / MICRO)


def decimals(micro: int) -> int:
    """How many decimals the human form of ``micro`` needs (0..6)."""
    if micro % MICRO == 0:
        return 0
    return len(f"{micro % MICRO:06d}".rstrip("0"))


def ceil_div(a: int, b: int) -> int:
    return -((-a) // b)


def notional(size: int, price: int) -> int:
    """Cash value of ``size`` micro-shares at ``price`` micro-pUSD, rounded down."""
    return size * price // MICRO


def notional_up(size: int, price: int) -> int:
    return ceil_div(size * price, MICRO)


def amount_decimals(tick: int) -> int:
    """Max decimals of the pUSD leg of a limit order (price decimals + 2 size decimals)."""
    return decimals(tick) + 2
