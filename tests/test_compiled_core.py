"""The compiled trading core (tools/build_core.py builds it, contracts/compiled_core.py loads it): a
build is keyed by every source it was built on, used only while those sources are as they were (a
stale extension never shadows newer source), all of its modules or none; `make test` runs the suite
on it and refuses to run on the source by mistake."""

from __future__ import annotations

import json
import os
import sysconfig
from pathlib import Path

import pytest

from contracts import compiled_core
from contracts.compiled_core import MANIFEST, Build, CompiledCoreMissing, CompiledFinder, chosen, read_build
from tools import build_core

ROOT = Path(__file__).resolve().parents[1]


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def _built(root: Path, folder: Path, sources: list[str]) -> None:
    """A build of one module in `folder` whose manifest records `sources` as they are now."""
    (folder / "engine").mkdir(parents=True)
    (folder / "engine" / "fast.so").write_bytes(b"\0")
    manifest = build_core.manifest("k1", {"engine.fast": "engine/fast.so"}, sources, root)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def test_every_listed_module_is_a_module_of_the_desk() -> None:
    listed = build_core.listed()
    assert listed and len(listed) == len(set(listed))
    assert all((ROOT / path).is_file() and path.split("/")[0] in build_core.PACKAGES for path in listed)
    assert "contracts/compiled_core.py" not in listed  # the loader runs before anything compiled


def test_a_build_is_used_only_while_every_source_it_was_built_on_is_unchanged(tmp_path: Path) -> None:
    _tree(tmp_path, {"engine/fast.py": "X = 1\n", "contracts/values.py": "Y = 2\n"})
    folder = tmp_path / "build" / "core" / "k1"
    _built(tmp_path, folder, ["contracts/values.py", "engine/fast.py"])
    build = read_build(folder, tmp_path)
    assert build is not None and build.modules == {"engine.fast": folder / "engine" / "fast.so"}
    os.utime(tmp_path / "engine" / "fast.py", ns=(1, 1))  # touched (a checkout), the same content: still it
    assert read_build(folder, tmp_path) is not None
    (tmp_path / "contracts" / "values.py").write_text("Y = 3\n")  # a module it imports, edited after the build
    assert read_build(folder, tmp_path) is None
    (tmp_path / "contracts" / "values.py").write_text("Y = 2\n")
    assert read_build(folder, tmp_path) is not None
    (folder / "engine" / "fast.so").unlink()  # incomplete
    assert read_build(folder, tmp_path) is None


def test_a_build_for_another_interpreter_is_not_used(tmp_path: Path) -> None:
    _tree(tmp_path, {"engine/fast.py": "X = 1\n"})
    folder = tmp_path / "k1"
    _built(tmp_path, folder, ["engine/fast.py"])
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["abi"].endswith(sysconfig.get_config_var("EXT_SUFFIX"))
    (folder / MANIFEST).write_text(json.dumps({**manifest, "abi": "cpython-39.so"}))
    assert read_build(folder, tmp_path) is None


def test_the_key_follows_every_module_the_compiled_ones_import_and_nothing_else(tmp_path: Path) -> None:
    _tree(tmp_path, {
        "engine/__init__.py": "", "engine/fast.py": "from engine import helper\nfrom .types import T\n",
        "engine/helper.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from contracts.values import V\n",
        "engine/types.py": "T = int\n", "contracts/__init__.py": "", "contracts/values.py": "V = 1\n",
        "engine/other.py": "Z = 0\n",
    })
    sources = build_core.closure(["engine/fast.py"], tmp_path)
    assert sources == ["contracts/__init__.py", "contracts/values.py", "engine/__init__.py", "engine/fast.py",
                       "engine/helper.py", "engine/types.py"]
    key = build_core.build_key(["engine/fast.py"], sources, root=tmp_path)
    (tmp_path / "engine" / "other.py").write_text("Z = 1\n")  # imported by nothing compiled
    assert build_core.build_key(["engine/fast.py"], sources, root=tmp_path) == key
    (tmp_path / "contracts" / "values.py").write_text("V = 2\n")  # a type the compiled code was built on
    assert build_core.build_key(["engine/fast.py"], sources, root=tmp_path) != key
    assert build_core.build_key(["engine/fast.py"], sources, "0", root=tmp_path) != key  # another -O level


def test_all_or_nothing_and_the_suite_never_runs_on_the_source_by_mistake(tmp_path: Path) -> None:
    build = Build(tmp_path, "k1", {"engine.fast": tmp_path / "fast.so", "trader_core__mypyc": tmp_path / "lib.so"})
    assert chosen("", build, ["json"]) is build
    assert chosen("pure", build, []) is None
    assert chosen("", None, []) is None  # no build, or a stale one: the source, as it is
    assert chosen("", build, ["engine.fast"]) is None  # imported from source already: none of it
    with pytest.raises(CompiledCoreMissing, match="make setup"):
        chosen("compiled", None, [])
    with pytest.raises(CompiledCoreMissing, match="engine.fast"):
        chosen("compiled", build, ["engine.fast"])
    finder = CompiledFinder(build)
    spec = finder.find_spec("engine.fast")
    assert spec is not None and spec.origin == str(tmp_path / "fast.so")
    assert finder.find_spec("engine.slow") is None  # everything else: the usual finders, from source


@pytest.mark.skipif(os.environ.get(compiled_core.MODE_VARIABLE) != "compiled",
                    reason="runs under `make test` (TRADER_CORE=compiled)")
def test_make_test_runs_the_suite_on_the_compiled_core() -> None:
    from engine.execution import executor
    from engine.feeds import books

    build = compiled_core.installed()
    assert build is not None
    for module in (executor, books):
        assert Path(module.__file__ or "") == build.modules[module.__name__]
