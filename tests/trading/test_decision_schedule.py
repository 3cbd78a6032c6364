"""Per-market decisions on events (engine/trading/passes/decision_schedule.py): a burst of marks costs one
decision, a market marked while it is decided is decided once more and never twice at once, and a
flooding market never starves a quiet one nor the rest of the loop."""

from __future__ import annotations

import asyncio

from engine.trading.passes.decision_schedule import DecisionSchedule


def test_a_burst_of_marks_is_one_decision_per_market() -> None:
    decided: list[str] = []

    async def decide(market: str) -> None:
        decided.append(market)

    async def scenario() -> None:
        schedule = DecisionSchedule(decide)
        for _ in range(100):
            schedule.mark("a")
        schedule.mark("b")
        assert await schedule.drain() == 2
        assert schedule.coalesced == 99

    asyncio.run(scenario())
    assert decided == ["a", "b"]


def test_a_market_marked_while_it_is_decided_runs_once_more_never_twice_at_once() -> None:
    running: set[str] = set()
    overlaps: list[str] = []
    decided: list[str] = []

    async def scenario() -> None:
        schedule: DecisionSchedule[str] = DecisionSchedule(lambda market: decide(market))

        async def decide(market: str) -> None:
            if market in running:
                overlaps.append(market)
            running.add(market)
            if len(decided) == 0:  # three events arrive while the first decision waits on the venue
                for _ in range(3):
                    schedule.mark(market)
                await asyncio.sleep(0)
            decided.append(market)
            running.discard(market)

        schedule.mark("a")
        await schedule.drain()

    asyncio.run(scenario())
    assert decided == ["a", "a"] and overlaps == []


def test_a_flooding_market_starves_neither_a_quiet_one_nor_the_loop() -> None:
    decided: list[str] = []
    beats: list[int] = []

    async def scenario() -> None:
        stopping = asyncio.Event()
        schedule: DecisionSchedule[str] = DecisionSchedule(lambda market: decide(market))

        async def decide(market: str) -> None:
            decided.append(market)
            if market == "busy":
                schedule.mark("busy")  # its book changed again while it was decided: a flood
            if len(decided) == 3:
                schedule.mark("quiet")  # a move on a quiet market, mid-flood
            if len(decided) >= 40:
                stopping.set()

        async def heartbeat() -> None:
            while not stopping.is_set():
                beats.append(len(decided))
                await asyncio.sleep(0)

        schedule.mark("busy")
        beat = asyncio.create_task(heartbeat())
        await asyncio.wait_for(schedule.run(stopping), 10)
        await beat

    asyncio.run(scenario())
    assert decided.index("quiet") <= 4  # decided within one round of the flooding market
    assert decided.count("quiet") == 1
    assert len(set(beats)) >= 20  # the loop turned between decisions, all through the flood


def test_a_decision_that_raises_is_reported_and_the_others_are_made() -> None:
    decided: list[str] = []
    failed: list[tuple[str, str]] = []

    async def decide(market: str) -> None:
        if market == "bad":
            raise ValueError("no book")
        decided.append(market)

    async def scenario() -> None:
        schedule = DecisionSchedule(decide, on_error=lambda market, exc: failed.append((market, str(exc))))
        schedule.mark_all(["a", "bad", "c"])
        await schedule.drain()

    asyncio.run(scenario())
    assert decided == ["a", "c"] and failed == [("bad", "no book")]


def test_a_market_that_acted_waits_out_its_gap_once_however_often_it_is_marked() -> None:
    decided: list[tuple[str, float]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        schedule: DecisionSchedule[str] = DecisionSchedule(lambda m: decide(m), min_gap_s=0.05)

        async def decide(market: str) -> None:
            decided.append((market, loop.time()))
            if market == "busy":
                schedule.acted(market)  # it sent orders or cancels

        schedule.mark("busy")
        await schedule.drain()
        for _ in range(50):  # a flood within the gap
            schedule.mark("busy")
        schedule.mark("quiet")
        await schedule.drain()  # the quiet one at once; the busy one is waiting out its gap
        assert [m for m, _ in decided] == ["busy", "quiet"]
        while schedule.due == 0 and loop.time() - decided[0][1] < 1.0:
            await schedule.wait(0.01)
        await schedule.drain()

    asyncio.run(scenario())
    assert [m for m, _ in decided] == ["busy", "quiet", "busy"]
    assert decided[2][1] - decided[0][1] >= 0.045  # (the loop's timer may fire a hair early)


def test_the_gap_runs_from_when_the_acting_decision_started_not_from_its_answers() -> None:
    """A decision awaits its venue's answers after its requests have left; the gap spaces the
    requests, so it is counted from the decision's start. Counted from its end, every gap would
    grow by the venue's round trip (on a simulated clock here: the decision takes 30 ms)."""
    now = [0.0]
    decided: list[float] = []

    async def decide(market: str) -> None:
        decided.append(now[0])
        now[0] += 0.030  # its requests leave at once; their answers come 30 ms later
        schedule.acted(market)

    schedule: DecisionSchedule[str] = DecisionSchedule(decide, min_gap_s=0.050, clock=lambda: now[0])

    async def scenario() -> None:
        schedule.mark("busy")
        await schedule.drain()
        schedule.mark("busy")  # the book moves as its answers arrive
        await schedule.drain()
        assert decided == [0.0] and schedule.wake_at() == 0.050  # 50 ms after it started, not 80
        now[0] = 0.050
        schedule.release()
        await schedule.drain()

    asyncio.run(scenario())
    assert decided == [0.0, 0.050]


def test_a_replays_gap_ends_at_its_millisecond_though_its_seconds_do_not_add_up_exactly() -> None:
    """A replay's clock is whole ms of the epoch read as seconds: 1,800,000,001.4 s + 0.2 s sums to a
    hair past 1,800,000,001.6. The replay steps to that ms; the gap must be over there, and the
    decision then made (it used to wait for ever, and the backtest spun on that ms)."""
    now = [1_800_000_001_400]
    decided: list[int] = []

    async def decide(market: str) -> None:
        decided.append(now[0])
        schedule.acted(market)

    schedule: DecisionSchedule[str] = DecisionSchedule(decide, min_gap_s=0.2, clock=lambda: now[0] / 1000)

    async def scenario() -> None:
        schedule.mark("busy")
        await schedule.drain()
        schedule.mark("busy")
        await schedule.drain()
        wake = schedule.wake_at()
        assert wake is not None and round(wake * 1000) == 1_800_000_001_600 < wake * 1000
        now[0] = round(wake * 1000)  # as engine/backtest/event_replay.py steps to it
        schedule.release()
        await schedule.drain()

    asyncio.run(scenario())
    assert decided == [1_800_000_001_400, 1_800_000_001_600]


def test_a_mark_wakes_the_waiting_loop_on_its_next_turn() -> None:
    """The wake-up is one turn of the loop, not a chain of tasks: each turn between a book move
    and its decision is part of the desk's reaction (bench/reaction.py)."""
    turns: list[int] = []

    async def decide(market: str) -> None:
        return None

    async def scenario() -> None:
        schedule: DecisionSchedule[str] = DecisionSchedule(decide)
        waiting = asyncio.create_task(schedule.wait(10))
        await asyncio.sleep(0)  # it is waiting
        assert not waiting.done()
        schedule.mark("a")
        for turn in range(1, 10):
            await asyncio.sleep(0)
            if waiting.done():
                turns.append(turn)
                break
        timed_out = asyncio.create_task(schedule.wait(0.01))  # nothing due after the drain: the timeout ends it
        await schedule.drain()
        await asyncio.wait_for(asyncio.shield(timed_out), 5)

    asyncio.run(scenario())
    assert turns == [1]
