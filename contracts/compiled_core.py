"""The compiled trading core, loaded only while it matches the source it was built from.

`make setup` compiles the modules `tools/compiled_modules.txt` lists with mypyc into extension
modules under `build/core/<key>/` (`tools/build_core.py`); the Python source stays the only
source. The packages that hold those modules (`contracts`, `engine`, `storage`) install this
finder from their `__init__`, before any of their modules is imported, so a process imports
either every listed module compiled or none of them (compiled code calls the other compiled
modules directly, so a mix could run a stale copy of one).

A build is used only if every source file it was built from (the listed modules and every module
of the desk they import, followed through) is as it was: same size and modification time, or
else the same content. An edit after the build, a checkout of another branch, a copy of the
tree (mutation testing) leave the build unused and the desk runs the source as it is, until
`make setup` builds again. `TRADER_CORE=pure` never loads it; `TRADER_CORE=compiled` (what
`make test` sets) refuses to run without a build that matches, so the suite cannot pass on the
source alone by mistake.

Standard library only: it runs before anything of the desk is imported.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BUILDS = ROOT / "build" / "core"
MANIFEST = "manifest.json"
MODE_VARIABLE = "TRADER_CORE"  # "pure": never load a build; "compiled": a build that matches is required


class CompiledCoreMissing(ImportError):
    """TRADER_CORE=compiled, and no build matches the source (none made, or made before an edit)."""


@dataclass(frozen=True)
class Build:
    """A build that matches the source: module name -> its extension file, and the shared library's."""

    folder: Path
    key: str
    modules: dict[str, Path]


def abi_tag() -> str:
    """What an extension module is built for: this interpreter's version and platform."""
    return f"{sys.implementation.cache_tag}{sysconfig.get_config_var('EXT_SUFFIX') or ''}"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged(root: Path, files: dict[str, list]) -> bool:
    """Whether every source file is as recorded ([size, mtime_ns, sha256] by path from `root`): the
    size and time are compared first (a stat, no read); a file whose time moved is read and hashed."""
    for name, (size, mtime_ns, digest) in files.items():
        path = root / name
        try:
            stat = path.stat()
        except OSError:
            return False
        if stat.st_size != size:
            return False
        if stat.st_mtime_ns != mtime_ns and file_digest(path) != digest:
            return False
    return True


def read_build(folder: Path, root: Path = ROOT) -> Build | None:
    """The build in `folder` if it is complete, for this interpreter, and its sources are unchanged."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest["abi"] != abi_tag() or not unchanged(root, manifest["files"]):
            return None
        modules = {name: folder / file for name, file in manifest["modules"].items()}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(path.is_file() for path in modules.values()):
        return None
    return Build(folder, str(manifest["key"]), modules)


def matching_build(builds: Path = BUILDS, root: Path = ROOT) -> Build | None:
    """The newest build under `builds` that matches the source, or None."""
    try:
        folders = sorted((p for p in builds.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    except OSError:
        return None
    for folder in folders:
        build = read_build(folder, root)
        if build is not None:
            return build
    return None


class CompiledFinder:
    """Finds the compiled modules of one build (and their shared library); everything else is left
    to the usual finders. (A meta path finder by its `find_spec`: importlib.abc would cost its own
    imports, ~10 ms, in every process.)"""

    def __init__(self, build: Build) -> None:
        self.build = build

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        extension = self.build.modules.get(fullname)
        if extension is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(extension))
        spec = importlib.machinery.ModuleSpec(fullname, loader, origin=str(extension))
        spec.has_location = True  # its __file__ is the extension's
        return spec


def installed() -> Build | None:
    """The build this process imports its compiled modules from, if any."""
    for finder in sys.meta_path:
        if isinstance(finder, CompiledFinder):
            return finder.build
    return None


def chosen(mode: str, build: Build | None, imported: Iterable[str]) -> Build | None:
    """The build to load under `mode` (TRADER_CORE), given the one that matches the source (None: none
    does) and the modules already imported; CompiledCoreMissing where the mode requires a build."""
    if mode == "pure":
        return None
    if build is None:
        if mode == "compiled":
            raise CompiledCoreMissing(f"{MODE_VARIABLE}=compiled, but no compiled trading core matches the source "
                                      "in build/core/: run `make setup` (it builds one)")
        return None
    early = sorted(set(build.modules) & set(imported))
    if early:  # imported from source already: mixing would leave compiled code calling a second copy
        if mode == "compiled":
            raise CompiledCoreMissing(f"these modules were imported from source before the compiled core: {early}")
        return None
    return build


def install() -> Build | None:
    """Put the finder of the build that matches the source first on the import path (once per
    process); returns that build, or None (the source is imported as it is)."""
    found = installed()
    if found is not None:
        return found
    mode = os.environ.get(MODE_VARIABLE, "")
    build = chosen(mode, None if mode == "pure" else matching_build(), sys.modules)
    if build is not None:
        sys.meta_path.insert(0, CompiledFinder(build))
    return build
