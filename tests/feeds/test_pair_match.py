"""The score behind a suggested pair (engine/feeds/pair_match.py): the same question in another venue's
words scores high; a question naming other figures or another month never reaches what is offered
however alike its words; agreeing figures never make two different questions one; the close times
count; and a listing of thousands is narrowed to the right market."""

from __future__ import annotations

from engine.feeds.pair_match import CONFLICT_CAP, OFFERED, Index, Question, best_matches, parse, score

DAY = 86_400_000
FED_25 = Question("p25", "Will the Fed increase interest rates by 25 bps after its February meeting?", 10 * DAY)
FED_50 = Question("p50", "Will the Fed increase interest rates by 50 bps after its February meeting?", 10 * DAY)
TRUMP = Question("ptrump", "Will Donald J. Trump win the U.S. 2024 Republican presidential nomination?", 10 * DAY)
PARTY = Question("pparty", "Which party wins 2024 US Presidential Election?", 10 * DAY)
KALSHI = [
    Question("K-H25", "Will the Federal Reserve hike rates by 25 bps at its February meeting?", 10 * DAY),
    Question("K-B50", "Will the FOMC raise the federal funds rate by 50 basis points in February?", 11 * DAY),
    Question("K-DJT", "Donald Trump to be the Republican nominee for President in 2024?", 13 * DAY),
    Question("K-MAR", "Will the Federal Reserve hold rates at its March meeting?", 40 * DAY),
]


def _by_id(found: str) -> Question:
    return next(q for q in KALSHI if q.market == found)


def test_the_same_question_in_kalshi_words_scores_high_with_each_part_said() -> None:
    match = score(FED_25, _by_id("K-H25"))
    assert match.score >= 90 and match.parts == {"wording": match.parts["wording"], "numbers": 100, "dates": 100,
                                                 "close": 100}
    assert match.said["numbers"] == "both name 25" and match.said["dates"] == "both name february"
    # "basis points" is "bps", "FOMC" the Fed, "raise" an increase: the 50 bps question, worded apart, is offered
    assert score(FED_50, _by_id("K-B50")).score >= OFFERED
    assert parse("the FOMC raises rates by 50 basis points").words == ("fed", "increase", "rates", "bps")


def test_other_figures_or_another_month_are_never_offered_however_alike_the_words() -> None:
    other_figure = score(FED_25, _by_id("K-B50"))
    assert other_figure.parts["numbers"] == 0 and other_figure.score <= CONFLICT_CAP < OFFERED
    assert "figures disagree" in other_figure.said["held"]
    fifty_against_25 = score(FED_50, _by_id("K-H25"))  # 93 % alike in words: held all the same
    assert fifty_against_25.parts["wording"] >= 90 and fifty_against_25.score <= CONFLICT_CAP
    march = score(FED_25, _by_id("K-MAR"))
    assert march.parts["dates"] == 0 and march.score <= CONFLICT_CAP and "dates disagree" in march.said["held"]


def test_agreeing_dates_do_not_make_a_different_question_the_same() -> None:
    party = score(PARTY, _by_id("K-DJT"))  # both name 2024 and close together, the words apart
    assert party.parts["dates"] == 100 and party.parts["wording"] < 60 and party.score < OFFERED
    assert score(TRUMP, _by_id("K-DJT")).score >= 90


def test_close_times_count() -> None:
    near, far = Question("k", FED_25.text.replace("Fed", "Federal Reserve"), 10 * DAY), \
        Question("k", FED_25.text.replace("Fed", "Federal Reserve"), 35 * DAY)
    assert score(FED_25, near).parts["close"] == 100 and score(FED_25, far).parts["close"] < 20
    assert score(FED_25, near).score > score(FED_25, far).score
    assert score(FED_25, Question("k", near.text, None)).said["close"] == "a close time unknown"


def test_each_watched_market_gets_its_own_twin_out_of_thousands() -> None:
    filler = [Question(f"Q{n}", f"Will simulated outcome {n} happen by {['March', 'June'][n % 2]} {2020 + n % 9}?",
                       10 * DAY) for n in range(5_000)]
    found = best_matches([FED_25, FED_50, TRUMP, PARTY], Index(KALSHI + filler))
    assert [(m.watched.market, m.found.market) for m in found] == [
        ("p25", "K-H25"), ("p50", "K-B50"), ("ptrump", "K-DJT")]
