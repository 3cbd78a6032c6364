"""JSON from outside cannot crash a process: bounded size and depth, and a recursion limit the
signing stack is not allowed to leave at 100 000 (the C decoder then overflows the C stack)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from contracts.jsonsafe import JsonRefused, loads_bounded
from tests.helpers import ROOT

DEEP = "[" * 100_000 + "]" * 100_000
PARSE_DEEP = "import json; json.loads('[' * 100_000 + ']' * 100_000)"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_signing_stack_makes_deep_json_a_segfault_and_the_sane_limit_stops_it() -> None:
    hazard = _python(f"import py_clob_client_v2; {PARSE_DEEP}")
    assert hazard.returncode < 0, "py_ecc no longer raises the recursion limit: this guard may be unneeded"
    guarded = _python("import py_clob_client_v2\nfrom contracts.jsonsafe import keep_recursion_limit_sane\n"
                      "keep_recursion_limit_sane()\n"
                      f"try:\n    {PARSE_DEEP}\nexcept RecursionError:\n    print('refused')")
    assert guarded.returncode == 0 and guarded.stdout.strip() == "refused"


def test_importing_the_live_venue_late_leaves_the_limit_sane() -> None:
    """The trading core imports the live venue only when it builds a live executor, after the
    start-up guard ran: the venue's module must put the limit back itself."""
    late = _python("import engine.trading.core\nfrom contracts.jsonsafe import keep_recursion_limit_sane\n"
                   "keep_recursion_limit_sane()\nimport engine.venues.polymarket.venue\n"
                   f"try:\n    {PARSE_DEEP}\nexcept RecursionError:\n    print('refused')")
    assert late.returncode == 0 and late.stdout.strip() == "refused"


def test_bounded_parse_refuses_big_deep_and_malformed_with_clear_messages() -> None:
    assert loads_bounded('{"a": [1, 2]}', max_bytes=100) == {"a": [1, 2]}
    with pytest.raises(JsonRefused, match="too large"):
        loads_bounded(DEEP, max_bytes=1000)
    with pytest.raises(JsonRefused, match="nested too deeply"):
        loads_bounded("[" * 50 + "]" * 50, max_bytes=1000, max_depth=10)
    with pytest.raises(JsonRefused, match="not valid JSON"):
        loads_bounded('{"reason": news}', max_bytes=1000)
    assert loads_bounded('{"a": "' + "[" * 5 + '"}', max_bytes=1000, max_depth=10) == {"a": "[[[[["}


def _nested(depth: int, *, mixed: bool = False) -> str:
    """A valid document `depth` levels deep, with siblings at every level (so the brackets are
    far more numerous than the depth)."""
    text = "1"
    for level in range(depth):
        if mixed and level % 2:
            text = '{"a": [], "b": ' + text + ', "c": {}}'
        else:
            text = "[[], " + text + ", {}]"
    return text


@pytest.mark.parametrize("mixed", [False, True])
def test_the_depth_bound_is_exact_whatever_the_siblings(mixed: bool) -> None:
    # Each level adds a child one level deeper than itself: `depth` levels nest depth + 1 deep.
    loads_bounded(_nested(9, mixed=mixed), max_bytes=10_000, max_depth=10)
    with pytest.raises(JsonRefused, match="nested too deeply"):
        loads_bounded(_nested(10, mixed=mixed), max_bytes=10_000, max_depth=10)
    # The bound given is the bound used, even below the default (it once read only the default).
    with pytest.raises(JsonRefused, match="nested too deeply"):
        loads_bounded("[[[[[1]]]]]", max_bytes=1000, max_depth=4)
    assert loads_bounded("[[[[1]]]]", max_bytes=1000, max_depth=4) == [[[[1]]]]
