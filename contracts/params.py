"""Parameter schemas: what a strategy may be configured with, and their validation.

Each strategy kind's `StrategyKind` (contracts/strategy_schemas/) holds its `params_schema`,
a tuple of `ParamSpec`, and its cross-field checks. The dashboard renders the schema as a form and
validates with `StrategyKind.validate`; the engine validates the same way when it builds the strategy.
Params are stored as JSON in human units ("spread": 0.02 is a probability, "size": 10 is shares)
and each strategy converts them to integer micro-units itself.

Validation never raises for bad input: it returns the normalised params (defaults filled in,
numbers coerced to JSON-friendly int/float) and a dict of per-field, human-readable errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from contracts.domain import EXACT, BadNumber, NotFinite, OutOfRange, read_decimal

Params = dict[str, Any]
Errors = dict[str, str]

_SIX_PLACES = Decimal("0.000001")
# Tolerated distance between a float and its 6-decimal rounding: float noise from a number
# input (0.1 + 0.2) is accepted and rounded, a real 7th decimal (0.0000005) is refused.
_FLOAT_NOISE = Decimal("1e-12")


class ParamType(StrEnum):
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    CHOICE = "choice"
    PROBABILITY = "probability"  # 0..1, converted to micros
    PUSD = "usdc"  # money, converted to micro-pUSD
    SHARES = "shares"  # converted to micro-shares
    BPS = "bps"  # basis points, whole numbers
    SECONDS = "seconds"  # whole seconds

    @property
    def is_integral(self) -> bool:
        return self in (ParamType.INT, ParamType.BPS, ParamType.SECONDS)

    @property
    def is_micro(self) -> bool:
        """Types a strategy converts to micro-units: at most 6 decimal places allowed."""
        return self in (ParamType.PROBABILITY, ParamType.PUSD, ParamType.SHARES)


_DEFAULT_UNITS: dict[ParamType, str] = {
    ParamType.PROBABILITY: "probability",
    ParamType.PUSD: "pUSD",
    ParamType.SHARES: "shares",
    ParamType.BPS: "bps",
    ParamType.SECONDS: "s",
}


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One configurable field: how the dashboard renders it and how it is validated.

    `minimum`/`maximum` are inclusive bounds in the field's human unit (None: unbounded, except
    that probabilities are always within 0..1). `choices` is required for CHOICE fields.
    """

    name: str
    type: ParamType
    default: Any
    help: str
    label: str = ""
    minimum: float | int | None = None
    maximum: float | int | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    step: float | int | None = None

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def unit_label(self) -> str:
        return self.unit or _DEFAULT_UNITS.get(self.type, "")

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (for the dashboard or an API)."""
        return {
            "name": self.name,
            "type": str(self.type),
            "label": self.title,
            "default": self.default,
            "min": self.minimum,
            "max": self.maximum,
            "unit": self.unit_label,
            "choices": list(self.choices),
            "step": self.step,
            "help": self.help,
        }


class ParamsError(ValueError):
    """Raised by a strategy constructor given params that do not validate."""

    def __init__(self, kind: str, errors: Mapping[str, str]) -> None:
        self.kind = kind
        self.errors = dict(errors)
        detail = "; ".join(f"{name}: {msg}" for name, msg in sorted(self.errors.items()))
        super().__init__(f"invalid params for {kind}: {detail}")


def defaults(schema: Sequence[ParamSpec]) -> Params:
    return {spec.name: spec.default for spec in schema}


def validate_schema(schema: Sequence[ParamSpec], raw: object) -> tuple[Params, Errors]:
    """Check `raw` against `schema`: unknown fields refused, missing fields defaulted."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return defaults(schema), {"params": "must be a JSON object of field: value"}
    known = {spec.name: spec for spec in schema}
    errors: Errors = {}
    for name in raw:
        if name not in known:
            errors[str(name)] = f"unknown field (known: {', '.join(sorted(known))})"
    params: Params = {}
    for spec in schema:
        if spec.name not in raw:
            params[spec.name] = spec.default
            continue
        value, message = check_value(spec, raw[spec.name])
        if message:
            errors[spec.name] = message
            params[spec.name] = spec.default
        else:
            params[spec.name] = value
    return params, errors


def check_value(spec: ParamSpec, value: object) -> tuple[Any, str]:
    """One field: (normalised value, "") or (None, a sentence for the operator)."""
    if spec.type is ParamType.BOOL:
        if isinstance(value, bool):
            return value, ""
        return None, "must be true or false"
    if spec.type is ParamType.CHOICE:
        if isinstance(value, str) and value in spec.choices:
            return value, ""
        return None, f"must be one of: {', '.join(spec.choices)}"
    number, message = _as_decimal(value)
    if message:
        return None, message
    assert number is not None
    if spec.type.is_integral:
        if number != number.to_integral_value():
            return None, "must be a whole number"
        return _in_bounds(spec, number, int(number))
    if spec.type.is_micro:
        rounded = number.quantize(_SIX_PLACES, rounding=ROUND_HALF_EVEN, context=EXACT)
        if abs(rounded - number) > _FLOAT_NOISE:
            return None, "must have at most 6 decimal places"
        number = rounded
    return _in_bounds(spec, number, float(number))


def _as_decimal(value: object) -> tuple[Decimal | None, str]:
    """Numbers (or numeric strings) as Decimal; floats through their shortest repr. What
    contracts.domain.read_decimal refuses ("1e999999", a thousand digits) is a sentence, never an
    overflow in the checks after it."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal) or \
            (isinstance(value, str) and not value.strip()):
        return None, "must be a number"
    try:
        return read_decimal(value), ""
    except NotFinite:
        return None, "must be a finite number"
    except OutOfRange as exc:
        return None, "is too large" if exc.large else "must have at most 6 decimal places"
    except BadNumber:
        return None, "must be a number"


def _in_bounds(spec: ParamSpec, number: Decimal, value: Any) -> tuple[Any, str]:
    low, high = spec.minimum, spec.maximum
    if spec.type is ParamType.PROBABILITY:
        low = 0 if low is None else max(low, 0)
        high = 1 if high is None else min(high, 1)
    unit = f" {spec.unit_label}" if spec.unit_label else ""
    if low is not None and number < Decimal(repr(low)):
        return None, f"must be at least {low}{unit}"
    if high is not None and number > Decimal(repr(high)):
        return None, f"must be at most {high}{unit}"
    return value, ""


def no_cross_checks(params: Params) -> Errors:
    """A kind whose fields are independent: nothing to check between them."""
    return {}


@dataclass(frozen=True, slots=True)
class StrategyKind:
    """One strategy kind as both processes see it: its name, what it does, the params it takes
    and the checks between them (e.g. fast period < slow period), run after the field checks."""

    kind: str
    title: str
    description: str
    params_schema: tuple[ParamSpec, ...]
    check: Callable[[Params], Errors] = no_cross_checks

    def validate(self, raw: object) -> tuple[Params, Errors]:
        """Field checks from the schema, then the cross-field checks; never raises."""
        params, errors = validate_schema(self.params_schema, raw)
        if not errors:
            errors.update(self.check(params))
        return params, errors
