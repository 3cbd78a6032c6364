"""The poll source from the command line, in-process on a real database, as a trader meets it with a
feed kept in a file: `polls show` lists each race's chance and what it left out, `link` checks the
race and option against the feed, `post` posts; a feed that is missing, unreadable or not in the
layout is an error in words (never a stack trace, never the URL, which may hold a key), and a round
of `--every` whose feed fails posts nothing and the next posts again. The URL's key is a secret. `show`
dates a race by the polls its fair value reads, and costs in proportion to the feed."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.polls import Weighting
from contracts.settings import load_settings, secret_values
from engine.main import main
from engine.outside.polls import keep_posting
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.outside.test_signals_api import add_market

MARKET = "0x" + "ab" * 32
KEY = "k3y-0f-the-vendor-123"


def _csv(*, yes: float = 52, no: float = 44) -> str:
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    return ("poll_id,race,option,share,sample_size,end_date,pollster\n"
            f"a,gov-2027,Yes,{yes},900,{day},Alpha\n"
            f"a,gov-2027,No,{no},900,{day},Alpha\n"
            f"b,gov-2027,Yes,140,500,{day},Beta\n"
            f"b,gov-2027,No,40,500,{day},Beta\n")


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    for name in list(os.environ):
        if name.startswith(("POLY_", "DASHBOARD_", "TRADER_")) or name == "POLLS_FEED":
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADER_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("TRADER_ENV_FILE", os.devnull)
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    add_market(db, MARKET, "Will Yes win the governor's race?")
    yield db
    db.dispose()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_feed_in_a_file_is_shown_linked_and_posted(desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    feed = tmp_path / "polls.csv"
    feed.write_text(_csv())
    monkeypatch.setenv("POLLS_FEED", str(feed))
    code, out, _ = _cli(capsys, "polls", "show", "--json")
    shown = json.loads(out)
    assert code == 0 and [r["race"] for r in shown["races"]] == ["gov-2027"]
    assert shown["races"][0]["options"]["Yes"]["chance"] > 0.5 and shown["left_out"] == 1
    assert "share 140 is not a percent" in shown["reasons"][0]

    code, _, err = _cli(capsys, "polls", "link", MARKET, "gov-2027", "Maybe")
    assert code != 0 and "has no option 'Maybe': its options are No, Yes" in err
    code, _, err = _cli(capsys, "polls", "link", MARKET, "gov-2027", "Yes")
    assert code == 0, err
    code, out, err = _cli(capsys, "polls", "post")
    assert code == 0, err
    posted = json.loads(out)["posts"][0]
    with desk.read() as conn:
        fair, confidence, source = conn.execute(text("SELECT fair_value, confidence, source FROM signals "
                                                     "WHERE condition_id = :c"), {"c": MARKET}).one()
    assert source == "polls" and fair == round(posted["fair_value"] * 1e6) and fair > 500_000
    assert confidence == round(posted["confidence"] * 1e6)
    with desk.read() as conn:
        actions = conn.execute(text("SELECT action FROM audit_log WHERE entity = :e"),
                               {"e": f"poll_links:{MARKET}"}).scalars().all()
    assert actions == ["poll_link.add"]


@pytest.mark.parametrize("feed, words", [
    (None, "POLLS_FEED is not set"),
    ("missing.csv", "POLLS_FEED names no readable file"),
    ("poll_id,race,option,end_date\n", "header lacks share, sample_size"),
    ('[{"poll_id": ', "not valid JSON"),
    ('{"rows": []}', 'a list of rows, or {"polls": [rows]}'),
    (f"http://127.0.0.1:9/polls.csv?apiKey={KEY}", "ConnectError reading the poll feed"),
])
def test_a_bad_feed_is_an_error_in_words(desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch, feed: str | None, words: str) -> None:
    if feed is not None:
        if feed.endswith(".csv") or feed.startswith("http"):
            location = feed if feed.startswith("http") else str(tmp_path / feed)
        else:
            (tmp_path / "feed.txt").write_text(feed)
            location = str(tmp_path / "feed.txt")
        monkeypatch.setenv("POLLS_FEED", location)
    for verb in (["show"], ["link", MARKET, "gov-2027", "Yes"]):
        code, _, err = _cli(capsys, "polls", *verb)
        assert code == 1 and words in err and "Traceback" not in err and KEY not in err, err
    with desk.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM poll_links")).scalar_one() == 0


def test_post_without_links_or_with_a_ttl_shorter_than_its_rounds_is_refused(
        desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "polls.csv").write_text(_csv())
    monkeypatch.setenv("POLLS_FEED", str(tmp_path / "polls.csv"))
    code, _, err = _cli(capsys, "polls", "post")
    assert code == 1 and "no market is linked to the poll feed" in err
    code, _, err = _cli(capsys, "polls", "post", "--every", "60", "--ttl", "60")
    assert code == 1 and "--ttl 60 must be longer than --every 60" in err


def test_a_round_whose_feed_fails_posts_nothing_and_the_next_posts(
        desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    feed = tmp_path / "polls.csv"
    feed.write_text(_csv())
    monkeypatch.setenv("POLLS_FEED", str(feed))
    assert _cli(capsys, "polls", "link", MARKET, "gov-2027", "Yes")[0] == 0
    feed.write_text("not,a,poll,feed\n")

    def round_() -> None:
        asyncio.run(keep_posting(desk, str(feed), every_s=10, weighting=Weighting(), source="polls", ttl_s=600,
                                 actor="test", clock_ms=now_ms, rounds=1))

    with caplog.at_level(logging.INFO, logger="engine.outside.polls"):
        round_()
    assert "poll feed not read: nothing posted this round" in caplog.text
    with desk.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM signal_posts")).scalar_one() == 0
    feed.write_text(_csv(yes=40, no=55))
    round_()
    with desk.read() as conn:
        fair = conn.execute(text("SELECT fair_value FROM signals WHERE condition_id = :c"), {"c": MARKET}).scalar_one()
    assert fair < 200_000  # No leads by 15 points: Yes's chance is small


def test_the_feeds_key_is_a_secret() -> None:
    settings = load_settings(env={"POLLS_FEED": f"https://polls.example.com/v1/export.csv?apiKey={KEY}"})
    assert settings.polls_feed is not None and KEY in secret_values(settings)
    assert KEY not in repr(settings)


def test_a_poll_ending_later_is_left_out_of_show_as_of_the_fair_value(
        desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 86: a poll ending in 2099 is not the race's newest: `polls show` counts and dates the polls the
    posted fair value reads (those ended by now), says the later one apart, and shows the chance posted."""
    feed = tmp_path / "polls.csv"
    feed.write_text(_csv() + "z,gov-2027,Yes,10,5000,2099-01-01,Zeta\nz,gov-2027,No,85,5000,2099-01-01,Zeta\n")
    monkeypatch.setenv("POLLS_FEED", str(feed))
    code, out, _ = _cli(capsys, "polls", "show", "--json")
    race = json.loads(out)["races"][0]
    yesterday = datetime.now(UTC) - timedelta(days=1)
    assert code == 0 and datetime.fromtimestamp(race["newest"] / 1000, tz=UTC).date() == yesterday.date()
    assert (race["polls"], race["later"]) == (2, 1)  # a and b (b's Yes row left out: 140 %), then z
    assert datetime.fromtimestamp(race["later_ends"] / 1000, tz=UTC).date().year == 2099
    assert _cli(capsys, "polls", "link", MARKET, "gov-2027", "Yes")[0] == 0
    code, out, err = _cli(capsys, "polls", "post")
    assert code == 0, err
    assert json.loads(out)["posts"][0]["fair_value"] == race["options"]["Yes"]["chance"] > 0.5  # the same rule
    _, text_out, _ = _cli(capsys, "polls", "show")
    assert f"(2 polls, newest ended {yesterday:%Y-%m-%d}; 1 ending later (first 2099-01-01) left out until it ends)" \
        in text_out and "2099-01-01): " not in text_out


def _pairs_feed(path: Path, options: int) -> None:
    """One race of `options` options, asked two at a time (a poll per pair), ended yesterday."""
    day = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    rows = [f"p{i},big,o{2 * i},{40 + i % 7},800,{day},A\np{i},big,o{2 * i + 1},45,800,{day},A"
            for i in range(options // 2)]
    path.write_text("poll_id,race,option,share,sample_size,end_date,pollster\n" + "\n".join(rows) + "\n")


def _work(capsys: pytest.CaptureFixture[str], *args: str) -> int:
    """The function calls one run of the command makes (Python's, the C built-ins', each generator step):
    work counted, not timed."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        code = main(list(args))
    finally:
        sys.setprofile(None)
    capsys.readouterr()
    assert code == 0
    return calls


def test_show_costs_in_proportion_to_the_feed(desk: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 86: `polls show` was quadratic in a race's options (each option's chance averaged the whole race
    again): 4,000 options took 94 s, 24,000 (under the 50,000-row bound) never ended. Four times the
    options now cost about four times the work (bench/polls_show.py times it at the bound)."""
    feed = tmp_path / "polls.csv"
    monkeypatch.setenv("POLLS_FEED", str(feed))
    _pairs_feed(feed, 10)
    _work(capsys, "polls", "show", "--json")  # the command's imports, once
    work = {}
    for options in (400, 1_600):
        _pairs_feed(feed, options)
        work[options] = _work(capsys, "polls", "show", "--json")
    assert work[1_600] / work[400] < 5, work  # linear: about 4 (quadratic: about 16)
