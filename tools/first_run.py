"""What `make run` and `make test` say while they set the desk up: each step, roughly how long it takes,
and its progress, with the tools' own noise kept in a log (shown only when a step fails).

    python3 -m tools.first_run step "what" "how long"            # one line announcing a step
    python3 -m tools.first_run install VENV_PYTHON REQUIREMENTS  # pip, with a line of progress

Standard library only: it runs with the machine's python3 before the virtualenv has anything in it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "var" / "log" / "setup.log"  # the tools' full output, for when a step fails
PIP_MINUTES = "~4-5 minutes on a loaded 2-core machine, ~1-2 on an idle one"
_COLLECTING = re.compile(r"^\s*(?:Collecting|Requirement already satisfied:)\s+([A-Za-z0-9_.\-\[\]]+)")


def step(what: str, how_long: str) -> str:
    return f"==> {what} ({how_long})"


def pinned(requirements: Path) -> int:
    """How many packages `requirements` pins (its lines that name one)."""
    lines = (line.strip() for line in requirements.read_text().splitlines())
    return sum(1 for line in lines if line and not line.startswith("#"))


def progress(lines: Iterable[str], total: int, began: float, clock: object = time.monotonic) -> Iterator[str]:
    """pip's output as a few lines of progress: how many of the `total` pinned packages it has
    resolved and fetched (each named), then that it installs them; its other lines are left out."""
    seen: set[str] = set()
    installing = False
    for line in lines:
        found = _COLLECTING.match(line)
        if found and not installing:
            name = found.group(1).split("[")[0].lower()
            if name not in seen:
                seen.add(name)
                elapsed = clock() - began  # type: ignore[operator]  # a monotonic clock, as time.monotonic
                yield f"  fetching {len(seen)}/{total} packages ({name}), {elapsed / 60:.1f} min so far"
        elif line.startswith("Installing collected packages") and not installing:
            installing = True
            yield f"  installing the {len(seen)} packages into .venv (unpacking: about a minute) ..."


def install(python: str, requirements: Path, out: TextIO = sys.stdout, log_path: Path = LOG) -> int:
    """pip install -r `requirements` into the virtualenv of `python`, showing progress on `out` (one
    line rewritten in a terminal, a line every tenth of the packages otherwise) and keeping pip's full
    output in var/log/setup.log; on failure, pip's last lines and where the log is."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    total, began = pinned(requirements), time.monotonic()
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
               "-r", str(requirements)]
    terminal = out.isatty()
    tail: list[str] = []
    shown = 0
    with log_path.open("w") as log, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                text=True, bufsize=1) as pip:
        assert pip.stdout is not None

        def read() -> Iterator[str]:
            for raw in pip.stdout:  # type: ignore[union-attr]  # piped above
                log.write(raw)
                tail.append(raw.rstrip())
                del tail[:-30]
                yield raw

        for n, message in enumerate(progress(read(), total, began)):
            if terminal:
                out.write(f"\r{message:<100}")
            elif n % max(1, total // 10) == 0 or "installing" in message:
                out.write(message + "\n")
            out.flush()
            shown += 1
        code = pip.wait()
    if terminal and shown:
        out.write("\n")
    if code != 0:
        out.write("pip failed; its last lines:\n" + "\n".join(tail) + f"\n(all of it: {log_path})\n")
        return code
    out.write(f"  the packages are installed ({(time.monotonic() - began) / 60:.1f} min; pip's output: {log_path})\n")
    out.flush()
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["step"] and len(argv) == 3:
        print(step(argv[1], argv[2]), flush=True)
        return 0
    if argv[:1] == ["install"] and len(argv) == 3:
        return install(argv[1], Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
