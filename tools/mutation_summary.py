"""What `make mutation` prints last: the kill rate per mutated file and overall, from the verdicts
`mutmut results --all true` lists (one `module.function__mutmut_N: verdict` a line).

A timeout counts as killed (the mutant made the tests run away: they did not pass), as mutmut's own
score counts it; a mutant no selected test reaches is counted apart, and the rate is given both over
the reached mutants and over all of them (the unreached counted as survivors).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

KILLED = {"killed", "timeout"}
HEADER = (f"{'file':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'unreached':>9} {'not run':>7} {'reached':>8} "
          f"{'all':>6}")


def module_of(mutant: str) -> str:
    """`engine.risk.gate.xǁBudgetǁroom__mutmut_3` -> `engine/risk/gate.py`: the mangled name starts
    with `x_` (a function) or `xǁ` (a method) after the module's dotted path."""
    dotted = mutant.split(".x", 1)[0]
    return dotted.replace(".", "/") + ".py"


def tally(lines: Iterable[str]) -> dict[str, Counter[str]]:
    by_file: dict[str, Counter[str]] = {}
    for line in lines:
        name, sep, verdict = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        by_file.setdefault(module_of(name), Counter())[verdict] += 1
    return by_file


def row(label: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    killed = sum(counts[v] for v in KILLED)
    unreached, not_run = counts["no tests"], counts["not checked"]
    reached = total - unreached - not_run
    over_reached = f"{100 * killed / reached:.1f}%" if reached else "-"
    over_all = f"{100 * killed / total:.1f}%" if total else "-"
    survived = total - killed - unreached - not_run
    return (f"{label:32} {total:7} {killed:7} {survived:8} {unreached:9} {not_run:7} {over_reached:>8} "
            f"{over_all:>6}")


def report(by_file: dict[str, Counter[str]]) -> str:
    overall: Counter[str] = Counter()
    rows = [HEADER]
    for path in sorted(by_file):
        overall += by_file[path]
        rows.append(row(path, by_file[path]))
    rows.append(row("all", overall))
    return "\n".join(rows)


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    listed = subprocess.run([str(mutmut), "results", "--all", "true"], capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        print(f"mutmut results failed: {listed.stderr.strip() or listed.stdout.strip()}", file=sys.stderr)
        return 1
    by_file = tally(listed.stdout.splitlines())
    if not by_file:
        print("no mutation results yet: run `make mutation`", file=sys.stderr)
        return 1
    print(report(by_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
