"""How alike two venues' questions are: the score behind a suggested pair (engine/cli/pair_suggest.py).

Pure: no I/O, no clock. A score is 0 to 100, made of four parts, each 0 to 100, said with the score so
the trader reads why (the desk never links by itself; a suggestion only saves the search):

- **wording** (weight 0.55): rapidfuzz's token set and token sort ratios, averaged, over the content
  words left once each question is normalised (lower case, punctuation gone, a few venue synonyms
  made one word: "Federal Reserve" and "FOMC" read "fed", "basis points" "bps", "hike" and "raise"
  "increase", "nominee" "nomination", ...), filler words ("will", "the", "by", ...) dropped, and
  numbers and dates set apart: they are scored on their own, not as letters;
- **numbers** (0.20): the figures each question names (25 bps, $1,700, 34 goals): the same set 100,
  one naming none 60, some shared 50, none shared 0;
- **dates** (0.15): the months and years each names, scored the same way;
- **close** (0.10): the two close times, 100 within a day of each other, falling to 0 at 30 days
  apart (50 when either is unknown).

Numbers and dates matter more than words: when both questions name figures (or months or years) and
share none, the score is held under `CONFLICT_CAP`, below what is offered (`OFFERED`), however alike
the words read ("25 bps" is never offered for "50 bps", nor February for March). And agreeing figures
never make different questions one: wording less than `WORDING_FLOOR` alike holds the score under
what is offered ("Which party wins 2024?" is not "Trump the 2024 Republican nominee?").

`best_matches` scores each question against the other venue's, first narrowed to the candidates
sharing its rarest words (an index of words to markets, each word weighted by how few markets hold
it), so a listing of thousands is scored in a fraction of a second.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

DAY_MS = 86_400_000
WEIGHTS = {"wording": 0.55, "numbers": 0.20, "dates": 0.15, "close": 0.10}
CONFLICT_CAP = 45  # the most a pair whose figures or dates disagree can score
OFFERED = 60  # the least a suggestion scores
WORDING_FLOOR = 60  # wording less alike than this holds the score under OFFERED
CLOSE_FULL_DAYS, CLOSE_ZERO_DAYS = 1.0, 30.0
NARROWED = 40  # candidates fully scored per question, the most alike by shared rare words

FILLER = frozenset("""will the a an be by at in of on to its it after before for this that is are and or
    what who which when there their his her than as with from into during any does do did has have""".split())
MONTHS = {name: name for name in ("january", "february", "march", "april", "may", "june", "july", "august",
                                  "september", "october", "november", "december")}
MONTHS.update({m[:3]: m for m in list(MONTHS)} | {"sept": "september"})
# Phrases first (longest first), then single words: each venue's way of saying one thing.
PHRASES = (("federal reserve", "fed"), ("basis points", "bps"), ("basis point", "bps"), ("united states", "us"),
           ("u.s.", "us"), ("more than", "above"), ("greater than", "above"), ("at least", "above"),
           ("less than", "below"), ("fewer than", "below"))
WORDS = {"fomc": "fed", "bp": "bps", "hike": "increase", "hikes": "increase", "raise": "increase",
         "raises": "increase", "increases": "increase", "cuts": "cut", "lower": "cut", "lowers": "cut",
         "nominee": "nomination", "nominated": "nomination", "presidential": "president", "gop": "republican",
         "democrat": "democratic", "dem": "democratic", "over": "above", "under": "below", "elected": "win",
         "wins": "win", "won": "win", "usa": "us"}
_NUMBER = re.compile(r"\$?\d[\d,]*(?:\.\d+)?(?:/\d+)?%?")
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Question:
    """One market as a pair reads it: its id on its venue, its question (or title) and close time (ms)."""

    market: str
    text: str
    close_ms: int | None = None


@dataclass(frozen=True)
class Parsed:
    words: tuple[str, ...]  # content words, normalised, in order
    numbers: frozenset[str]
    dates: frozenset[str]  # month names and years


@dataclass(frozen=True)
class Match:
    """`found` scored against `watched`: the score and how it was made (each part 0-100, and in words)."""

    watched: Question
    found: Question
    score: int
    parts: dict[str, int]
    said: dict[str, str]


def parse(text: str) -> Parsed:
    """A question's content words, figures and dates, as the score reads them."""
    lowered = text.lower().replace("[single market]", " ")
    for phrase, one in PHRASES:
        lowered = lowered.replace(phrase, f" {one} ")
    numbers: set[str] = set()
    dates: set[str] = set()
    for raw in _NUMBER.findall(lowered):
        value = raw.strip("$%").replace(",", "")
        value = value.rstrip("0").rstrip(".") if "." in value else value
        (dates if len(value) == 4 and value.isdigit() and 1900 <= int(value) <= 2100 else numbers).add(value)
    lowered = _NUMBER.sub(" ", lowered.replace("'s ", " "))
    words: list[str] = []
    for word in _WORD.findall(lowered):
        word = WORDS.get(word, word)
        if word in MONTHS:
            dates.add(MONTHS[word])
        elif word not in FILLER and len(word) > 1:
            words.append(word)
    return Parsed(tuple(words), frozenset(numbers), frozenset(dates))


def _sets(a: frozenset[str], b: frozenset[str]) -> tuple[int, str]:
    """How two questions' figures (or dates) agree: a part's score and its words."""
    if not a and not b:
        return 100, "neither names any"
    if not a or not b:
        named = ", ".join(sorted(a or b))
        return 60, f"only one names {named}"
    if a == b:
        return 100, f"both name {', '.join(sorted(a))}"
    if a & b:
        return 50, f"share {', '.join(sorted(a & b))}; differ on {', '.join(sorted(a ^ b))}"
    return 0, f"disagree: {', '.join(sorted(a))} against {', '.join(sorted(b))}"


def _close(a: int | None, b: int | None) -> tuple[int, str]:
    if not a or not b:
        return 50, "a close time unknown"
    days = abs(a - b) / DAY_MS
    if days <= CLOSE_FULL_DAYS:
        part = 100
    else:
        part = round(100 * max(0.0, (CLOSE_ZERO_DAYS - days) / (CLOSE_ZERO_DAYS - CLOSE_FULL_DAYS)))
    return part, f"{days:.1f} days apart"


def score(watched: Question, found: Question, *, parsed: tuple[Parsed, Parsed] | None = None) -> Match:
    """`found` scored as the same question as `watched` (module docstring: how)."""
    a, b = parsed or (parse(watched.text), parse(found.text))
    left, right = " ".join(a.words), " ".join(b.words)
    wording = round((fuzz.token_set_ratio(left, right) + fuzz.token_sort_ratio(left, right)) / 2) \
        if left and right else 0
    numbers, numbers_said = _sets(a.numbers, b.numbers)
    dates, dates_said = _sets(a.dates, b.dates)
    close, close_said = _close(watched.close_ms, found.close_ms)
    parts = {"wording": wording, "numbers": numbers, "dates": dates, "close": close}
    total = round(sum(WEIGHTS[name] * value for name, value in parts.items()))
    said = {"wording": f"{wording} % alike", "numbers": numbers_said, "dates": dates_said, "close": close_said}
    if numbers == 0 or dates == 0:
        total = min(total, CONFLICT_CAP)
        said["held"] = f"held at {CONFLICT_CAP} at most: their {'figures' if numbers == 0 else 'dates'} disagree"
    elif wording < WORDING_FLOOR:
        total = min(total, OFFERED - 1)
        said["held"] = f"held under {OFFERED}: the wording is less than {WORDING_FLOOR} % alike"
    return Match(watched, found, total, parts, said)


class Index:
    """The other venue's questions, parsed once, with the markets each word appears in."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self.questions = list(questions)
        self.parsed = [parse(q.text) for q in self.questions]
        self.holding: dict[str, list[int]] = defaultdict(list)
        for n, parsed in enumerate(self.parsed):
            for key in {*parsed.words, *parsed.numbers, *parsed.dates}:
                self.holding[key].append(n)

    def _weight(self, key: str) -> float:
        return math.log((1 + len(self.questions)) / (1 + len(self.holding.get(key, ()))))

    def narrowed(self, parsed: Parsed, most: int = NARROWED) -> list[int]:
        """The candidates sharing the most of `parsed`'s rarest words, figures and dates."""
        shared: dict[int, float] = defaultdict(float)
        for key in {*parsed.words, *parsed.numbers, *parsed.dates}:
            weight = self._weight(key)
            for n in self.holding.get(key, ()):
                shared[n] += weight
        return sorted(shared, key=lambda n: (-shared[n], n))[:most]


def best_matches(watched: Sequence[Question], index: Index, *, per_market: int = 3,
                 least: int = OFFERED) -> list[Match]:
    """For each watched question, the other venue's scoring at least `least`, best first, at most
    `per_market` of them."""
    found: list[Match] = []
    for question in watched:
        parsed = parse(question.text)
        scored = [score(question, index.questions[n], parsed=(parsed, index.parsed[n]))
                  for n in index.narrowed(parsed)]
        kept = sorted((m for m in scored if m.score >= least), key=lambda m: (-m.score, m.found.market))
        found += kept[:per_market]
    return found
