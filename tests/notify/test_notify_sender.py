"""What a failed delivery says about its destination, through the real apprise: the host, never
the password, the token or the account's user name (apprise's own privacy URL keeps the name:
`json://adv:****@host` reached the dashboard)."""

from __future__ import annotations

import socket

from engine.notify.sender import Sender, where


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_failure_names_the_host_but_not_the_user_or_the_secret() -> None:
    port = _closed_port()
    sender = Sender([f"json://adv:hunter2@127.0.0.1:{port}/hook?cto=1&rto=1"], redact=lambda text: text)
    outcome = sender.send("t", "b", "info", None, timeout_s=5)
    assert not outcome.ok
    why = outcome.failed[0]
    assert f"json://127.0.0.1:{port}/hook" in why
    assert "adv" not in why and "hunter2" not in why and "****" not in why


def test_where_strips_only_the_user_info() -> None:
    assert where("json://adv:****@host:9/hook?x=1") == "json://host:9/hook"
    assert where("mailto://u:****@example.com/to@example.org") == "mailto://example.com/to@example.org"
    assert where("tgram://1...2/") == "tgram://1...2/"
