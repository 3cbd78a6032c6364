"""The command queue: what a page, the CLI or the bot posts for the engine, its payloads, its effects,
and waiting for the answer.
"""
