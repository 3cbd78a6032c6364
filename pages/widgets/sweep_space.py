"""A sweep's search space as the table the Sweep tab edits (a row per searched param: a range, a
log range or a list of choices) and back, each row checked on its own against the strategy kind's
params (contracts/sweep_spec.py), so every row's problem shows at once, on its row."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from contracts.sweep_spec import MAX_DIMENSIONS, SweepError, parse_space

RANGE, LOG, CHOICES = "range", "log range", "choices"
SCALES = (RANGE, LOG, CHOICES)
COLUMNS = ("param", "scale", "low", "high", "choices")


def space_frame(space: dict[str, Any]) -> pd.DataFrame:
    """`{"half_spread": [0.005, 0.05], "size": [5, 50, "int"], "x": {"choices": [1, 2]}}` as rows."""
    rows = []
    for name, entry in space.items():
        if isinstance(entry, dict):
            rows.append({"param": name, "scale": CHOICES, "choices": ", ".join(map(str, entry.get("choices", [])))})
        else:
            rows.append({"param": name, "scale": LOG if entry[2:] == ["log"] else RANGE, "low": entry[0],
                         "high": entry[1], "choices": ""})  # text, even when no row has choices
    return pd.DataFrame(rows, columns=list(COLUMNS)).astype({"low": float, "high": float, "choices": object})


def space_from(frame: pd.DataFrame, kind: str, integral: set[str]) -> tuple[dict[str, Any], dict[int, str]]:
    """The space the rows describe and what is wrong with each row (0-based), all at once.
    `integral`: the kind's whole-number params (their ranges are searched in whole numbers)."""
    space: dict[str, Any] = {}
    problems: dict[int, str] = {}
    for n, row in enumerate(frame.to_dict("records")):
        name = _text(row.get("param"))
        if not name:
            problems[n] = "pick the param to search"
        elif name in space:
            problems[n] = f"{name} is searched on an earlier row already"
        else:
            try:
                space[name] = _entry(row, name in integral)
                parse_space({name: space[name]}, kind)
            except SweepError as exc:
                problems[n] = str(exc).removeprefix("space: ")
    if not space and not problems:
        problems[-1] = "add a row per param to search"
    elif len(space) > MAX_DIMENSIONS:
        problems[-1] = f"at most {MAX_DIMENSIONS} params"
    return space, problems


def _entry(row: dict[str, Any], integral: bool) -> Any:
    scale = _text(row.get("scale")) or RANGE
    if scale == CHOICES:
        values = [_choice(v) for v in _text(row.get("choices")).split(",") if v.strip()]
        if not values:
            raise SweepError("choices: give the values to try, comma-separated")
        return {"choices": values}
    low, high = row.get("low"), row.get("high")
    if _missing(low) or _missing(high):
        raise SweepError("give both ends of the range (low and high)")
    ends = [_number(low), _number(high)]
    return [*ends, "log"] if scale == LOG else [*ends, "int"] if integral else ends


def _choice(text: str) -> Any:
    """`5` -> 5, `0.5` -> 0.5, `true` -> True, anything else stays text."""
    word = text.strip()
    if word.lower() in ("true", "false"):
        return word.lower() == "true"
    try:
        return _number(float(word))
    except ValueError:
        return word


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value).strip()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA
