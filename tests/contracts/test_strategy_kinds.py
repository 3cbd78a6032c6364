"""Each strategy kind's schema lives in the contracts; the strategies decide with it. The
dashboard, the CLI and sweeps validate through the contracts, the engine through the strategy
class: both must give the same answer, cross-field checks included."""

from __future__ import annotations

import pytest

from contracts.params import ParamsError
from contracts.strategy_kinds import registry, validate_params
from engine.strategies.registry import build_strategy
from engine.strategies.registry import registry as strategy_classes


def test_every_strategy_class_decides_with_its_kind_s_schema_from_the_contracts() -> None:
    kinds, classes = registry(), strategy_classes()
    assert set(kinds) == set(classes) == {"market_making", "complement_arb", "value_betting", "momentum",
                                          "copy_trading", "cross_venue_arb"}
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
]
PASSING = [
    ("momentum", {"fast_seconds": 599, "slow_seconds": 600}),
    ("momentum", {"entry_z": 1.5, "exit_z": 1.4}),
    ("market_making", {"levels": 2, "level_spacing": 0.006, "refresh_threshold": 0.005}),
    ("market_making", {"levels": 1, "level_spacing": 0.005, "refresh_threshold": 0.005}),  # one level: no clash
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
