"""A sweep's search space as the Sweep tab's table: the example survives the round trip, whole-number
params are searched in whole numbers, and every row's problem is found at once, on its row."""

from __future__ import annotations

import pandas as pd

from contracts.sweep_spec import parse_space
from pages.widgets.sweep_space import space_frame, space_from

INTEGRAL = {"size"}


def test_a_space_survives_the_table() -> None:
    space = {"half_spread": [0.005, 0.05, "log"], "size": [5, 50, "int"], "max_spread": {"choices": [0.2, 0.5]}}
    frame = space_frame(space)
    assert list(frame["scale"]) == ["log range", "range", "choices"]
    back, problems = space_from(frame, "market_making", INTEGRAL)
    assert problems == {} and back == space
    assert set(parse_space(back, "market_making")) == set(space)


def test_every_row_is_checked_on_its_own() -> None:
    frame = pd.DataFrame([
        {"param": "half_spread", "scale": "range", "low": 0.05, "high": 0.01},  # upside down
        {"param": None, "scale": "range", "low": 1.0, "high": 2.0},  # no param
        {"param": "size", "scale": "range", "low": 5.5, "high": 50.0},  # a whole-number param
        {"param": "half_spread", "scale": "range", "low": 0.01, "high": 0.02},  # twice
        {"param": "max_spread", "scale": "choices", "choices": ""},  # nothing to choose from
        {"param": "refresh_threshold", "scale": "range", "low": None, "high": 0.5},  # one end missing
    ])
    _, problems = space_from(frame, "market_making", INTEGRAL)
    assert sorted(problems) == [0, 1, 2, 3, 4, 5]
    assert problems[0].startswith("half_spread: low (0.05) must be below high (0.01)")
    assert problems[1] == "pick the param to search"
    assert "whole-number ends" in problems[2]
    assert problems[3] == "half_spread is searched on an earlier row already"
    assert problems[4].startswith("choices: give the values")
    assert problems[5] == "give both ends of the range (low and high)"


def test_an_empty_table_searches_nothing_and_says_so() -> None:
    _, problems = space_from(space_frame({}), "market_making", INTEGRAL)
    assert problems == {-1: "add a row per param to search"}
