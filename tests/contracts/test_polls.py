"""Polls as a fair value (contracts/polls.py): the feed read and checked, the weights by recency and
sample, and the chance an option leads, by hand and as properties."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.polls import (
    DAY_MS,
    MAX_ROWS,
    P_FLOOR,
    Poll,
    PollError,
    Weighting,
    fair_value,
    parse_feed,
    polls_from_rows,
)

NOW = 1_800_000_000_000
CSV = b"""poll_id,race,option,share,sample_size,end_date,pollster,notes
a,gov,Yes,52,600,2027-01-15,Alpha,ignored
a,gov,No,44,600,2027-01-15,Alpha,
b,gov,Yes,47.5,2400,2027-01-14T12:00:00Z,Beta,
b,gov,No,48.5%,2400,2027-01-14T12:00:00Z,Beta,
"""


def _poll(poll_id: str, yes: float, no: float, *, sample: int = 600, days_ago: float = 0.0) -> Poll:
    return Poll(poll_id, "gov", "", sample, NOW - int(days_ago * DAY_MS), {"Yes": yes, "No": no})


def test_csv_and_json_feeds_read_the_same_polls() -> None:
    from_csv = parse_feed(CSV)
    rows = [{"poll_id": "a", "race": "gov", "option": "Yes", "share": 52, "sample_size": 600,
             "end_date": "2027-01-15", "pollster": "Alpha"},
            {"poll_id": "a", "race": "gov", "option": "No", "share": "44", "sample_size": "600",
             "end_date": "2027-01-15", "pollster": "Alpha"},
            {"poll_id": "b", "race": "gov", "option": "Yes", "share": 47.5, "sample_size": 2400,
             "end_date": "2027-01-14T12:00:00Z", "pollster": "Beta"},
            {"poll_id": "b", "race": "gov", "option": "No", "share": "48.5%", "sample_size": 2400,
             "end_date": "2027-01-14T12:00:00+00:00", "pollster": "Beta"}]
    assert parse_feed(json.dumps(rows).encode()) == from_csv == parse_feed(json.dumps({"polls": rows}).encode())
    assert from_csv.left_out == 0 and [p.poll_id for p in from_csv.polls] == ["a", "b"]
    beta = from_csv.polls[1]
    assert (beta.sample, beta.shares, beta.pollster) == (2400, {"Yes": 47.5, "No": 48.5}, "Beta")
    assert beta.end_ms == int(datetime(2027, 1, 14, 12, tzinfo=UTC).timestamp() * 1000)
    assert from_csv.polls[0].end_ms == int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)  # a date: UTC


def test_rows_and_polls_that_cannot_be_read_are_left_out_with_the_reason() -> None:
    base = {"race": "gov", "sample_size": 500, "end_date": "2027-01-10"}
    rows = [{**base, "poll_id": "frac", "option": "Yes", "share": 0.48}, {**base, "poll_id": "frac", "option": "No",
                                                                          "share": 0.45},
            {**base, "poll_id": "over", "option": "Yes", "share": 70}, {**base, "poll_id": "over", "option": "No",
                                                                        "share": 40},
            {**base, "poll_id": "twice", "option": "Yes", "share": 40}, {**base, "poll_id": "twice", "option": "Yes",
                                                                         "share": 41},
            {**base, "poll_id": "mixed", "option": "Yes", "share": 40},
            {**base, "poll_id": "mixed", "option": "No", "share": 41, "sample_size": 900},
            {**base, "poll_id": "bad", "option": "Yes", "share": 140},
            {**base, "poll_id": "bad", "option": "No", "share": "lots"},
            {**base, "poll_id": "bad", "option": "Maybe", "share": 5, "end_date": "yesterday"},
            {**base, "poll_id": "bad", "option": "Other", "share": 5, "sample_size": 12.5},
            {**base, "poll_id": "bad", "option": "Nan", "share": "nan"},
            "not a row",
            {**base, "poll_id": "fine", "option": "Yes", "share": 50}, {**base, "poll_id": "fine", "option": "No",
                                                                        "share": 45}]
    feed = polls_from_rows(rows)
    assert [p.poll_id for p in feed.polls] == ["fine"] and feed.left_out == 10
    said = " | ".join(feed.reasons)
    for words in ("look like fractions", "add up to 110.0 %", "option 'Yes' twice", "disagree on the race, sample",
                  "share 140 is not a percent", "share: a number, not 'lots'", "end_date: an ISO date",
                  "sample_size must be a whole number", "share: a finite number", "row 14: not an object"):
        assert words in said, words


def test_a_feed_that_is_not_in_the_layout_is_refused_whole() -> None:
    with pytest.raises(PollError, match="header lacks share, sample_size"):
        parse_feed(b"poll_id,race,option,end_date\n")
    with pytest.raises(PollError, match="not valid JSON"):
        parse_feed(b"[{")
    with pytest.raises(PollError, match="a list of rows"):
        parse_feed(b'{"rows": []}')
    with pytest.raises(PollError, match="more than"):
        parse_feed(json.dumps([{}] * (MAX_ROWS + 1)).encode())
    with pytest.raises(PollError, match="UTF-8"):
        parse_feed(b"\xff\xfe\x00")


def test_weights_by_hand() -> None:
    weighting = Weighting(half_life_days=14)
    assert weighting.weight(_poll("a", 50, 50), NOW) == pytest.approx(1.0)  # 600 people, ended now
    assert weighting.weight(_poll("b", 50, 50, sample=2400), NOW) == pytest.approx(2.0)  # 4x the people: 2x
    assert weighting.weight(_poll("c", 50, 50, days_ago=14), NOW) == pytest.approx(0.5)  # a half-life old
    assert weighting.weight(_poll("d", 50, 50, sample=60_000), NOW) == pytest.approx(math.sqrt(5000 / 600))  # capped
    with pytest.raises(PollError):
        Weighting(half_life_days=0)


def test_one_poll_by_hand() -> None:
    found = fair_value([_poll("a", 52, 44)], "gov", "Yes", NOW, Weighting(poll_error_points=5))
    assert found is not None and (found.rival, found.polls, found.margin) == ("No", 1, pytest.approx(8.0))
    sampling = 100 * math.sqrt((0.52 + 0.44 - 0.08 ** 2) / 600)
    assert found.sigma == pytest.approx(math.sqrt(25 + sampling ** 2))
    assert found.probability == pytest.approx(NormalDist().cdf(8 / found.sigma), abs=1e-6)
    assert found.confidence == pytest.approx(0.5)  # one fresh poll of 600 people
    assert "Yes 52.0 % v No 44.0 %, margin +8.0" in found.detail()
    assert fair_value([_poll("a", 52, 44)], "gov", "Maybe", NOW) is None  # no poll asked about it
    assert fair_value([_poll("a", 52, 44, days_ago=-1)], "gov", "Yes", NOW) is None  # not ended yet


shares = st.floats(min_value=1, max_value=60)
ages = st.floats(min_value=0, max_value=60)
samples = st.integers(min_value=50, max_value=20_000)


@settings(max_examples=200, deadline=None)
@given(yes=shares, no=shares, sample=samples, age=ages)
def test_the_two_options_chances_add_up_to_one_and_stay_off_certainty(yes: float, no: float, sample: int,
                                                                       age: float) -> None:
    polls = [_poll("a", yes, no, sample=sample, days_ago=age)]
    for_yes, for_no = fair_value(polls, "gov", "Yes", NOW), fair_value(polls, "gov", "No", NOW)
    assert for_yes is not None and for_no is not None
    assert P_FLOOR <= for_yes.probability <= 1 - P_FLOOR
    if P_FLOOR < for_yes.probability < 1 - P_FLOOR:
        assert for_yes.probability + for_no.probability == pytest.approx(1, abs=2e-6)
    assert 0 < for_yes.confidence < 1


@settings(max_examples=200, deadline=None)
@given(no=shares, lead=st.floats(min_value=0.1, max_value=30), more=st.floats(min_value=0.1, max_value=10),
       sample=samples)
def test_a_larger_lead_is_a_larger_chance(no: float, lead: float, more: float, sample: int) -> None:
    def chance(yes: float) -> float:
        found = fair_value([_poll("a", yes, no, sample=sample)], "gov", "Yes", NOW)
        assert found is not None
        return found.probability

    assert chance(no + lead + more) >= chance(no + lead) > 0.5


@settings(max_examples=200, deadline=None)
@given(newer=ages, older_by=st.floats(min_value=0.5, max_value=60), lead=st.floats(min_value=1, max_value=20),
       sample=samples)
def test_the_newer_of_two_opposite_polls_sets_the_sign(newer: float, older_by: float, lead: float, sample: int) -> None:
    polls = [_poll("old", 45 - lead / 2, 45 + lead / 2, sample=sample, days_ago=newer + older_by),
             _poll("new", 45 + lead / 2, 45 - lead / 2, sample=sample, days_ago=newer)]
    found = fair_value(polls, "gov", "Yes", NOW)
    assert found is not None and found.margin > 0 and found.probability > 0.5


@settings(max_examples=200, deadline=None)
@given(small=st.integers(50, 1_000), lead=st.floats(min_value=1, max_value=20), age=ages)
def test_the_larger_of_two_opposite_polls_sets_the_sign(small: int, lead: float, age: float) -> None:
    polls = [_poll("small", 45 - lead / 2, 45 + lead / 2, sample=small, days_ago=age),
             _poll("large", 45 + lead / 2, 45 - lead / 2, sample=small * 4, days_ago=age)]
    found = fair_value(polls, "gov", "Yes", NOW)
    assert found is not None and found.margin > 0


def test_more_polls_are_more_confidence_and_old_ones_less() -> None:
    one = fair_value([_poll("a", 50, 45)], "gov", "Yes", NOW)
    four = fair_value([_poll(str(i), 50, 45) for i in range(4)], "gov", "Yes", NOW)
    stale = fair_value([_poll(str(i), 50, 45, days_ago=60) for i in range(4)], "gov", "Yes", NOW)
    assert one is not None and four is not None and stale is not None
    assert four.confidence == pytest.approx(0.8) and one.confidence < four.confidence
    assert stale.confidence < one.confidence


def test_a_race_is_read_as_its_fair_values_read_it_a_later_poll_apart() -> None:
    """`race_view` (what `polls show` prints): the polls ended by now counted and dated, one ending later
    counted apart and read by no chance; each option's chance is `fair_value`'s."""
    from contracts.polls import race_view

    later = Poll("z", "gov", "", 5_000, NOW + 365 * DAY_MS, {"Yes": 5.0, "No": 90.0, "Maybe": 5.0})
    polls = [_poll("a", 52, 44, days_ago=3), _poll("b", 47, 49, days_ago=1), later]
    view = race_view(polls, "gov", NOW)
    assert (view.polls, view.later, view.newest_ms, view.later_ms) == (2, 1, NOW - DAY_MS, NOW + 365 * DAY_MS)
    assert set(view.fairs) == {"Yes", "No", "Maybe"} and view.fairs["Maybe"] is None  # asked only later
    for option in ("Yes", "No"):
        assert view.fairs[option] == fair_value(polls, "gov", option, NOW)
        assert view.fairs[option] == fair_value(polls[:2], "gov", option, NOW)  # the later poll changes nothing
