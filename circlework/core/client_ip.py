"""The address a request really came from, for per-address limits such as the log-in lock-out.

Behind a reverse proxy every request arrives from the proxy's address, so a lock-out keyed on
REMOTE_ADDR would lock out everyone at once. The client's own address is then in
X-Forwarded-For, but anybody can send that header: it is believed only as far as proxies we
trust vouch for it. Trusted proxies are the addresses and networks in settings.TRUSTED_PROXIES
(docs/operations.md); with none, X-Forwarded-For is ignored.

Reading from the right: the direct peer must be a trusted proxy; each trusted proxy appended the
address it saw to the header, so we walk the header from its right-hand end, past the addresses
of our own proxies, and the first address that is not one of them is the client. Anything to
its left was written by the client itself and is never read.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks ("10.0.0.5", "10.0.0.0/8", "fd00::/8"); a bad entry stops start-up."""
    networks = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"TRUSTED_PROXIES: {text!r} is not an IP address or network (e.g. 10.0.0.0/8)."
            ) from exc
    return tuple(networks)


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_trusted_proxies(entries)


def parse_address(text: str) -> Address | None:
    """One address as proxies write it: bare, "[v6]", "[v6]:port" or "v4:port"; else None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port; an IPv6 address has at least two colons
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1
    return address


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def resolve_client_ip(
    remote_addr: str, forwarded_for: str, trusted: Sequence[Network]
) -> str | None:
    """The pure rule: the client's address from the direct peer and X-Forwarded-For.

    None only when the direct peer itself is not an address (no client to count).
    """
    peer = parse_address(remote_addr)
    if peer is None:
        return None
    client = peer
    if not _is_trusted(peer, trusted):
        return str(client)  # a client talking to us directly: its X-Forwarded-For is its own words
    for hop in reversed(forwarded_for.split(",")):
        address = parse_address(hop)
        if address is None:
            # Our proxies write only addresses, so this came from outside them: stop at the
            # nearest hop we can vouch for rather than believe it.
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return str(client)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for this request (see the module's docstring)."""
    trusted = _trusted(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return resolve_client_ip(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", "") if trusted else "",
        trusted,
    )
