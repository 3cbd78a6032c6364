"""The notification choices: a strategy's channels for an event are those of `*` and its own;
alerts are chosen for the whole desk only; anything malformed is refused with what to fix, and
the stored form is canonical."""

from __future__ import annotations

import json
import re

import pytest

from contracts import notify_choices
from contracts.runtime_settings import BY_KEY, SettingError, parse_setting


def test_a_strategys_channels_add_to_those_of_every_strategy() -> None:
    choices = notify_choices.parse(json.dumps({"*": {"fill": ["apprise"]}, "mm": {"fill": ["telegram"],
                                                                                  "exit": ["telegram"]}}))
    assert choices.channels("fill", "mm") == {"apprise", "telegram"}
    assert choices.channels("fill", "arb") == {"apprise"}
    assert choices.channels("exit", "arb") == frozenset() and choices.any_channel("exit") == {"telegram"}


def test_the_default_sends_alerts_and_the_summary_everywhere_and_no_trade_events() -> None:
    choices = notify_choices.parse(notify_choices.DEFAULT_JSON)
    assert choices.channels("alert") == {"apprise", "telegram"} == choices.channels("summary")
    assert all(not choices.any_channel(e) for e in notify_choices.TRADE_EVENTS)


@pytest.mark.parametrize(("raw", "message"), [
    ('{"*": {"fill": ["email"]}}', "'email' is not a channel"),
    ('{"*": {"fills": ["apprise"]}}', "'fills' is not an event"),
    ('{"mm": {"alert": ["apprise"]}}', "choose it under * only"),
    ('{"*": {"fill": "apprise"}}', "expected a list of channels"),
    ('[1]', "must be a JSON object"),
    ('{"*": ', "not valid JSON"),
    (json.dumps({"x" * 65: {}}), "is not a strategy name"),
])
def test_malformed_choices_are_refused_with_what_to_fix(raw: str, message: str) -> None:
    with pytest.raises(SettingError, match=re.escape(message)):
        parse_setting(BY_KEY["notify_choices"], raw)


def test_the_stored_form_is_canonical() -> None:
    stored = parse_setting(BY_KEY["notify_choices"], '{"mm": {"exit": ["telegram", "apprise"]}, "*": {}}')
    assert stored == '{"mm":{"exit":["apprise","telegram"]}}'
