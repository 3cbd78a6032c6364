"""The refusal of an operator's command: it cannot apply in the current state, and its message
says why. Raised by whichever part applies the command (the lifecycle, the trading core, the
notifier) and written on the command's row as its failure reason, so it lives below them all."""

from __future__ import annotations


class CommandRejected(Exception):
    """The command cannot apply in the current state; the message says why, for the operator."""
