"""A latency is written one way and read back the same; anything else is refused with the
forms it accepts, as a setting (nothing saved) and as a backtest's choice."""

from __future__ import annotations

import pytest

from contracts.latency_spec import DEFAULT, LatencyError, LatencySpec, parse_latency
from contracts.runtime_settings import BY_KEY, SettingError, parse_setting


@pytest.mark.parametrize(("written", "spec"), [
    ("zero", LatencySpec("zero")),
    (" Constant ", LatencySpec("constant", 150, 150, 50)),
    ("constant:80, 120,30", LatencySpec("constant", 80, 120, 30)),
    ("measured", LatencySpec("measured", data_ms=50)),
    ("measured:0", LatencySpec("measured", data_ms=0)),
])
def test_each_form_reads_and_writes_back(written: str, spec: LatencySpec) -> None:
    assert parse_latency(written) == spec and parse_latency(spec.text) == spec


@pytest.mark.parametrize(("written", "says"), [
    ("fast", "not understood"), ("", "must be one of"), ("constant:1,2", "takes 3 whole numbers of ms, not 2"),
    ("constant:1,-2,3", "'-2' is not a whole number"), ("constant:1,2,90000", "over the 60,000 ms"),
    ("zero:5", "not understood"), ("measured:1,2", "takes 1 whole number of ms"),
])
def test_anything_else_is_refused_with_what_is_accepted(written: str, says: str) -> None:
    with pytest.raises(LatencyError, match=says):
        parse_latency(written)


def test_the_setting_defaults_to_a_realistic_latency_and_refuses_a_bad_one() -> None:
    spec = BY_KEY["paper_latency"]
    assert spec.default == DEFAULT and parse_latency(DEFAULT).kind == "constant"
    assert parse_setting(spec, "constant") == DEFAULT  # stored in its written form
    with pytest.raises(SettingError, match="Paper order latency: .*not understood"):
        parse_setting(spec, "instant")
