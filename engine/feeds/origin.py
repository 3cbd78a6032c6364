"""Where an outside feed may lead us: the origin the operator configured, and nowhere else.

A feed's server decides what its redirects say. On a VPS a redirect to 127.0.0.1:<port>, to a
private network or to the cloud's link-local metadata address would have the engine read a
service that was never meant to be public, and store what it answered as news. So a redirect is
followed only when it stays on the configured origin (same scheme, host and port) and its host
resolves to no private, loopback or link-local address that the configured URL's host does not
resolve to itself. A feed configured on 127.0.0.1 may redirect within 127.0.0.1:<same port>.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str], Iterable[str]]


class OriginRefused(Exception):
    """A redirect the desk will not follow; the message says why, in words."""


def resolve(host: str) -> list[str]:
    """The addresses a host name stands for (an IP literal stands for itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []  # an unknown name leads nowhere; the request itself will say so
    return sorted({str(info[4][0]) for info in infos})


def is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_reserved


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    default = {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), parts.port or default


def check_redirect(configured: str, target: str, *, resolver: Resolver = resolve) -> None:
    """Raise OriginRefused unless a redirect from the feed configured at `configured` to
    `target` stays where the operator pointed it."""
    want, got = origin(configured), origin(target)
    if got != want:
        raise OriginRefused(f"redirected to another {_what_differs(want, got)} ({_show(got)}, configured "
                            f"{_show(want)}); a feed's redirects are followed only on its own origin")
    allowed = {a for a in resolver(want[1]) if is_internal(a)}
    internal = sorted(a for a in resolver(got[1]) if is_internal(a) and a not in allowed)
    if internal:
        raise OriginRefused(f"redirected to {_show(got)}, which resolves to the private, loopback or "
                            f"link-local address {internal[0]}; the configured URL's host does not")


def _what_differs(want: tuple[str, str, int | None], got: tuple[str, str, int | None]) -> str:
    if want[1] != got[1]:
        return "host"
    if want[2] != got[2]:
        return "port"
    return "scheme"


def _show(parts: tuple[str, str, int | None]) -> str:
    scheme, host, port = parts
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
