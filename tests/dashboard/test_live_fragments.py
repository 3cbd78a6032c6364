"""Every auto-refreshing part of the dashboard asks, at each refresh, whether its login still holds
(issue 86, item 1): a fragment runs without the page's login check, so each is made by
`common.live_fragment`, never by `st.fragment` itself (read from the source). What a fragment then does
for a login removed, demoted or given a new password is shown in real Chromium
(tests/browser/test_login_changes_browser.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT
from tests.test_layering import _sources


def _fragments_made_directly(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        tree = ast.parse(path.read_text())
        allowed: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "live_fragment" and path.name == "common.py":
                allowed |= {id(n) for n in ast.walk(node)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr == "fragment" and isinstance(node.value, ast.Name)
                    and node.value.id == "st" and id(node) not in allowed):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_fragment_checks_its_login_at_each_refresh() -> None:
    assert _fragments_made_directly(list(_sources("app.py", "pages"))) == [], \
        "make it with pages.widgets.common.live_fragment"


def test_the_check_sees_a_fragment_made_directly(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import streamlit as st\n\n@st.fragment(run_every=2)\ndef panel():\n    pass\n\n"
                     "st.fragment(panel, run_every=None)()\n")
    assert _fragments_made_directly([probe]) == ["probe.py:3", "probe.py:7"]
    assert _fragments_made_directly([ROOT / "pages" / "widgets" / "common.py"]) == []
