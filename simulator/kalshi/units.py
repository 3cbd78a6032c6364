"""Kalshi's fixed-point strings, held as integers: dollars in micro-dollars (1,000,000 = $1) and
contract counts in micro-contracts (1,000,000 = one contract; Kalshi's grain is 0.01 contract).

Kalshi's documentation (Fixed-Point Representation): prices are `*_dollars` strings, responses emit
4 decimals (6 for fees and fill costs), requests take 2-4 (6 at most); counts are `*_fp` strings,
2 decimals in responses, 0-2 accepted in requests. A value with more decimals, a sign where none
belongs, an exponent or anything not a plain decimal is refused (the caller names the field).
"""

from __future__ import annotations

import re

MICRO = 1_000_000
CENTI_CONTRACT = 10_000  # micro-contracts in 0.01 contract, Kalshi's smallest count
_DECIMAL = re.compile(r"^(-?)(\d{1,12})(?:\.(\d+))?$")


class BadNumber(ValueError):
    """A fixed-point string Kalshi would refuse (the message says why, not the value's field)."""


def _parse(text: object, decimals: int, *, signed: bool = False) -> int:
    if not isinstance(text, str):
        raise BadNumber(f"must be a string of digits, not {type(text).__name__}")
    match = _DECIMAL.match(text)
    if match is None or (match.group(1) and not signed):
        raise BadNumber(f"{text!r} is not a plain decimal string")
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    if len(frac) > decimals:
        raise BadNumber(f"{text!r} has more than {decimals} decimal places")
    value = int(whole) * MICRO + int((frac + "000000")[:6])
    return -value if sign else value


def dollars_in(text: object, decimals: int = 6) -> int:
    """A request's dollar string as micro-dollars (at most `decimals` places)."""
    return _parse(text, decimals)


def count_in(text: object) -> int:
    """A request's count string (0-2 decimals) as micro-contracts."""
    return _parse(text, 2)


def dollars(micro: int, places: int = 4) -> str:
    """Micro-dollars as Kalshi writes dollars: 4 places, or 6 when the value needs them
    (`places` 6: always 6, as fee and fill-cost fields are written)."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    text = f"{frac:06d}"
    if places == 4 and text.endswith("00"):
        text = text[:4]
    return f"{sign}{whole}.{text}"


def count(micro: int) -> str:
    """Micro-contracts as a count string with 2 decimals (the value is always on 0.01)."""
    sign = "-" if micro < 0 else ""
    whole, frac = divmod(abs(micro), MICRO)
    return f"{sign}{whole}.{frac // CENTI_CONTRACT:02d}"


def cents(micro: int) -> int:
    """Whole cents of a micro-dollar amount, truncated toward zero (Kalshi's legacy `balance`)."""
    return int(micro / 10_000)
