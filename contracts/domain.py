"""Value types shared by feeds, strategies, the risk gate, the executor and the venues.

Units (the same as the database): prices, sizes and money are integer micro-units.
A price is micro-pUSD per share (0.52 -> 520_000); a size is micro-shares (10 -> 10_000_000);
cash is micro-pUSD. A winning token pays ONE. Times are epoch milliseconds.

Books are kept best-first internally (bids descending, asks ascending), unlike the venue's
wire format, which lists the best level last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Context, Decimal
from enum import StrEnum
from typing import NamedTuple

MICRO = 1_000_000
ONE = MICRO  # what a winning token pays, in micro-pUSD


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class Outcome(StrEnum):
    YES = "YES"
    NO = "NO"

    @property
    def other(self) -> Outcome:
        return Outcome.NO if self is Outcome.YES else Outcome.YES


class Tif(StrEnum):
    GTC = "GTC"  # rests until cancelled
    GTD = "GTD"  # rests until its expiry
    FOK = "FOK"  # fills completely at once or not at all
    FAK = "FAK"  # fills what it can at once, the rest is cancelled


class BadNumber(ValueError):
    """A number from outside the desk it will not read: the message says why."""


class NotFinite(BadNumber):
    """NaN or an infinity."""


class OutOfRange(BadNumber):
    """Finite, but beyond what the desk reads: larger than 1e40 (`large`) or, not zero, below 1e-40."""

    def __init__(self, message: str, *, large: bool) -> None:
        super().__init__(message)
        self.large = large


# Bounds on a number read from outside (a venue, a post, a form, a file). Decimal itself takes
# "1e999999" and a million digits; the arithmetic after it then raises decimal.Overflow, rounds a
# tiny value to 0 without a word (an underflow is not trapped) or spends seconds turning a long
# one into an int. Nothing the desk reads comes near these: a price, a size or a balance has a
# few dozen characters at most.
MAX_NUMBER_CHARS = 64
MAX_EXPONENT = 40  # a non-zero number's magnitude: from 1e-40 to below 1e41
_MAX_INT_BITS = 137  # 2 ** 137 > 1e41: a bigger int is refused before it is converted
# Wide enough that scaling or quantizing a number `read_decimal` returned never rounds it nor
# raises (a quantize to 6 places of 1e40 needs 47 digits: the default context's 28 raise).
EXACT = Context(prec=MAX_NUMBER_CHARS + 2 * MAX_EXPONENT)


def shown_number(value: object) -> str:
    """A number from outside as a message quotes it: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 32 else f"{text[:16]}… ({len(text):,} characters)"


def read_decimal(value: object) -> Decimal:
    """A number from outside, exactly, as a Decimal: a decimal string (surrounding spaces allowed),
    an int, a float (through its shortest repr, never its binary value) or a Decimal. Refused with
    BadNumber naming why: not a number, a text longer than MAX_NUMBER_CHARS, NaN or infinite
    (NotFinite), or beyond 1e±MAX_EXPONENT (OutOfRange). Whatever it returns, Decimal's arithmetic
    in the desk's units (a scale by 1e6, a quantize to 6 places) can neither overflow nor underflow."""
    try:
        dec = _decimal_of(value)
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, BadNumber):
            raise
        raise BadNumber(f"not a number: {shown_number(value)}") from None
    if -MAX_EXPONENT <= dec.adjusted() <= MAX_EXPONENT and dec.is_finite():
        return dec
    if not dec.is_finite():
        raise NotFinite(f"not a finite number: {shown_number(value)}")
    if not dec:
        return Decimal(0)  # "0e999999": zero, whatever its exponent
    if dec.adjusted() > 0:
        raise OutOfRange(_too_large(value), large=True)
    raise OutOfRange(f"{shown_number(value)} is too small (the desk reads numbers from 1e-{MAX_EXPONENT}, and 0)",
                     large=False)


def _decimal_of(value: object) -> Decimal:
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_CHARS and len(value.strip()) > MAX_NUMBER_CHARS:
            raise BadNumber(f"not a number: {shown_number(value)} is longer than {MAX_NUMBER_CHARS} characters")
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # True is not a number here
        if value.bit_length() > _MAX_INT_BITS:  # refused before it is converted (quadratic in its digits)
            raise OutOfRange(_too_large(value), large=True)
        return Decimal(value)
    raise BadNumber(f"not a number: {shown_number(value)}")


def _too_large(value: object) -> str:
    return f"{shown_number(value)} is too large (the desk reads numbers below 1e{MAX_EXPONENT + 1})"


def to_micros(value: str | int | float | Decimal, *, exact: bool = False) -> int:
    """Convert a venue decimal ("0.515", "192.3", 5) to micro-units.

    Floats are converted through their shortest repr, never their binary value. Anything
    finer than 1e-6 is rounded down (1e-300 too), or refused when `exact` is set. What
    `read_decimal` refuses otherwise (not a number, not finite, too long, too large) is a BadNumber.
    """
    try:
        dec = read_decimal(value)
    except OutOfRange as exc:
        if exc.large:
            raise
        if exact:
            raise BadNumber(f"{shown_number(value)} has more than 6 decimal places") from None
        return 0  # finer than a micro-unit: rounded down, as any other
    scaled = EXACT.multiply(dec, MICRO)  # exact: 64 digits and 1e±40 at most (a Decimal of more is rounded)
    whole = scaled.to_integral_value(rounding=ROUND_DOWN)
    if exact and whole != scaled:
        raise BadNumber(f"{value!r} has more than 6 decimal places")
    return int(whole)


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) / MICRO


def fmt(micros: int) -> str:
    """Shortest exact decimal string for micro-units: 520000 -> '0.52'."""
    text = format(from_micros(micros), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def notional(price: int, size: int) -> int:
    """Cost in micro-pUSD of `size` micro-shares at `price`, rounded down."""
    return price * size // MICRO


def complement(price: int) -> int:
    """The other outcome's price: a YES bid at p is a NO ask at 1 - p."""
    return ONE - price


def yes_space(outcome: Outcome, side: Side, price: int) -> tuple[Side, int]:
    """An order in YES terms, as the books, the decisions log and the self-trade check read it: a
    NO order at q is the opposite YES order at 1 - q."""
    return (side, price) if outcome is Outcome.YES else (side.opposite, complement(price))


class Level(NamedTuple):
    """One price level of a book: a plain immutable pair, because a replay builds millions
    (every changed level of every book, each decision): a tuple is built several times faster
    than a frozen dataclass (engine/feeds/books.py builds them with `tuple.__new__`)."""

    price: int
    size: int


@dataclass(frozen=True, slots=True)
class Book:
    """One token's order book at a moment: best level first on both sides."""

    token_id: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    updated_ms: int

    @property
    def best_bid(self) -> Level | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> Level | None:
        return self.asks[0] if self.asks else None

    @property
    def mid(self) -> int | None:
        """Midpoint of the best bid and ask; None unless both exist (never invented)."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) // 2

    @property
    def spread(self) -> int | None:
        if not self.bids or not self.asks:
            return None
        return self.asks[0].price - self.bids[0].price

    def age_ms(self, now_ms: int) -> int:
        return max(0, now_ms - self.updated_ms)

    def mirrored(self, token_id: str) -> Book:
        """The complementary token's book: bids at p become asks at 1 - p and vice versa."""
        return Book(
            token_id=token_id,
            bids=tuple(Level(complement(lv.price), lv.size) for lv in self.asks),
            asks=tuple(Level(complement(lv.price), lv.size) for lv in self.bids),
            updated_ms=self.updated_ms,
        )


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """Static facts about one binary market (one condition, a YES and a NO token)."""

    condition_id: str
    question: str
    yes_token: str
    no_token: str
    tick: int
    min_size: int
    neg_risk: bool = False
    neg_risk_market_id: str | None = None
    end_ms: int | None = None
    fee_rate_ppm: int = 0
    fee_exponent: int = 1
    tradable: bool = True
    accepting_orders: bool = True
    closed: bool = False
    slug: str | None = None
    tags: tuple[str, ...] = ()
    # Outcomes in this market's neg-risk event as far as discovery knows (None: unknown).
    neg_risk_outcome_count: int | None = None
    # Whether its neg-risk event's markets are a complete set (contracts/neg_risk_sets.py): ""
    # when they are, else why not; None when nobody judged it (a set is then never traded).
    neg_risk_set_refusal: str | None = None
    # A sports market's game start (epoch ms; None: none known) and whether the venue clears its
    # book then: the desk withdraws its quotes a little before (engine/trading/exits/game_start.py).
    game_start_ms: int | None = None
    clear_book_on_start: bool = False
    # Whether fee_rate_ppm/fee_exponent were read from the CLOB (False: unknown, not "no fee").
    fees_known: bool = True
    # A Protocol V2 market (Gamma `version` "v2"): its tokens are PositionManager position ids,
    # its orders are signed for ExchangeV3, its merges and redemptions go through its Router.
    protocol_v2: bool = False
    # Its liquidity-reward program as the venue lists it (0: none): the daily pool (micro-pUSD),
    # the max spread from the adjusted midpoint (micro-pUSD of price) and the min size (micro-shares).
    reward_daily_pool: int = 0
    reward_max_spread: int = 0
    reward_min_size: int = 0
    # Gamma's umaResolutionStatus ("" before any proposal): a market whose resolution is proposed,
    # disputed or done is not entered, whatever its book shows (resolution_pending).
    resolution_status: str = ""
    # UMA's trail before that status (Gamma's umaResolutionStatuses): a proposal disputed once stays
    # in it after a later proposal, or after the dispute sent the market back to trading.
    resolution_history: tuple[str, ...] = ()
    # The share of its taker fees the venue rebates to its makers, ppm, as its listing names it
    # (Gamma feeSchedule.rebateRate; it differs by category and changes); None: not named (no rebate
    # is counted on it).
    rebate_share_ppm: int | None = None
    # A Kalshi market (condition id `kalshi:<ticker>`, contracts/venues/__init__.py): its series' fee type and
    # fee multiplier in millionths (contracts/venues/kalshi/fees.py) and its price grid, bands of (start,
    # end, step) in micro (contracts/venues/kalshi/grid.py); until the desk has read the market, the dearest
    # known fees and whole cents, which every grid accepts.
    kalshi_fee_type: str = "quadratic_with_maker_fees"
    kalshi_fee_multiplier_ppm: int = 1_000_000
    # The changes of those fees Kalshi lists for the series, as (from epoch ms, fee type, multiplier
    # ppm), and when the fees were read: a fill pays the settings in force at its time
    # (contracts/venues/kalshi/fees.py FeeSchedule).
    kalshi_fee_changes: tuple[tuple[int, str, int], ...] = ()
    kalshi_fees_read_at: int = 0
    # When its event's override was in force at the read (kalshi_fee_type and _multiplier_ppm are then the
    # override's), the series' own settings; and the changes of the event's override Kalshi lists, as
    # (from epoch ms, fee type, multiplier ppm), both None where a change clears the override.
    kalshi_series_fees: tuple[str, int] | None = None
    kalshi_event_fee_changes: tuple[tuple[int, str | None, int | None], ...] = ()
    price_grid: tuple[tuple[int, int, int], ...] = ()
    # The Kalshi exchange shard it lives on, as the desk last read it (None: not read yet): its orders are
    # routed there and collateral for them is checked there (engine/venues/kalshi/shards.py).
    kalshi_exchange_index: int | None = None

    @property
    def resolution_pending(self) -> bool:
        """Whether UMA's resolution of this market is under way (proposed, disputed, or reported
        while the book still trades), or was (a trail: a proposal voted down after a dispute leaves
        the status empty, the question still contested): a new position could be settled by a
        proposal already made. Gamma leaves both empty until a proposal, so any status counts, one
        the desk does not know too: it is stricter to stay out."""
        return self.resolution_status != "" or bool(self.resolution_history)

    @property
    def resolution_said(self) -> str:
        """Where UMA's resolution stands, in words: the status, then its trail ("" for neither)."""
        said = self.resolution_status or "reopened"
        return f"{said} (before: {', '.join(self.resolution_history)})" if self.resolution_history else said

    def token(self, outcome: Outcome) -> str:
        return self.yes_token if outcome is Outcome.YES else self.no_token

    def outcome_of(self, token_id: str) -> Outcome:
        if token_id == self.yes_token:
            return Outcome.YES
        if token_id == self.no_token:
            return Outcome.NO
        raise KeyError(f"token {token_id} is not in market {self.condition_id}")


@dataclass(frozen=True, slots=True)
class CopiedTrade:
    """A followed wallet's public trade in a market (engine/venues/polymarket/follow/), in YES space: a NO bought at
    q is YES sold at 1 - q."""

    key: str  # unique among every wallet's trades
    label: str  # the wallet's label
    side: Side
    price: int  # YES price, micro
    size: int  # micro-shares
    at_ms: int  # when it traded


@dataclass(frozen=True, slots=True)
class SourcedFair:
    """One source's fair value for a market as the desk holds it now (its signal in force, not
    expired, its source not benched): what an ensemble weighs, by how well the source has been
    calibrated."""

    source: str
    value: int  # probability of YES, micros
    confidence: int | None  # how sure the source says it is (micros; the operator's counts as certain; None: unsaid)
    # The source's Brier score over its last resolved markets as the model-confidence breaker last judged it
    # (micros; engine/risk/source_breaker.py); None: not judged yet (too few resolved markets).
    brier: int | None = None


@dataclass(frozen=True, slots=True)
class MarketView:
    """What a strategy sees of one market at one moment. Prices are YES prices."""

    info: MarketInfo
    yes: Book | None
    no: Book | None
    last_trade: int | None = None
    fair_value: int | None = None  # operator or external signal, probability in micros
    # How sure the fair value's source says it is (micros; the operator's counts as certain; None:
    # its source said nothing): when strategies want opposite things here, the surer one wins
    # (engine/risk/conflicts.py).
    fair_confidence: int | None = None
    reference: int | None = None  # external reference price (YES space), when configured
    reference_at: int | None = None  # when that price was received (epoch ms)
    # The reference's recent prices as (received ms, price), oldest first, over the feed's window.
    reference_history: tuple[tuple[int, int], ...] = ()
    # Followed wallets' recent trades here, oldest first (copy_trading copies them).
    copies: tuple[CopiedTrade, ...] = ()
    # Streaming indicators here by variant name (contracts/indicator_spec.py); a variant not warmed
    # up yet is absent.
    indicators: Mapping[str, float] = field(default_factory=dict)
    # The Kalshi market the operator linked to this Polymarket market (`venue_pairs`), and whether
    # the link is inverted (Kalshi's YES is this market's NO); None: not paired.
    pair: tuple[str, bool] | None = None
    # Every source's fair value in force here, by source name (`fair_value` is the one in force: the
    # operator's, else the newest): what an ensemble combines.
    fair_sources: tuple[SourcedFair, ...] = ()

    def data_age_ms(self, now_ms: int) -> int | None:
        """Age of the older of the two books; None when either book is missing."""
        if self.yes is None or self.no is None:
            return None
        return max(self.yes.age_ms(now_ms), self.no.age_ms(now_ms))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The market picture handed to a strategy, frozen: the markets it decides in this call
    (`markets`), and those of its markets it does not (`undecided`). A timed pass decides all of
    them; a decision on one market's event hands that market alone (or its group, for a strategy
    that decides its markets together), its other markets in `undecided`: still its markets, whose
    state it keeps. A market leaves a strategy only by `StrategyBase.left`, never by being absent
    from `markets` (engine/strategies/base.py)."""

    now_ms: int
    markets: Mapping[str, MarketView]
    undecided: frozenset[str] = frozenset()

    def every_market(self) -> frozenset[str]:
        """Every market the strategy trades now: those decided in this call and the others."""
        return self.undecided.union(self.markets)


@dataclass(frozen=True, slots=True)
class PositionView:
    """One strategy's holdings in one market: settled and pending shares per outcome."""

    condition_id: str
    yes: int = 0
    no: int = 0
    yes_pending: int = 0
    no_pending: int = 0
    yes_cost: int = 0  # micro-pUSD paid for the YES held (its cost basis)
    no_cost: int = 0  # the same for the NO held

    @property
    def cost(self) -> int:
        """micro-pUSD paid for what is held, YES and NO."""
        return self.yes_cost + self.no_cost

    @property
    def net_yes(self) -> int:
        """YES-equivalent exposure: a NO share is a short YES share."""
        return self.yes + self.yes_pending - self.no - self.no_pending


@dataclass(frozen=True, slots=True)
class OrderView:
    client_id: str
    condition_id: str
    outcome: Outcome
    side: Side
    price: int
    size: int
    filled: int
    status: str


@dataclass(frozen=True, slots=True)
class OwnMarkout:
    """One of the strategy's own fills marked against the market's YES mid `horizon_ms` after it,
    in YES space (a NO bought at q is YES sold at 1 - q): the desk's markout definition
    (engine/analytics/markouts.py) measured as the engine decides (engine/trading/hosting/own_markouts.py)."""

    filled_at: int  # the fill's match time (ms)
    horizon_ms: int
    side: Side
    price: int  # YES price of the fill
    size: int
    later_mid: int  # the YES mid at filled_at + horizon_ms

    @property
    def known_at(self) -> int:
        return self.filled_at + self.horizon_ms

    @property
    def per_share(self) -> int:
        """What each share earned against the later mid (micro-units of price; negative: picked off)."""
        return self.later_mid - self.price if self.side is Side.BUY else self.price - self.later_mid


@dataclass(frozen=True, slots=True)
class StrategyState:
    """What a strategy may know about itself: its positions, working orders and cash, and the
    markouts of its recent fills by market (in the order they were measured)."""

    name: str
    positions: Mapping[str, PositionView] = field(default_factory=dict)
    open_orders: tuple[OrderView, ...] = ()
    cash: int = 0
    markouts: Mapping[str, tuple[OwnMarkout, ...]] = field(default_factory=dict)
    # A strategy spanning venues (cross-venue arbitrage): the free cash of each venue's ledger it
    # trades, by venue (contracts/venues/__init__.py); `cash` is its Polymarket ledger's.
    venue_cash: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quote:
    """One desired order in YES space: BUY or SELL YES at `price` for `size` shares.

    The planner routes it to a legal venue order: a SELL of YES not held becomes a BUY of
    NO at 1 - price, and a BUY of YES while holding NO first sells the NO.
    """

    side: Side
    price: int
    size: int
    tif: Tif = Tif.GTC
    post_only: bool = False
    expires_at_s: int = 0  # GTD only: unix seconds
    # Legs of one arbitrage share a group: approved and placed whole, or not at all. A group
    # that fills on some legs only is completed or unwound as `on_partial` says.
    group: str = ""
    on_partial: str = ""  # "unwind", "complete" or "keep"


# The risk gate's word on an order of an intent it took as asked (`Intent.gate` empty).
GATE_APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class Intent:
    """A strategy's complete wish for one market now; the latest one wins.

    `quotes` are the orders the strategy wants working (resting quotes) or wants sent now
    (FOK/FAK takes). An empty tuple means: no orders from this strategy in this market.
    """

    strategy: str
    condition_id: str
    quotes: tuple[Quote, ...]
    reason: str = ""
    # Queue position: a working order on a quote's side and token, of the quote's size (after the
    # risk gate's trims), whose price is within this many micro-units of the quote's is kept
    # rather than replaced (market making's refresh threshold; 0 = exact match only).
    keep_within: int = 0
    # The market regime the strategy quoted in ("calm", "fast", "stale"; "" when it reads none),
    # and why: the decisions log notes each change.
    regime: str = ""
    # The probability of YES the strategy states for this market now (micro; None: it states
    # none), recorded as a forecast and scored against the resolution (contracts/calibration.py).
    probability: int | None = None
    # How sure the strategy is of what it wants here (micros; None: it says nothing, and counts as
    # the least sure): two strategies wanting opposite things in one market are settled by it
    # (engine/risk/conflicts.py).
    confidence: int | None = None
    # What the risk gate did with the quotes, when it trimmed or held back any ("" when it took them as
    # asked): set by the gate (engine/risk/monitor.py), kept with the orders placed for it and in the
    # order trail. Not part of what the intent wants: two intents differing only here are the same.
    gate: str = field(default="", compare=False)
