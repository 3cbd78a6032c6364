"""Build the compiled trading core: the modules `tools/compiled_modules.txt` lists, compiled with
mypyc (part of the pinned mypy) into extension modules under `build/core/<key>/`.

`make setup` runs this; it builds once per source: the key is a hash of the listed modules and of
every module of the desk they import, followed through (their types are what the compiled code was
built on), with the interpreter, mypy's version and this file. A build that exists for the key is
kept (nothing to do); an older one is removed. The C compiler's intermediate files stay in
`build/core/work/`, so a change that leaves most generated C as it was recompiles only what moved.
`contracts/compiled_core.py` loads a build only while those sources are unchanged.

    python -m tools.build_core [--strict] [--jobs N]

Without a C compiler, or when mypyc refuses a module, it says why and the desk runs the source as
it is (slower backtests, the same results); `--strict` (what `make test` uses) fails instead.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "tools" / "compiled_modules.txt"
BUILDS = ROOT / "build" / "core"
WORK = BUILDS / "work"  # the generated C, the objects and mypy's cache, kept between builds
PACKAGES = ("contracts", "engine", "storage")  # the desk's packages a compiled module may import
GROUP = "trader_core"  # the shared library's name: trader_core__mypyc
# The C compiler's -O level. 1, not mypyc's default 3: a clean build takes ~25 % less CPU (82 s
# against 108 s user time, measured on this tree) and a decision ran as fast in bench/decision_cost.py
# (its no-op and replacing decisions within the run-to-run noise of each other): the time a compiled
# decision spends is in the interpreter's objects and SQLite, not in the C the optimizer could improve.
OPT_LEVEL = "1"


class BuildFailed(RuntimeError):
    """The build could not be made; the message says why."""


def listed(list_file: Path = LIST, root: Path = ROOT) -> list[str]:
    """The modules to compile, as paths from the root (comments and blank lines skipped)."""
    paths = []
    for line in list_file.read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if not (root / entry).is_file():
            raise BuildFailed(f"{list_file.name} lists {entry}, which does not exist")
        if entry.split("/", 1)[0] not in PACKAGES or not entry.endswith(".py") or entry.endswith("__init__.py"):
            raise BuildFailed(f"{list_file.name}: {entry} is not a module of {', '.join(PACKAGES)}")
        paths.append(entry)
    return paths


def module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def _source_of(name: str, root: Path) -> str | None:
    """The file of module `name` of the desk's packages, from the root; None for anything else."""
    if name.split(".", 1)[0] not in PACKAGES:
        return None
    base = name.replace(".", "/")
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if (root / candidate).is_file():
            return candidate
    return None


def _imported(path: str, root: Path) -> Iterable[str]:
    """The desk's modules `path` imports (every import: under TYPE_CHECKING too, whose types the
    compiled code was built on), and the packages above it."""
    name = module_name(path)
    parts = name.split(".")
    yield from (".".join(parts[:n]) for n in range(1, len(parts)))
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    for node in ast.walk(ast.parse((root / path).read_text(), filename=path)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def closure(paths: Sequence[str], root: Path = ROOT) -> list[str]:
    """`paths` and every file of the desk's packages they import, followed through, sorted."""
    seen: set[str] = set()
    todo = list(paths)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported(path, root):
            source = _source_of(name, root)
            if source is not None and source not in seen:
                todo.append(source)
    return sorted(seen)


def abi_tag() -> str:
    import sysconfig
    return f"{sys.implementation.cache_tag}{sysconfig.get_config_var('EXT_SUFFIX') or ''}"


def build_key(paths: Sequence[str], sources: Sequence[str], opt: str = OPT_LEVEL, root: Path = ROOT) -> str:
    """What a build is made of: the interpreter, mypy's version, this file, the C optimization level,
    the list, the sources."""
    from mypy.version import __version__ as mypy_version

    digest = hashlib.sha256()
    for part in (abi_tag(), mypy_version, Path(__file__).read_text(), opt, "\n".join(paths)):
        digest.update(part.encode() + b"\0")
    for source in sources:
        digest.update(source.encode() + b"\0" + (root / source).read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def manifest(key: str, modules: dict[str, str], sources: Sequence[str], root: Path = ROOT) -> dict[str, Any]:
    files = {}
    for source in sources:
        stat = (root / source).stat()
        files[source] = [stat.st_size, stat.st_mtime_ns, hashlib.sha256((root / source).read_bytes()).hexdigest()]
    return {"key": key, "abi": abi_tag(), "modules": modules, "files": files}


def say(message: str) -> None:
    print(f"compiled core: {message}", flush=True)


def _parallel_compile(jobs: int) -> None:
    """setuptools compiles an extension's C files one after another; the core's are independent."""
    from setuptools._distutils import ccompiler

    def compile_all(self: Any, sources: list[str], output_dir: str | None = None, macros: Any = None,
                    include_dirs: Any = None, debug: bool = False, extra_preargs: Any = None,
                    extra_postargs: Any = None, depends: Any = None) -> list[str]:
        macros, objects, extra_postargs, pp_opts, build = self._setup_compile(
            output_dir, macros, include_dirs, sources, depends, extra_postargs)
        cc_args = self._get_cc_args(pp_opts, debug, extra_preargs)
        done = [0]

        def one(obj: str) -> None:
            source, ext = build[obj]
            self._compile(obj, source, ext, cc_args, extra_postargs, pp_opts)
            done[0] += 1
            if len(objects) > 4 and done[0] % max(1, len(objects) // 4) == 0:
                say(f"compiling C: {done[0]}/{len(objects)} files")

        with ThreadPoolExecutor(max(1, jobs)) as pool:
            list(pool.map(one, objects))
        return objects

    ccompiler.CCompiler.compile = compile_all  # the same steps, side by side


def compile_core(paths: Sequence[str], out: Path, jobs: int, opt: str) -> dict[str, str]:
    """mypyc's C for `paths`, compiled into `out`; returns module name -> extension file in `out`."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    WORK.mkdir(parents=True, exist_ok=True)
    here = os.getcwd()
    os.chdir(ROOT)  # mypyc names modules from the paths as given
    try:
        say(f"type-checking and generating C for {len(paths)} modules")
        extensions = mypycify(["--cache-dir", str(WORK / "mypy-cache"), *paths], opt_level=opt,
                              multi_file=True, target_dir=str(WORK / "c"), group_name=GROUP)
        _parallel_compile(jobs)
        distribution = Distribution({"name": GROUP, "ext_modules": extensions})
        command = distribution.get_command_obj("build_ext")
        command.build_lib, command.build_temp = str(out), str(WORK / "objects")
        distribution.run_command("build_ext")
    finally:
        os.chdir(here)
    suffix = abi_tag().removeprefix(sys.implementation.cache_tag)
    found = {}
    for extension in extensions:
        file = out / (extension.name.replace(".", "/") + suffix)
        if not file.is_file():
            raise BuildFailed(f"mypyc made no {file.relative_to(out)}")
        found[extension.name] = str(file.relative_to(out))
    return found


def build(jobs: int, opt: str = OPT_LEVEL) -> Path:
    """Make the build for the current source if there is none; returns its folder."""
    paths = listed()
    sources = closure(paths)
    key = build_key(paths, sources, opt)
    folder = BUILDS / key
    if (folder / "manifest.json").is_file():
        return folder
    began = time.perf_counter()
    say(f"building {len(paths)} modules with mypyc (once per change of their sources; a few minutes on 2 cores)")
    staging = BUILDS / f"{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    modules = compile_core(paths, staging, jobs, opt)
    (staging / "manifest.json").write_text(json.dumps(manifest(key, modules, sources), indent=1))
    staging.rename(folder)
    for old in BUILDS.iterdir():  # one build at a time: the older ones match no source any more
        if old.is_dir() and old not in (folder, WORK):
            shutil.rmtree(old, ignore_errors=True)
    say(f"built in {time.perf_counter() - began:.0f} s: {folder.relative_to(ROOT)}")
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strict", action="store_true", help="fail when the core cannot be compiled")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="C files compiled at once")
    parser.add_argument("--opt", default=OPT_LEVEL, choices=("0", "1", "2", "3"), help="the C compiler's -O level")
    args = parser.parse_args(argv)
    try:
        build(args.jobs, args.opt)
    except (BuildFailed, SystemExit, Exception) as exc:  # setuptools exits on a compiler error
        why = str(exc).strip().splitlines()[-1:] or [type(exc).__name__]
        say(f"not built ({why[0]})")
        if args.strict:
            return 1
        say("the desk runs its Python source as it is (the same results; backtests slower)")
    return 0


def exit_now(code: int) -> None:
    """Leave without freeing the type checker's objects one by one (~0.9 GB after a build: tens of
    seconds of teardown on a busy machine, with nothing left to do; the files are written and closed)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
