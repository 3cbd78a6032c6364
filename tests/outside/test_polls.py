"""A poll average as an outside source, as a trader meets it: the simulator serves a poll feed whose
polls follow a market's news, `python -m engine polls link` ties the market to its race, `polls
post` posts the average's chance through the outside-signals path, and the desk reads it as the
market's fair value with its confidence (then judged like any source). What cannot be posted says
why and stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from contracts.polls import DAY_MS, Poll, PollFeed, Weighting
from engine.outside.polls import post_round
from engine.trading.hosting.views import load_fair_signals
from simulator.news import POLITICS
from simulator.testing import SimHandle, approved_simulator
from storage.desk.poll_links import PollLink, add_link, list_links
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli, wait_until
from tests.outside.test_signals_api import add_market


def _politics_market(sim: SimHandle) -> Any:
    agents = sim.sim.agents
    return next(m for m in sim.sim.markets if not m.neg_risk and not m.quiet and not m.closed
                and agents.news.category_of(m) == POLITICS)


def _polls_since(sim: SimHandle, race: str, since: str) -> int:
    rows = httpx.get(f"{sim.clob_host}/polls/polls.json").json()
    return len({r["poll_id"] for r in rows if r["race"] == race and r["end_date"] > since})


def _believe(sim: SimHandle, market: Any, p: float) -> None:
    """News that the market's YES is `p`, public at once; waits until the feed has polls taken since."""
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = httpx.post(f"{sim.clob_host}/_sim/news", json={"condition_id": market.condition_id, "p": p, "lead_s": 0})
    assert answer.status_code == 200, answer.text
    # Ten of them: with a poll a second and a half-life of ~2.6 s, the polls before the news then weigh ~7 % of
    # the average (after four, near a third: the value posted after the turn read 0.43 once in a few runs).
    wait_until(lambda: _polls_since(sim, market.slug, since) >= 10, timeout=45, what="polls after the news")


def _posted(env: dict[str, str]) -> dict[str, Any]:
    done = run_cli(["polls", "post", "--half-life", "0.00003"], env)  # ~2.6 s: the polls since the news weigh most
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_the_simulators_poll_feed_posts_a_fair_value_the_desk_reads(tmp_path: Path) -> None:
    with approved_simulator(seed=5, agents=True, polls_every_s=1) as sim:
        market = _politics_market(sim)
        csv_rows = httpx.get(f"{sim.clob_host}/polls/polls.csv").text.splitlines()
        assert csv_rows[0] == "poll_id,race,option,share,sample_size,end_date,pollster"
        env = isolated_env(tmp_path, POLLS_FEED=f"{sim.clob_host}/polls/polls.csv")
        migrate(Path(env["TRADER_DB"]))
        db = Database(Path(env["TRADER_DB"]))
        add_market(db, market.condition_id, market.question)
        unknown = run_cli(["polls", "link", market.condition_id, "no-such-race", "Yes"], env)
        assert unknown.returncode != 0 and "the poll feed has no race 'no-such-race' now" in unknown.stderr
        linked = run_cli(["polls", "link", market.condition_id, market.slug, "Yes"], env)
        assert linked.returncode == 0, linked.stderr

        _believe(sim, market, 0.95)
        first = _posted(env)["posts"][0]
        fair, confidence = load_fair_signals(db, now_ms())[market.condition_id]
        assert first["posted"] is not None and fair == round(first["fair_value"] * 1e6) and fair > 600_000
        assert confidence is not None and confidence > 500_000
        with db.read() as conn:
            source, via, detail = conn.execute(text("SELECT source, via, detail FROM signals WHERE condition_id = :c"),
                                               {"c": market.condition_id}).one()
        assert (source, via) == ("polls", "cli") and detail.startswith("poll average of ")

        _believe(sim, market, 0.05)  # the news turns: the polls follow, and so does the posted value
        _posted(env)
        fair, _ = load_fair_signals(db, now_ms())[market.condition_id]
        assert fair < 400_000
        db.dispose()


def test_a_market_that_cannot_be_posted_says_why_and_stores_nothing(tmp_path: Path) -> None:
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    for cid in ("0x" + "aa" * 32, "0x" + "bb" * 32):
        add_market(db, cid)
        add_link(db, condition_id=cid, race="gov" if cid.endswith("aa") else "senate", option="Yes", actor="test")
    now = now_ms()
    feed = PollFeed((Poll("p1", "gov", "", 800, now - DAY_MS, {"Yes": 51.0, "No": 45.0}),), 0, ())
    links = list_links(db)
    with db.write() as conn:  # the first market closes after it was linked
        conn.execute(text("UPDATE markets SET closed = 1 WHERE condition_id = :c"), {"c": links[0].condition_id})
    done = post_round(db, feed, links, now=now, weighting=Weighting(), source="polls", ttl_s=600, actor="test")
    assert [p.post_id for p in done] == [None, None]
    assert done[0].why_not.startswith("refused (MARKET_CLOSED)")
    assert done[1].why_not == "no poll of race 'senate' that ended by now asks about 'Yes' and a rival"
    reserved = post_round(db, feed, [PollLink("0x" + "aa" * 32, "gov", "Yes", "", 0, "t")], now=now,
                          weighting=Weighting(), source="operator", ttl_s=600, actor="test")
    assert reserved[0].why_not.startswith("refused (")
    with db.read() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM signals")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM signal_posts")).scalar_one() == 0
    db.dispose()
