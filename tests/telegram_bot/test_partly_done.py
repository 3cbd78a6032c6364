"""The bot says "partly done" when a done exit or flatten left shares unsold, with what remains and why
(the dashboard's and the CLI's words, from storage/command_queue/answers.py), never a plain "done"."""

from __future__ import annotations

import json

from engine.telegram_bot.replies import outcome_text
from storage.command_queue.answers import Outcome, unsold


def _done(result: dict) -> Outcome:
    return Outcome(7, "flatten", "done", json.dumps(result), None, True)


def test_a_flatten_that_sold_nothing_is_partly_done_with_its_reasons() -> None:
    result = {"orders": 0, "skipped": [{"strategy": "mm", "token": "t1", "why": "dust"}],
              "sold": [{"strategy": "mm", "token": "t1", "held": "3", "sold": "0",
                        "why_not": "3 shares are dust: below the market's minimum order of 5"}]}
    said = outcome_text("Flatten", _done(result))
    assert said.startswith("Flatten: partly done (command #7). Remains: mm t1: sold 0 of 3; 3 shares are dust")
    assert "done (" not in said.replace("partly done (", "")


def test_a_flatten_that_sold_everything_is_done() -> None:
    result = {"orders": 1, "skipped": [], "sold": [{"strategy": "mm", "token": "t1", "held": "20", "sold": "20"}]}
    assert unsold(json.dumps(result)) == []
    assert outcome_text("Flatten", _done(result)).startswith("Flatten: done (command #7)")


def test_a_done_exit_says_its_price_proceeds_and_realized_pnl() -> None:
    result = {"positions": [{"strategy": "mm", "question": "Will it rain?", "outcome": "YES", "held": "35.32",
                             "sold": "35.32", "price": "0.412", "proceeds": "14.51", "fee": "0.04",
                             "realized_pnl": "2.1"}], "sold": "35.32"}
    said = outcome_text("Exit", Outcome(8, "exit", "done", json.dumps(result), None, True))
    assert said == ("Exit: done (command #8). mm Will it rain? YES: sold 35.32 of 35.32 at 0.412 on average for "
                    "14.51 pUSD after a 0.04 pUSD fee; realized PnL +2.1 pUSD.")
