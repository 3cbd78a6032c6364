"""Kalshi's fixed-point strings and times, read exactly into the desk's integer micro-units.

Since March 2026 Kalshi writes every price and amount as a dollar string (`"0.4200"`; fees and fill
costs up to 6 decimals) and every count as a `_fp` string with 2 decimals (`"3.00"`, fractions of a
contract possible). Both fit micro-units exactly: a dollar string of up to 6 decimals is that many
micro-dollars, a count of up to 2 decimals that many micro-contracts. A value that does not fit (a
count with three decimals, a price with seven, a number where a string belongs, a field missing) is
a `KalshiShapeError` naming the record and the field: the caller changes nothing on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

MICRO = 1_000_000
# ASCII digits, the whole string (`fullmatch`): `\d` takes "٣" and `$` a trailing newline, which
# int() then reads; Kalshi writes neither.
_DECIMAL = re.compile(r"(-?)([0-9]{1,15})(?:\.([0-9]+))?")


class KalshiShapeError(ValueError):
    """An answer from Kalshi the desk cannot read: the message names where and why."""


def _parse(where: str, raw: object, decimals: int, *, signed: bool) -> int:
    if not isinstance(raw, str):
        raise KalshiShapeError(f"{where}: expected a fixed-point string, got {type(raw).__name__} {raw!r:.40}")
    match = _DECIMAL.fullmatch(raw)
    if match is None:
        raise KalshiShapeError(f"{where}: {raw!r:.40} is not a fixed-point decimal")
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    if sign and not signed:
        raise KalshiShapeError(f"{where}: {raw!r} is negative")
    if len(frac) > decimals:
        raise KalshiShapeError(f"{where}: {raw!r} has {len(frac)} decimals (Kalshi sends at most {decimals})")
    value = int(whole) * MICRO + int((frac + "000000")[:6])
    return -value if sign else value


def field(record: Mapping[str, Any], name: str, where: str) -> Any:
    if not isinstance(record, Mapping):
        raise KalshiShapeError(f"{where}: expected an object, got {type(record).__name__}")
    if name not in record or record[name] is None:
        raise KalshiShapeError(f"{where}: field {name!r} is missing")
    return record[name]


def dollars(record: Mapping[str, Any], name: str, where: str, *, signed: bool = False) -> int:
    """A `*_dollars` field (or a fee) as micro-dollars."""
    return _parse(f"{where}.{name}", field(record, name, where), 6, signed=signed)


def maybe_dollars(record: Mapping[str, Any], name: str, where: str) -> int | None:
    return None if record.get(name) is None else dollars(record, name, where)


def count(record: Mapping[str, Any], name: str, where: str, *, signed: bool = False) -> int:
    """A `*_fp` count as micro-contracts (0.01 contract is 10,000)."""
    return _parse(f"{where}.{name}", field(record, name, where), 2, signed=signed)


def positive_count(record: Mapping[str, Any], name: str, where: str) -> int:
    """A count that must be more than 0 (a fill's: a fill of nothing is no fill)."""
    value = count(record, name, where)
    if value <= 0:
        raise KalshiShapeError(f"{where}.{name}: {record[name]!r:.20} is not a count of contracts traded")
    return value


def price(record: Mapping[str, Any], name: str, where: str) -> int:
    """A price: dollars strictly between 0 and 1."""
    value = dollars(record, name, where)
    if not 0 < value < MICRO:
        raise KalshiShapeError(f"{where}.{name}: {record[name]!r} is not a price between 0 and 1")
    return value


def _typed(record: Mapping[str, Any], name: str, where: str, kind: type, said: str) -> Any:
    value = field(record, name, where)
    if not isinstance(value, kind):
        raise KalshiShapeError(f"{where}.{name}: expected {said}, got {value!r:.20}")
    return value


def text(record: Mapping[str, Any], name: str, where: str) -> str:
    return str(_typed(record, name, where, str, "a string"))


def choice(record: Mapping[str, Any], name: str, where: str, allowed: tuple[str, ...]) -> str:
    """A field that must be one of Kalshi's documented values (an unknown one is named, not guessed)."""
    value = text(record, name, where)
    if value not in allowed:
        raise KalshiShapeError(f"{where}.{name}: unknown value {value!r} (Kalshi documents {', '.join(allowed)})")
    return value


def flag(record: Mapping[str, Any], name: str, where: str) -> bool:
    return bool(_typed(record, name, where, bool, "true or false"))


def integer(record: Mapping[str, Any], name: str, where: str) -> int:
    value = field(record, name, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise KalshiShapeError(f"{where}.{name}: expected an integer, got {value!r:.20}")
    return value


def maybe_integer(record: Mapping[str, Any], name: str, where: str) -> int | None:
    return None if record.get(name) is None else integer(record, name, where)


def shard(record: Mapping[str, Any], where: str, name: str = "exchange_index") -> int | None:
    """An `exchange_index` (a shard: 0 or more), or None when the record does not say."""
    value = maybe_integer(record, name, where)
    if value is not None and value < 0:
        raise KalshiShapeError(f"{where}.{name}: {value} is not a shard")
    return value


def time_ms(record: Mapping[str, Any], name: str, where: str) -> int:
    """An RFC 3339 time as epoch milliseconds."""
    raw = text(record, name, where)
    try:
        return int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise KalshiShapeError(f"{where}.{name}: {raw!r:.40} is not an RFC 3339 time") from None


def maybe_time_ms(record: Mapping[str, Any], name: str, where: str) -> int | None:
    return None if record.get(name) is None else time_ms(record, name, where)


def items(record: Mapping[str, Any], name: str, where: str) -> list[Any]:
    value = field(record, name, where)
    if not isinstance(value, list):
        raise KalshiShapeError(f"{where}.{name}: expected a list, got {type(value).__name__}")
    return value


def fmt_dollars(micro: int, places: int = 4) -> str:
    """Micro-dollars as a dollar string with `places` decimals (refused if it would round)."""
    whole, frac = divmod(micro, MICRO)
    digits = f"{frac:06d}"
    if places < 6 and digits[places:].strip("0"):
        raise ValueError(f"{micro} micro-dollars do not fit {places} decimals")
    return f"{whole}.{digits[:places]}"


def fmt_count(micro: int) -> str:
    """Micro-contracts as a count string with 2 decimals (refused if it would round)."""
    whole, frac = divmod(micro, MICRO)
    if frac % 10_000:
        raise ValueError(f"{micro} micro-contracts are not a multiple of 0.01 contract")
    return f"{whole}.{frac // 10_000:02d}"
