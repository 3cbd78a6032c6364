"""JSON from outside cannot crash a process: bounded size and depth, and a recursion limit the
signing stack is not allowed to leave at 100 000 (the C decoder then overflows the C stack)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from storage.jsonsafe import JsonRefused, loads_bounded
from tests.helpers import ROOT

DEEP = "[" * 100_000 + "]" * 100_000
PARSE_DEEP = f"import json; json.loads('[' * 100_000 + ']' * 100_000)"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_signing_stack_makes_deep_json_a_segfault_and_the_sane_limit_stops_it() -> None:
    hazard = _python(f"import engine.trading.core; {PARSE_DEEP}")
    assert hazard.returncode < 0, "py_ecc no longer raises the recursion limit: this guard may be unneeded"
    guarded = _python("import engine.trading.core\nfrom storage.jsonsafe import keep_recursion_limit_sane\n"
                      "keep_recursion_limit_sane()\n"
                      f"try:\n    {PARSE_DEEP}\nexcept RecursionError:\n    print('refused')")
    assert guarded.returncode == 0 and guarded.stdout.strip() == "refused"


def test_bounded_parse_refuses_big_deep_and_malformed_with_clear_messages() -> None:
    assert loads_bounded('{"a": [1, 2]}', max_bytes=100) == {"a": [1, 2]}
    with pytest.raises(JsonRefused, match="too large"):
        loads_bounded(DEEP, max_bytes=1000)
    with pytest.raises(JsonRefused, match="nested too deeply"):
        loads_bounded("[" * 50 + "]" * 50, max_bytes=1000, max_depth=10)
    with pytest.raises(JsonRefused, match="not valid JSON"):
        loads_bounded('{"reason": news}', max_bytes=1000)
    assert loads_bounded('{"a": "' + "[" * 5 + '"}', max_bytes=1000, max_depth=10) == {"a": "[[[[["}
