"""One name for the money: pUSD, the venue's collateral since CLOB V2. Every text the desk shows
(pages, tables, charts, reports, notifications, the CLI, messages from the engine) and its docs
say pUSD; "USDC" may appear only as the venue's own name for its old collateral (USDC.e)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import ROOT

SHOWN = ("app.py", "pages", "charts", "reports", "contracts", "engine", "storage", "docs", "README.md")
OTHER_NAME = re.compile(r"\bUSDC\b(?!\.e)")


def _texts() -> list[Path]:
    found: list[Path] = []
    for name in SHOWN:
        path = ROOT / name
        found += [path] if path.is_file() else [*path.rglob("*.py"), *path.rglob("*.md")]
    return found


def test_the_money_is_called_pusd_everywhere_the_desk_shows_it() -> None:
    files = _texts()
    assert len(files) > 100  # the scan reads the code and docs, not an empty folder
    wrong = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}" for path in files
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if OTHER_NAME.search(line)]
    assert wrong == [], "\n".join(wrong[:20])


def test_the_check_finds_the_other_name() -> None:
    assert OTHER_NAME.search("equity 10.00 USDC") and OTHER_NAME.search("(USDC)")
    assert not OTHER_NAME.search("collateral changed from USDC.e to pUSD")
