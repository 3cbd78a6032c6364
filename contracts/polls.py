"""Opinion polls as a fair value (pure): a feed of polls read and checked, averaged by recency and
sample size, and the chance an option leads the vote.

The feed is the trader's (a pollster's export, an aggregator's, a file kept by hand): CSV with a
header, or JSON (a list of rows, or `{"polls": [rows]}`), one row per option of a poll:

    poll_id, race, option, share, sample_size, end_date[, pollster]
    p-101,   gov-2026, Yes, 47.5, 812, 2026-11-20, Pollster A

`share` in percent (0-100) as pollsters publish it; `end_date` the fieldwork's last day (ISO date,
or date and time, UTC unless it says otherwise); other columns are ignored. A poll is its rows with
one `poll_id`; they must agree on the race, sample and end. Hostile until checked: a row or poll
that cannot be read is left out with the reason (a share outside 0-100 or not a number, rows of one
poll that disagree, an option twice, shares adding to more than 100.5 %, shares that all look like
fractions); a feed of more than MAX_ROWS rows is refused whole.

The average of a race, at time `now`, over the polls that ended by then:

    weight of poll i   w_i = sqrt(min(n_i, SAMPLE_CAP) / SAMPLE_REF) * 0.5 ** (age_i / half_life)

n_i its sample, age_i the days since it ended: a poll of 4x the people counts 2x (its sampling
error is half), capped at SAMPLE_CAP people (a huge online panel is not 10x better); a poll
`half_life` days older counts half. An option's average share is the w-weighted mean over the polls
that asked about it. Its rival is the option with the next highest average; the margin m is the
w-weighted mean of (option's share - rival's share) over the polls that asked about both.

The fair value of "this option wins" (it leads the vote) is

    P = Phi(m / sigma),   sigma = sqrt(E^2 + s^2),   s = sqrt(sum w_i^2 se_i^2) / sum w_i

with se_i = 100 sqrt((a + b - (a - b)^2) / n_i) the sampling error of poll i's margin (a, b the
two shares as fractions) and E the polling error the trader sets (points of margin, default 5): how
far an average's margin has landed from results, beyond sampling. With more than two options this
reads only the strongest rival (a third option overtaking both is not modelled). P is held within
[P_FLOOR, 1 - P_FLOOR]: polls never make a certainty. The confidence posted with it is W / (W + 1),
W the sum of the weights: one fresh poll of SAMPLE_REF people gives 0.5, four give 0.8, and it
fades as they age.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist
from typing import Any

MAX_ROWS = 50_000
MAX_TEXT = 200
MAX_SAMPLE = 10_000_000
SAMPLE_REF = 600  # the people in a poll of weight 1
SAMPLE_CAP = 5_000
HALF_LIFE_DAYS = 14.0
POLL_ERROR_POINTS = 5.0
P_FLOOR = 0.01
DAY_MS = 86_400_000
FIELDS = ("poll_id", "race", "option", "share", "sample_size", "end_date")
MAX_REASONS = 20  # reasons kept for rows and polls left out (the count is kept whole)


class PollError(ValueError):
    """The feed is not in the layout read here, or past its bounds; the message says which."""


@dataclass(frozen=True, slots=True)
class Poll:
    poll_id: str
    race: str
    pollster: str
    sample: int
    end_ms: int
    shares: Mapping[str, float]  # option -> percent


@dataclass(frozen=True, slots=True)
class PollFeed:
    polls: tuple[Poll, ...]
    left_out: int  # rows and polls that could not be read
    reasons: tuple[str, ...]  # the first MAX_REASONS of them, in words

    def races(self) -> dict[str, list[Poll]]:
        found: dict[str, list[Poll]] = {}
        for poll in self.polls:
            found.setdefault(poll.race, []).append(poll)
        return found


@dataclass(frozen=True, slots=True)
class Weighting:
    """How polls are weighted and read (the module's formula)."""

    half_life_days: float = HALF_LIFE_DAYS
    poll_error_points: float = POLL_ERROR_POINTS

    def __post_init__(self) -> None:
        if not (math.isfinite(self.half_life_days) and self.half_life_days > 0):
            raise PollError("the half-life must be a number of days above 0")
        if not (math.isfinite(self.poll_error_points) and self.poll_error_points >= 0):
            raise PollError("the polling error must be a number of points, 0 or more")

    def weight(self, poll: Poll, now_ms: int) -> float:
        age_days = (now_ms - poll.end_ms) / DAY_MS
        return math.sqrt(min(poll.sample, SAMPLE_CAP) / SAMPLE_REF) * 0.5 ** (age_days / self.half_life_days)


@dataclass(frozen=True, slots=True)
class PollFair:
    """An option's chance of leading the vote, from a race's polls."""

    race: str
    option: str
    rival: str
    probability: float  # in [P_FLOOR, 1 - P_FLOOR]
    confidence: float  # W / (W + 1)
    margin: float  # points, option - rival
    sigma: float  # points
    shares: Mapping[str, float]  # every option's average share, percent
    polls: int  # polls that asked about both
    latest_ms: int  # when the newest of them ended

    def detail(self) -> str:
        """The value's reason in a line (shown with the fair value; at most 300 characters)."""
        when = datetime.fromtimestamp(self.latest_ms / 1000, tz=UTC).strftime("%Y-%m-%d")
        line = (f"poll average of {self.polls} poll{'s' if self.polls != 1 else ''} (newest ended {when}): "
                f"{self.option[:40]} {self.shares[self.option]:.1f} % v {self.rival[:40]} "
                f"{self.shares[self.rival]:.1f} %, "
                f"margin {self.margin:+.1f} ± {self.sigma:.1f} points")
        return line[:300]


def parse_feed(body: bytes) -> PollFeed:
    """A feed's polls: JSON when it starts with '[' or '{', CSV otherwise (UTF-8)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PollError("the poll feed is not UTF-8 text") from None
    if text.lstrip()[:1] in ("[", "{"):
        import json

        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise PollError(f"the poll feed is not valid JSON ({str(exc)[:80]})") from None
        return polls_from_rows(_json_rows(data))
    return polls_from_rows(_csv_rows(text))


def _json_rows(data: Any) -> list[Any]:
    rows = data.get("polls") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise PollError('a JSON poll feed is a list of rows, or {"polls": [rows]}')
    if len(rows) > MAX_ROWS:
        raise PollError(f"the poll feed has more than {MAX_ROWS:,} rows")
    return rows


def _csv_rows(text: str) -> list[Any]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [f for f in FIELDS if f not in (reader.fieldnames or [])]
    if missing:
        raise PollError(f"the poll feed's header lacks {', '.join(missing)} (it needs {', '.join(FIELDS)}; "
                        "pollster is optional)")
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise PollError(f"the poll feed has more than {MAX_ROWS:,} rows")
    return rows


@dataclass
class _Draft:
    race: str
    pollster: str
    sample: int
    end_ms: int
    shares: dict[str, float]
    broken: str = ""


def polls_from_rows(rows: Iterable[Any]) -> PollFeed:
    """Rows (dicts of the fields) grouped into polls, each row and poll checked."""
    drafts: dict[str, _Draft] = {}
    reasons: list[str] = []
    left_out = 0
    for number, row in enumerate(rows, start=1):
        try:
            poll_id, race, option, share, sample, end_ms, pollster = _row(row)
        except PollError as exc:
            left_out += 1
            reasons.append(f"row {number}: {exc}")
            continue
        draft = drafts.setdefault(poll_id, _Draft(race, pollster, sample, end_ms, {}))
        if (draft.race, draft.sample, draft.end_ms, draft.pollster) != (race, sample, end_ms, pollster):
            draft.broken = draft.broken or "its rows disagree on the race, sample, end date or pollster"
        elif option in draft.shares:
            draft.broken = draft.broken or f"option {option!r} twice"
        draft.shares[option] = share
    polls = []
    for poll_id, draft in drafts.items():
        why = draft.broken or _shares_problem(draft.shares)
        if why:
            left_out += 1
            reasons.append(f"poll {poll_id[:40]!r}: {why}")
            continue
        polls.append(Poll(poll_id, draft.race, draft.pollster, draft.sample, draft.end_ms, dict(draft.shares)))
    return PollFeed(tuple(polls), left_out, tuple(reasons[:MAX_REASONS]))


def _shares_problem(shares: Mapping[str, float]) -> str:
    total = sum(shares.values())
    if total > 100.5:
        return f"its shares add up to {total:.1f} %"
    if len(shares) > 1 and total <= 1.0:
        return "its shares look like fractions (give percents: 47.5, not 0.475)"
    return ""


def _row(row: Any) -> tuple[str, str, str, float, int, int, str]:
    if not isinstance(row, Mapping):
        raise PollError("not an object of fields")
    missing = [f for f in FIELDS if row.get(f) in (None, "")]
    if missing:
        raise PollError(f"no {', '.join(missing)}")
    poll_id, race, option = (_text(row[f], f) for f in ("poll_id", "race", "option"))
    pollster = _text(row["pollster"], "pollster") if row.get("pollster") not in (None, "") else ""
    share = _number(row["share"], "share")
    if not 0 <= share <= 100:
        raise PollError(f"share {share:g} is not a percent from 0 to 100")
    sample = _number(row["sample_size"], "sample_size")
    if sample != int(sample) or not 1 <= sample <= MAX_SAMPLE:
        raise PollError(f"sample_size must be a whole number of people from 1 to {MAX_SAMPLE:,}")
    return poll_id, race, option, share, int(sample), _time(row["end_date"]), pollster


def _text(value: Any, name: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or not value.isprintable():
        raise PollError(f"{name}: a text of at most {MAX_TEXT} printable characters")
    return value.strip()


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise PollError(f"{name}: a number")
    if isinstance(value, str):
        if len(value) > 32:
            raise PollError(f"{name}: a number")
        value = value.strip().rstrip("%").strip()
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PollError(f"{name}: a number, not {str(value)[:20]!r}") from None
    if not math.isfinite(number):
        raise PollError(f"{name}: a finite number")
    return number


def _time(value: Any) -> int:
    if not isinstance(value, str) or len(value) > 40:
        raise PollError("end_date: an ISO date (2026-11-20) or date and time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise PollError(f"end_date: an ISO date (2026-11-20) or date and time, not {value[:20]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def fair_value(polls: Sequence[Poll], race: str, option: str, now_ms: int,
               weighting: Weighting = Weighting()) -> PollFair | None:
    """The chance `option` leads `race`'s vote from the polls that ended by `now_ms`; None when no
    such poll asked about it and a rival."""
    return _Race(polls, race, now_ms, weighting).fair(option)


@dataclass(frozen=True, slots=True)
class RaceView:
    """A race as its fair values read it at a time (`polls show` prints this; the posted values are its
    `fairs`): only the polls that ended by then count, a poll that ends later (a future end date) is
    left out until it ends, and is counted apart."""

    race: str
    polls: int  # polls that ended by then
    later: int  # polls ending after then: left out until they end
    newest_ms: int | None  # when the newest poll that counts ended
    later_ms: int | None  # when the first poll left out ends
    fairs: Mapping[str, PollFair | None]  # every option a poll of the race asks about: its chance, or None


def race_view(polls: Sequence[Poll], race: str, now_ms: int, weighting: Weighting = Weighting()) -> RaceView:
    """`race` as its fair values read it at `now_ms` (the same rule as `fair_value`, every option at once:
    the race's averages are made once, each option then read from the polls that asked about it, so a
    race of many options costs in proportion to its rows)."""
    reading = _Race(polls, race, now_ms, weighting)
    later = [p.end_ms for p in polls if p.race == race and p.end_ms > now_ms]
    options = sorted({o for p in polls if p.race == race for o in p.shares})
    return RaceView(race, len(reading.ended), len(later), max((p.end_ms for p, _ in reading.ended), default=None),
                    min(later, default=None), {o: reading.fair(o) for o in options})


class _Race:
    """One race read at a time: the polls that ended by then with their weights, each option's average
    share, the two highest (an option's rival is the highest other one), and the polls asking about each
    option, in the feed's order."""

    def __init__(self, polls: Sequence[Poll], race: str, now_ms: int, weighting: Weighting) -> None:
        self.race = race
        self.ended = [(p, weighting.weight(p, now_ms)) for p in polls if p.race == race and p.end_ms <= now_ms]
        self.averages = _averages(self.ended)
        self.asking: dict[str, list[tuple[Poll, float]]] = {}
        for poll, w in self.ended:
            for option in poll.shares:
                self.asking.setdefault(option, []).append((poll, w))
        self.leaders = heapq.nlargest(2, self.averages, key=lambda o: (self.averages[o], o))
        self.weighting = weighting

    def fair(self, option: str) -> PollFair | None:
        averages = self.averages
        if option not in averages or len(averages) < 2:
            return None
        rival = self.leaders[1] if option == self.leaders[0] else self.leaders[0]
        both = [(p, w) for p, w in self.asking[option] if rival in p.shares and w > 0]
        total = sum(w for _, w in both)
        if not both or total <= 0:
            return None
        margin = sum(w * (p.shares[option] - p.shares[rival]) for p, w in both) / total
        sampling = math.sqrt(sum((w * _margin_error(p, option, rival)) ** 2 for p, w in both)) / total
        sigma = math.hypot(self.weighting.poll_error_points, sampling)
        raw = 0.5 + math.copysign(0.5, margin) if sigma == 0 else NormalDist().cdf(margin / sigma)
        probability = min(1 - P_FLOOR, max(P_FLOOR, raw))
        return PollFair(self.race, option, rival, round(probability, 6), round(total / (total + 1), 6), margin, sigma,
                        averages, len(both), max(p.end_ms for p, _ in both))


def _averages(weighted: Sequence[tuple[Poll, float]]) -> dict[str, float]:
    sums: dict[str, float] = {}
    weights: dict[str, float] = {}
    for poll, w in weighted:
        for option, share in poll.shares.items():
            sums[option] = sums.get(option, 0.0) + w * share
            weights[option] = weights.get(option, 0.0) + w
    return {o: sums[o] / weights[o] for o in sums if weights[o] > 0}


def _margin_error(poll: Poll, option: str, rival: str) -> float:
    """The sampling error of a poll's margin, in points."""
    a, b = poll.shares[option] / 100, poll.shares[rival] / 100
    return 100 * math.sqrt(max(0.0, a + b - (a - b) ** 2) / poll.sample)
