"""The typed settings object agrees with the settings' specs both ways: one field per spec, in
its order, of the spec's kind; so a reader of a setting names a field that exists (mypy checks the
engine's reads) and a setting added to SETTINGS without its field fails here."""

from __future__ import annotations

import dataclasses
import json
import typing

import pytest

from contracts import runtime_settings
from contracts.runtime_settings import SETTINGS, RuntimeConfig, checked


def test_one_field_per_setting_in_order_of_its_kind() -> None:
    hints = typing.get_type_hints(RuntimeConfig)
    fields = [f.name for f in dataclasses.fields(RuntimeConfig)]
    assert fields == [spec.key for spec in SETTINGS]
    for spec in SETTINGS:
        assert (typing.get_origin(hints[spec.key]) or hints[spec.key]) is spec.kind, spec.key


def test_stored_values_become_typed_fields_and_bad_ones_are_reported() -> None:
    config, problems = checked({"tick_interval_ms": "250", "paper_fail_rate": json.dumps("lots")})
    assert problems and "paper_fail_rate" in problems[0]
    assert config.tick_interval_ms == 250 and config.paper_fail_rate == 0.0  # the default, reported
    assert config.values["tick_interval_ms"] == 250 and list(config.values) == [s.key for s in SETTINGS]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.tick_interval_ms = 1  # type: ignore[misc]  # frozen: what is in force changes only by a reload


def test_a_setting_without_its_field_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = dataclasses.replace(SETTINGS[0], key="new_setting")
    monkeypatch.setattr(runtime_settings, "SETTINGS", (*SETTINGS, extra))
    with pytest.raises(TypeError):
        runtime_settings.checked({})
