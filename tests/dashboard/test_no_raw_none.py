"""No raw `None` in a table a person reads: Streamlit draws a missing value as the word "None"
unless told otherwise, so every interactive table and editor on the pages shows "—" instead
(the static tables of charts/tables.py format their own)."""

from __future__ import annotations

import ast

from tests.helpers import ROOT

GRIDS = ("dataframe", "data_editor")


def _grids_without_placeholder(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in GRIDS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "st"
                and not any(k.arg == "placeholder" for k in node.keywords)):
            lines.append(node.lineno)
    return lines


def test_every_table_on_the_pages_shows_a_missing_value_as_a_dash() -> None:
    files = [*sorted((ROOT / "pages").rglob("*.py")), ROOT / "app.py"]
    missing = [f"{path.relative_to(ROOT)}:{line}" for path in files
               for line in _grids_without_placeholder(path.read_text(encoding="utf-8"))]
    assert missing == [], f"tables that would show None: {missing}"
    assert sum(path.read_text(encoding="utf-8").count("st.dataframe(") for path in files) > 10  # it looked


def test_the_check_sees_a_table_without_one() -> None:
    assert _grids_without_placeholder("st.dataframe(frame, hide_index=True)") == [1]
    assert _grids_without_placeholder("st.dataframe(frame, placeholder='—')") == []
