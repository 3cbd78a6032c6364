"""The docs cannot rot: every `python -m engine …` and `python -m simulator …` line in a code
block of README.md and docs/*.md names a subcommand and flags the real command line has, and every
link between the docs (and every #anchor) leads somewhere. The checker itself is tested on planted
mistakes."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from engine.main import build_parser
from tests.helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
COMMAND = re.compile(r"(?:^|\s|/)python3? -m (engine|simulator)\b(.*)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _simulator_flags() -> set[str]:
    from simulator.__main__ import parse_args

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.suppress(SystemExit):
        parse_args(["--help"])
    return set(re.findall(r"--[a-z0-9][a-z0-9-]*", shown.getvalue()))


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subcommands here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def command_lines(text: str) -> list[tuple[str, str]]:
    """(program, the rest of the line) for each command in the text's code blocks."""
    found = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            match = COMMAND.search(line.split(" #")[0])
            if match:
                found.append((match.group(1), match.group(2)))
    return found


def problems_of(program: str, rest: str, engine: argparse.ArgumentParser, simulator: set[str]) -> list[str]:
    try:
        tokens = shlex.split(rest)
    except ValueError:
        tokens = rest.split()
    tokens = [t for t in tokens if not t.startswith(("<", "…", "$", "|", ">"))]
    if program == "simulator":
        return [f"python -m simulator has no {t.split('=')[0]}" for t in tokens
                if t.startswith("--") and t.split("=")[0] not in simulator]
    parser, path = engine, "python -m engine"
    for token in tokens:
        subs = _subparsers(parser)
        if token.startswith("-") or not subs or not re.fullmatch(r"[a-z][a-z0-9_-]*", token):
            break
        if token not in subs:
            return [f"{path} has no subcommand {token!r}"]
        parser, path = subs[token], f"{path} {token}"
    return [f"{path} has no {t.split('=')[0]}" for t in tokens
            if t.startswith("--") and t.split("=")[0] not in _flags(parser)]


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def broken_links(path: Path) -> list[str]:
    found = []
    for target in LINK.findall(FENCE.sub("", path.read_text())):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            found.append(f"{path.name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            found.append(f"{path.name}: {target} (no such heading)")
    return found


def test_every_documented_command_exists() -> None:
    engine, simulator = build_parser(), _simulator_flags()
    lines = [(doc.name, p, r) for doc in DOCS for p, r in command_lines(doc.read_text())]
    assert len(lines) > 20  # the docs' commands were found
    problems = [f"{name}: {msg}" for name, p, r in lines for msg in problems_of(p, r, engine, simulator)]
    assert problems == []


def test_every_link_between_the_docs_resolves() -> None:
    assert [problem for doc in DOCS for problem in broken_links(doc)] == []


def test_the_checker_sees_a_wrong_flag_a_wrong_subcommand_and_a_broken_link(tmp_path: Path) -> None:
    engine, simulator = build_parser(), _simulator_flags()
    text = ("```bash\npython -m engine backtest --no-such-flag 1\n.venv/bin/python -m engine nosuch\n"
            "python -m simulator --markets 10 --bogus\npython -m engine status --json\n```\n")
    found = [m for p, r in command_lines(text) for m in problems_of(p, r, engine, simulator)]
    assert found == ["python -m engine backtest has no --no-such-flag", "python -m engine has no subcommand 'nosuch'",
                     "python -m simulator has no --bogus"]
    (tmp_path / "a.md").write_text("# A\n\n## Here\n\n[ok](#here) [bad](#nowhere) [gone](b.md) [far](a.md#here)\n")
    assert broken_links(tmp_path / "a.md") == ["a.md: #nowhere (no such heading)", "a.md: b.md (no such file)"]


@pytest.mark.parametrize("heading, anchor", [("Telegram bot", "telegram-bot"),
                                              ("Configuration (`.env`)", "configuration-env"),
                                              ("What the desk trusts, and what it does not",
                                               "what-the-desk-trusts-and-what-it-does-not")])
def test_anchors_as_github_makes_them(heading: str, anchor: str) -> None:
    assert _anchor(heading) == anchor
