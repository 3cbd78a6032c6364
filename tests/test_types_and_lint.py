"""The code's own checkers, run by `make test` and CI: ruff (pinned, the rules and line length in
pyproject.toml) and mypy (pinned, over the whole code) find nothing, and every `# type: ignore`
names the error it silences and says why on its own line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from tests.helpers import ROOT

BIN = Path(sys.executable).parent
# `# type: ignore[code]  # why` (the reason after it, on the same line).
EXPLAINED = re.compile(r"# type: ignore\[[a-z-]+(?:, [a-z-]+)*\]  # \S")


def test_ruff_finds_nothing() -> None:
    found = subprocess.run([str(BIN / "ruff"), "check", ".", "--output-format", "json"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    findings = [f"{f['filename']}:{f['location']['row']} {f['code']} {f['message']}" for f in json.loads(found.stdout)]
    assert findings == []


@pytest.mark.slow
@pytest.mark.runs_long  # ~1.5 min from a clean checkout (no mypy cache): started first, not left for last
def test_mypy_finds_nothing() -> None:
    found = subprocess.run([str(BIN / "mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert found.returncode == 0 and found.stdout.strip().splitlines()[-1].startswith("Success"), \
        found.stdout[-5000:]


def _comments(path: Path) -> list[tuple[int, str]]:
    """(line, text) of each comment in a Python file (its strings and docstrings are not comments)."""
    with path.open("rb") as source:
        return [(t.start[0], t.string) for t in tokenize.tokenize(source.readline) if t.type == tokenize.COMMENT]


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    listed = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    bare = [f"{name}:{line}: {comment}" for name in listed.stdout.split()
            for line, comment in _comments(ROOT / name)
            if comment.startswith("# type: ignore") and not EXPLAINED.match(comment)]
    assert bare == []


def test_the_reason_check_tells_an_explained_ignore_from_a_bare_one(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('x: int = "a"  # type: ignore[assignment]  # a fixture\n'
                      'y: int = "b"  # type: ignore[assignment]\n'
                      'z: int = "c"  # type: ignore\n'
                      '"""# type: ignore in a string is no comment"""\n')
    found = [c for _, c in _comments(sample) if c.startswith("# type: ignore")]
    assert [bool(EXPLAINED.match(c)) for c in found] == [True, False, False]
