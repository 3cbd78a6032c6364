"""Each strategy kind's schema lives in the contracts; the strategies decide with it. The
dashboard, the CLI and sweeps validate through the contracts, the engine through the strategy
class: both must give the same answer, cross-field checks included."""

from __future__ import annotations

import pytest

from contracts.params import ParamsError
from contracts.strategy_fit import cannot_trade
from contracts.strategy_kinds import registry, validate_params
from engine.strategies.registry import build_strategy
from engine.strategies.registry import registry as strategy_classes


def test_every_strategy_class_decides_with_its_kind_s_schema_from_the_contracts() -> None:
    kinds, classes = registry(), strategy_classes()
    assert set(kinds) == set(classes) == {"market_making", "complement_arb", "value_betting", "momentum",
                                          "copy_trading", "cross_venue_arb", "ladder", "accumulate",
                                          "relative_value", "breakout", "ensemble"}
    for kind, cls in classes.items():
        schema = kinds[kind]
        assert cls.schema is schema
        assert (cls.kind, cls.title, cls.description, cls.params_schema) == (
            schema.kind, schema.title, schema.description, schema.params_schema)


# (kind, params, field refused, its message): each cross-field check at its boundary (equal
# values refused), with the first value that passes next to it.
CROSS_FIELD = [
    ("momentum", {"fast_seconds": 600, "slow_seconds": 600}, "fast_seconds", "must be shorter than slow_seconds"),
    ("momentum", {"entry_z": 1.5, "exit_z": 1.5}, "exit_z", "must be below entry_z"),
    ("market_making", {"levels": 2, "level_spacing": 0.005, "refresh_threshold": 0.005}, "level_spacing",
     "must exceed the refresh threshold when quoting several levels "
     "(otherwise one level's order could be kept for another's)"),
    ("accumulate", {"target_shares": 30, "size": 31}, "size", "must not exceed target_shares (a slice larger than "
     "the whole)"),
    ("relative_value", {"entry_z": 2.0, "exit_z": 2.0}, "exit_z", "must be below entry_z"),
]
PASSING = [
    ("momentum", {"fast_seconds": 599, "slow_seconds": 600}),
    ("momentum", {"entry_z": 1.5, "exit_z": 1.4}),
    ("market_making", {"levels": 2, "level_spacing": 0.006, "refresh_threshold": 0.005}),
    ("market_making", {"levels": 1, "level_spacing": 0.005, "refresh_threshold": 0.005}),  # one level: no clash
    ("accumulate", {"target_shares": 30, "size": 30}),
    ("relative_value", {"entry_z": 2.0, "exit_z": 1.9}),
]


@pytest.mark.parametrize(("kind", "params", "field", "message"), CROSS_FIELD)
def test_a_cross_field_check_refuses_in_the_contracts_and_in_the_engine_alike(
        kind: str, params: dict[str, object], field: str, message: str) -> None:
    _, errors = validate_params(kind, params)
    assert errors == {field: message}
    with pytest.raises(ParamsError) as raised:
        build_strategy("s", kind, params)
    assert raised.value.errors == errors


@pytest.mark.parametrize(("kind", "params"), PASSING)
def test_values_just_inside_a_cross_field_check_pass_both(kind: str, params: dict[str, object]) -> None:
    clean, errors = validate_params(kind, params)
    assert errors == {}
    assert build_strategy("s", kind, params).params == clean


def test_cross_field_checks_wait_for_the_fields_to_be_valid() -> None:
    """A field error is reported alone: the cross-field check would compare a default."""
    _, errors = validate_params("momentum", {"fast_seconds": "soon", "slow_seconds": 2})
    assert errors == {"fast_seconds": "must be a number"}


def test_a_pair_trading_one_market_against_another_is_said_to_need_exactly_two() -> None:
    """The strategy form warns before it saves, and the Strategies table says why it idles."""
    pair = {"against": "other_market", "size": 20}
    said = "1 market(s) picked: trading one market against another needs exactly two"
    assert cannot_trade(pair, ["a"], {"a": 5}) == [said]
    assert cannot_trade(pair, ["a", "b"], {"a": 5, "b": 5}) == []
    assert cannot_trade({**pair, "against": "reference"}, ["a"], {"a": 5}) == []
    assert cannot_trade(pair, {"filter": {}}, {}) == []  # a filter's count is known only when it decides
    assert cannot_trade({**pair, "size": 4}, ["a"], {"a": 5})[0] == said  # beside a size below the minimum


@pytest.mark.parametrize(("kind", "params", "field", "message"), [
    ("ladder", {"center": "last"}, "center", "must be one of: mid, fixed, signal, reference"),
    ("ladder", {"levels": 21}, "levels", "must be at most 20"),
    ("accumulate", {"price_cap": 1}, "price_cap", "must be at most 0.999"),
    ("breakout", {"window_s": 30}, "window_s", "must be at least 60"),
    ("ensemble", {"min_confidence": 1.5}, "min_confidence", "must be at most 1"),
    ("ensemble", {"unjudged_brier": 0.3}, "unjudged_brier", "must be at most 0.25"),
])
def test_the_binary_market_kinds_refuse_a_bad_field_with_what_it_must_be(
        kind: str, params: dict[str, object], field: str, message: str) -> None:
    _, errors = validate_params(kind, params)
    assert list(errors) == [field] and errors[field].startswith(message)  # (with the field's unit)
