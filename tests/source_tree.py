"""One parse of each source file a process. The tree's rules (tests/test_layering.py,
test_storage_boundary.py, test_dashboard_writes.py, test_class_size.py) walk the same files, each
test parsing all of engine/, pages/ and storage/ again: ~1 s of CPU a walk. The trees are shared,
read only; a file changed since (its time or size) is parsed anew."""

from __future__ import annotations

import ast
import functools
from pathlib import Path


def parsed(path: Path) -> ast.Module:
    stat = path.stat()
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


@functools.cache
def _parsed(path: str, mtime_ns: int, size: int) -> ast.Module:
    return ast.parse(Path(path).read_text(), filename=path)
