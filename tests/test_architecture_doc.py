"""docs/ARCHITECTURE.md is the map a newcomer follows: every file it names exists (a path given
whole, or relative to the package the text is in: `feeds/catalog.py`, `claims_store.py`)."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import ROOT

NAMED = re.compile(r"`([A-Za-z0-9_./-]+\.(?:py|md|conf|toml|txt|json|cfg|ini))`")


def _tracked() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True, timeout=30)
    return listed.stdout.split()


def test_every_file_the_architecture_document_names_exists() -> None:
    files = _tracked()
    named = set(NAMED.findall((ROOT / "docs" / "ARCHITECTURE.md").read_text()))
    assert len(named) > 50  # the pattern reads the document's paths
    missing = sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))
    assert missing == []
