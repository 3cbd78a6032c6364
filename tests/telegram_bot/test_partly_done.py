"""The bot says "partly done" when a done exit or flatten left shares unsold, with what remains and why
(the dashboard's and the CLI's words, from storage/command_queue/answers.py), never a plain "done"."""

from __future__ import annotations

import json

from engine.telegram_bot.replies import outcome_text
from storage.command_queue.answers import Outcome, sales, unsold


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
                    "14.51 pUSD after a 0.04 pUSD fee; realized PnL +2.10 pUSD after fees.")


def test_an_exit_answer_reads_as_the_dashboard_shows_numbers_with_its_floor() -> None:
    """Prices to three decimals (more only on a finer grid), money to cents: never 0.248896 or 100.13153 pUSD;
    the floor the sale was bounded by beside its price."""
    result = {"positions": [{"strategy": "mm", "question": "Will it rain?", "outcome": "YES", "held": "402.3",
                             "sold": "402.3", "price": "0.248896", "proceeds": "100.13153", "fee": "0.0004",
                             "realized_pnl": "-53.5671", "floor": "0.24"}], "sold": "402.3"}
    said = outcome_text("Exit", Outcome(9, "exit", "done", json.dumps(result), None, True))
    assert said == ("Exit: done (command #9). mm Will it rain? YES: sold 402.3 of 402.3 at 0.249 on average (no "
                    "less than 0.240) for 100.13 pUSD after a 0.00 pUSD fee; realized PnL -53.57 pUSD after fees.")
    finer = sales(json.dumps({"sold": [{"strategy": "mm", "token": "t", "held": "5", "sold": "5", "floor": "0.2405",
                                        "price": "0.24071", "proceeds": "1.2", "fee": "0", "realized_pnl": "0"}]}))
    assert "at 0.241 on average (no less than 0.2405)" in finer[0]  # a floor on a 0.0001 grid keeps its digits


def test_a_command_without_a_floor_says_how_it_was_bounded() -> None:
    result = {"orders": 1, "skipped": [], "floor": "no floor came with this command: each sale was bounded by the mid "
                                                   "less the max slippage when it was sent",
              "sold": [{"strategy": "mm", "token": "t1", "held": "20", "sold": "20", "price": "0.41", "proceeds": "8.2",
                        "fee": "0", "realized_pnl": "1"}]}
    said = sales(json.dumps(result))
    assert len(said) == 2 and said[-1].startswith("no floor came with this command")
