"""The bot's guards as pure logic on an injected clock: the per-chat rate limit says "slow down"
once a minute; a confirmation runs once, only in its own chat, only before it expires; a stranger
raises at most one alert per chat per ten minutes, counting the attempts in between; the command
table parses what a trader types."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from engine.telegram_bot import actions
from engine.telegram_bot.guard import ALERT_EVERY_S, Confirmations, RateLimit, Strangers


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_limit_is_per_chat_and_says_so_once_a_minute() -> None:
    clock = Clock()
    limit = RateLimit(3, clock)
    assert [limit.check(1) for _ in range(6)] == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert limit.check(2) == "ok"  # another chat has its own allowance
    clock.now += 59.9
    assert limit.check(1) == "drop"
    clock.now += 0.1
    assert limit.check(1) == "ok"  # the first three have left the window


def test_a_confirmation_runs_once_in_its_own_chat_before_it_expires() -> None:
    clock, nonces = Clock(), count()
    offers = Confirmations(60, clock, new_nonce=lambda: f"n{next(nonces)}")
    kill = offers.offer(1, "kill", {"reason": "x"}, "kill")
    assert offers.take(kill, 2) is None  # another (allowed) chat cannot use it ...
    found = offers.take(kill, 1)  # ... and did not spend it
    assert found is not None and (found.kind, found.payload) == ("kill", {"reason": "x"})
    assert offers.take(kill, 1) is None  # twice: nothing
    assert offers.take("forged", 1) is None
    stop = offers.offer(1, "stop", {}, "stop")
    clock.now += 59.9
    assert offers.expired() == []
    clock.now += 0.1
    assert [p.kind for p in offers.expired()] == ["stop"] and offers.take(stop, 1) is None
    late = offers.offer(1, "stop", {}, "stop")
    clock.now += 60
    assert offers.take(late, 1) is None  # expired even if the sweep has not run yet


def test_a_stranger_raises_one_alert_per_window_with_the_attempts_counted() -> None:
    clock = Clock()
    strangers = Strangers(clock)
    assert strangers.attempt(9) == 1
    assert [strangers.attempt(9) for _ in range(4)] == [None] * 4
    assert strangers.attempt(8) == 1  # each chat on its own
    clock.now += ALERT_EVERY_S
    assert strangers.attempt(9) == 5  # this one and the four unreported


def test_the_command_table_parses_what_a_trader_types() -> None:
    kill = actions.lifecycle("kill", ["fed", "news"])
    assert isinstance(kill, actions.Action) and kill.payload == {"reason": "fed news"} and kill.confirm
    assert isinstance(plain := actions.lifecycle("kill", []), actions.Action) and plain.payload["reason"]
    pause = actions.lifecycle("pause", [])
    assert isinstance(pause, actions.Action) and pause.confirm is None
    assert actions.lifecycle("stop", ["now"]) == "/stop takes no arguments"
    assert all(actions.COMMANDS[n].confirm for n in ("kill", "stop", "flatten", "start", "rearm"))
    assert actions.strategy_switch(["mm", "btc", "ON"]) == ("mm btc", True)
    assert actions.strategy_switch(["mm"]) == "usage: /strategy <name> on|off"
    assert "set_mode" not in {spec.kind for spec in actions.COMMANDS.values()}  # going live is never offered
