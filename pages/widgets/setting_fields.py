"""One engine setting (contracts/runtime_settings.py) as a field of a versioned form
(kv_form.py): on/off settings as toggles, alert levels as a pick of the levels, numbers and
text typed; the engine's own parser checks each, so a form never accepts what the engine refuses."""

from __future__ import annotations

from typing import Any

from contracts.runtime_settings import ALERT_LEVELS, SettingError, SettingSpec, alert_levels, parse_setting
from pages.widgets.fields import number_text
from pages.widgets.kv_form import Field, Parse

# Units in words, as the risk limits write them ("seconds", not "s" beside "(seconds)").
UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "min": "minutes"}


def _parser(spec: SettingSpec) -> Parse:
    def parse(raw: str) -> tuple[Any, str]:
        try:
            value = parse_setting(spec, raw)
        except SettingError as exc:
            return None, str(exc)
        return value, ""

    return parse


def _widget(spec: SettingSpec) -> tuple[str, tuple[str, ...]]:
    if spec.unit == "0/1":
        return "toggle", ()
    if spec.check is alert_levels:
        return "multi", ALERT_LEVELS
    return "text", ()


def setting_field(spec: SettingSpec, row: dict[str, Any] | None) -> Field:
    """The setting as stored (`row`, or its default when none is) as a form field."""
    value = row["value"] if row else spec.default
    unit = UNIT_WORDS.get(spec.unit, spec.unit)
    bounds = "" if spec.minimum is None or spec.unit == "0/1" else (
        f" Allowed {spec.minimum:g} … {spec.maximum:g} {unit}.")
    widget, choices = _widget(spec)
    label = spec.title if widget != "text" else f"{spec.title} ({unit})"
    return Field(spec.key, label, f"{spec.help}{bounds} Default {number_text(spec.default) or '(empty)'}.",
                 value if isinstance(value, str) else number_text(value), row["version"] if row else None,
                 _parser(spec), widget, choices)
