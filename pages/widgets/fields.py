"""Form fields generated from a schema, with an inline error slot under each one.

Numbers are typed into text inputs on purpose: the engine's own validators then judge exactly
what the operator typed (bounds, decimals, whole numbers) and their message appears under the
field, instead of a number widget silently clamping or rounding the value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import streamlit as st

from contracts.params import ParamSpec, ParamType


def number_text(value: Any) -> str:
    """A stored number as the operator would type it (no exponent, no float noise)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return str(value)
    try:
        text = format(Decimal(repr(value) if isinstance(value, float) else str(value)), "f")
    except InvalidOperation:
        return str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def spec_help(spec: ParamSpec) -> str:
    unit = f" {spec.unit_label}" if spec.unit_label else ""
    parts = [spec.help]
    if spec.minimum is not None or spec.maximum is not None:
        low = "" if spec.minimum is None else f"{spec.minimum}"
        high = "" if spec.maximum is None else f"{spec.maximum}"
        parts.append(f"Allowed: {low or '−∞'} … {high or '∞'}{unit}.")
    if spec.default is not None:
        default = spec.default if isinstance(spec.default, str) else number_text(spec.default)
        parts.append(f"Default: {default}{unit}.")
    return " ".join(parts)


def spec_label(spec: ParamSpec) -> str:
    unit = spec.unit_label
    if not unit or spec.title.lower().endswith(unit.lower()):  # "Ends within days", not "... days (days)"
        return spec.title
    return f"{spec.title} ({unit})"


def spec_input(spec: ParamSpec, value: Any, key: str) -> Any:
    """One input for a ParamSpec: checkbox, selectbox, or text (numbers). Returns the raw value."""
    label, help_text = spec_label(spec), spec_help(spec)
    if spec.type is ParamType.BOOL:
        return st.checkbox(label, value=bool(value), key=key, help=help_text)
    if spec.type is ParamType.CHOICE:
        choices = list(spec.choices)
        index = choices.index(value) if value in choices else 0
        return st.selectbox(label, choices, index=index, key=key, help=help_text)
    return st.text_input(label, value=number_text(value), key=key, help=help_text)


def grid_cells(count: int, columns: int) -> Iterator[Any]:
    """`count` cells laid out row by row, each row its own set of columns: an error shown under
    one field lowers the rows below it whole, so the fields stay side by side in their rows
    (a column per stack would slide one column's fields past the other's)."""
    for start in range(0, count, columns):
        yield from st.columns(columns)[: min(columns, count - start)]


class ErrorSlots:
    """An empty placeholder under each field, filled with that field's error after a submit."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {}
        self.labels: dict[str, str] = {}

    def add(self, name: str, label: str = "") -> None:
        self.slots[name] = st.empty()
        self.labels[name] = label

    def show(self, errors: Mapping[str, str], *, prefix: str = "") -> list[str]:
        """Put each error under its field; return the messages that have no field slot."""
        orphans = []
        for name, message in errors.items():
            field = name.removeprefix(prefix)
            slot = self.slots.get(field)
            label = self.labels.get(field, "")
            text = message if not label or message.startswith(label) else f"{label}: {message}"
            if slot is not None:
                slot.error(text, icon=":material/error:")
            else:
                orphans.append(f"{name}: {message}")
        return orphans


def render_specs(
    specs: tuple[ParamSpec, ...],
    values: Mapping[str, Any],
    key_prefix: str,
    slots: ErrorSlots,
    *,
    columns: int = 2,
) -> dict[str, Any]:
    """Inputs for every spec (in a grid), each with its error slot; returns {name: raw value}."""
    raw: dict[str, Any] = {}
    for cell, spec in zip(grid_cells(len(specs), columns), specs, strict=True):
        with cell:
            raw[spec.name] = spec_input(spec, values.get(spec.name, spec.default), f"{key_prefix}{spec.name}")
            slots.add(spec.name, spec.title)
    return raw


def field_key(prefix: str, name: str) -> str:
    """The widget key of a generated field (tests address fields through this)."""
    return f"{prefix}{name}"


# -- starting a form afresh ------------------------------------------------------------------------
# A widget keeps whatever was typed into it for as long as its key lives, even across a rerun
# that passes a new `value=`. A form's Reload therefore moves its fields to new keys: a refused
# entry ("abc") must not survive the reload that was meant to show the stored values again.


def reload_round(scope: str) -> str:
    """The key suffix of `scope`'s fields this time round ("" until its first reload)."""
    n = int(st.session_state.get(f"{scope}__round", 0))
    return f"_r{n}" if n else ""


def start_afresh(scope: str) -> None:
    """Give `scope`'s fields new keys on the next run, so they show their stored values."""
    st.session_state[f"{scope}__round"] = int(st.session_state.get(f"{scope}__round", 0)) + 1
