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
    docs = (ROOT / "docs" / "ARCHITECTURE.md").read_text() + (ROOT / "docs" / "module-map.md").read_text()
    named = set(NAMED.findall(docs))
    assert len(named) > 50  # the pattern reads the document's paths
    missing = sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))
    assert missing == []


def _path_after(document: str, heading: str) -> list[str]:
    """The modules of the paragraph that starts with `heading`, in order, each counted once."""
    paragraph = document.split(heading, 1)[1].split("\n\n", 1)[0]
    return list(dict.fromkeys(NAMED.findall(paragraph)))


def test_the_traced_paths_count_what_the_document_says() -> None:
    """The fill's and the kill's module counts are measured from the paths the document lists,
    so the prose cannot drift from them."""
    document = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    fill = _path_after(document, "The path, module by module:")
    kill = _path_after(document, "The path: `pages/overview.py`")
    assert len(fill) == 22 and "Eighteen modules on the path" in document and "twenty-two in all" in document
    assert len(kill) + 1 == 18 and "Eighteen modules, one turn-back" in document  # + the overview page itself
