"""A headline's sentiment, from -1 (most negative) to 1 (most positive): VADER's compound score,
a rule-based model tuned for short social and news text whose lexicon ships inside its package
(vaderSentiment), so scoring needs no network and no download. It reads tone, not meaning: "Fed
cuts rates" scores a little negative ("cuts"). News rules use it as a gate and a nudge
(contracts/news.py), never as a forecast on its own."""

from __future__ import annotations

from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_CHARS = 2_000  # a summary longer than this is scored on its start (the rules match the same bounded text)


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads the lexicon file once per process


def sentiment(text: str) -> float:
    """The compound score of `text`, rounded to 3 places (0 for no words it knows)."""
    return round(float(_analyzer().polarity_scores(text[:MAX_CHARS])["compound"]), 3)
