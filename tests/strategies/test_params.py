"""Params schemas, validation and the registry."""

from __future__ import annotations

import json

import pytest

from contracts.params import check_value, defaults
from contracts.strategy_kinds import validate_params
from engine.strategies import ParamsError, ParamSpec, ParamType, build_strategy, registry


def test_registry_lists_the_built_in_kinds_with_metadata() -> None:
    kinds = registry()
    assert set(kinds) == {"market_making", "complement_arb", "value_betting", "momentum", "copy_trading",
                          "cross_venue_arb", "ladder", "accumulate", "relative_value", "breakout", "ensemble"}
    for kind, cls in kinds.items():
        assert cls.kind == kind and cls.title and cls.description and cls.params_schema
        names = [spec.name for spec in cls.params_schema]
        assert len(names) == len(set(names))
        json.dumps([spec.as_dict() for spec in cls.params_schema])  # renderable as JSON


@pytest.mark.parametrize("kind", sorted(registry()))
def test_defaults_are_valid_and_fill_missing_fields(kind: str) -> None:
    params, errors = validate_params(kind, {})
    assert errors == {}
    assert params == defaults(registry()[kind].params_schema)
    # the defaults survive a JSON round trip and validate again unchanged
    again, errors = validate_params(kind, json.loads(json.dumps(params)))
    assert errors == {} and again == params
    strategy = build_strategy("name", kind, None)
    assert strategy.name == "name" and strategy.params == params


def test_each_field_error_is_reported_by_name() -> None:
    raw = {
        "fair_value": "last",  # not a choice
        "half_spread": 0.7,  # above its 0.5 maximum
        "size": "ten",  # not a number
        "skew_per_share": -0.001,  # below 0
        "refresh_threshold": 0.0000001,  # 7 decimal places
        "max_inventory": True,  # a bool is not a number
        "max_spread": float("nan"),
        "colour": "blue",  # unknown
    }
    params, errors = validate_params("market_making", raw)
    assert errors == {
        "fair_value": "must be one of: mid, microprice, reference",
        "half_spread": "must be at most 0.5 probability",
        "size": "must be a number",
        "skew_per_share": "must be at least 0 probability per share",
        "refresh_threshold": "must have at most 6 decimal places",
        "max_inventory": "must be a number",
        "max_spread": "must be a finite number",
        "colour": errors["colour"],
    }
    assert errors["colour"].startswith("unknown field")
    assert params["half_spread"] == 0.02  # a bad field falls back to its default in the echo


def test_types_are_coerced_and_float_noise_tolerated() -> None:
    params, errors = validate_params("market_making", {"size": "12.5", "half_spread": 0.1 + 0.2 - 0.27})
    assert errors == {} and params["size"] == 12.5 and params["half_spread"] == 0.03
    params, errors = validate_params("momentum", {"fast_seconds": 30.0, "warmup_seconds": 1.5})
    assert params["fast_seconds"] == 30 and isinstance(params["fast_seconds"], int)
    assert errors == {"warmup_seconds": "must be a whole number"}
    _, errors = validate_params("complement_arb", {"neg_risk_groups": "yes"})
    assert errors == {"neg_risk_groups": "must be true or false"}


def test_bad_kind_and_bad_shapes_never_raise() -> None:
    assert "kind" in validate_params("martingale", {})[1]
    not_a_dict = validate_params("momentum", ["not", "a", "dict"])[1]
    assert not_a_dict == {"params": "must be a JSON object of field: value"}
    assert validate_params("momentum", None)[1] == {}


def test_build_strategy_refuses_bad_params() -> None:
    with pytest.raises(ParamsError) as raised:
        build_strategy("x", "value_betting", {"kelly_fraction": 2})
    assert raised.value.errors == {"kelly_fraction": "must be at most 1 × Kelly"}
    assert "kelly_fraction" in str(raised.value)
    with pytest.raises(ParamsError):
        build_strategy("x", "nope", {})


def test_spec_rendering_helpers() -> None:
    spec = ParamSpec("max_order", ParamType.SHARES, 5, "help", minimum=1)
    assert spec.title == "Max order" and spec.unit_label == "shares"
    assert spec.as_dict()["unit"] == "shares" and spec.as_dict()["min"] == 1
    probability = ParamSpec("p", ParamType.PROBABILITY, 0.5, "h")
    assert check_value(probability, 1.5) == (None, "must be at most 1 probability")
    assert check_value(ParamSpec("b", ParamType.BPS, 5, "h", maximum=100), 50) == (50, "")
