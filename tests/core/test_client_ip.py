"""The client's address behind reverse proxies: believed only as far as trusted proxies vouch.

The log-in lock-out counts per address (tests/accounts/test_signup_and_login.py drives it through
the log-in page); here is the pure rule in circlework.core.client_ip.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from circlework.core.client_ip import parse_address, parse_trusted_proxies, resolve_client_ip

TRUSTED = parse_trusted_proxies(["10.0.0.0/8", "fd00::/8"])

# Addresses outside the trusted networks (documentation and public ranges).
outside_v4 = st.ip_addresses(v=4).filter(lambda a: not a.is_private and not a.is_unspecified)
outside = outside_v4.map(str)
proxies = st.ip_addresses(network="10.0.0.0/8").map(str)
header_words = st.lists(
    st.one_of(outside, st.text(max_size=12).filter(lambda t: "," not in t)), max_size=5
)


@given(peer=outside, forwarded=header_words)
def test_an_untrusted_peer_is_the_client_whatever_it_forwards(
    peer: str, forwarded: list[str]
) -> None:
    assert resolve_client_ip(peer, ", ".join(forwarded), TRUSTED) == peer


@given(client=outside, spoofed=header_words, hops=st.lists(proxies, max_size=3), peer=proxies)
def test_behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client(
    client: str, spoofed: list[str], hops: list[str], peer: str
) -> None:
    """Whatever the client wrote on the left, the first proxy appended the address it saw."""
    header = ", ".join([*spoofed, client, *hops])
    assert resolve_client_ip(peer, header, TRUSTED) == client


@given(peer=proxies, forwarded=header_words)
def test_with_no_trusted_proxies_the_peer_is_always_the_client(
    peer: str, forwarded: list[str]
) -> None:
    assert resolve_client_ip(peer, ", ".join(forwarded), ()) == peer


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("10.0.0.1", "", "10.0.0.1"),  # a proxy's own request (health check)
        ("10.0.0.1", "10.0.0.2", "10.0.0.2"),  # only proxies all the way: the farthest one
        ("10.0.0.1", "nonsense, 10.0.0.2", "10.0.0.2"),  # never believe what is not an address
        ("10.0.0.1", "203.0.113.9:5123", "203.0.113.9"),
        ("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("fd00::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.1", "203.0.113.4", "203.0.113.4"),
        ("not an address", "203.0.113.4", None),
    ],
)
def test_examples(peer: str, header: str, expected: str | None) -> None:
    assert resolve_client_ip(peer, header, TRUSTED) == expected


def test_parse_address_refuses_what_is_not_an_address() -> None:
    assert parse_address("") is None
    assert parse_address("unknown") is None
    assert parse_address(" 192.0.2.1 ") == ipaddress.ip_address("192.0.2.1")


def test_a_bad_trusted_proxy_entry_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        parse_trusted_proxies(["10.0.0.0/8", "proxy.internal"])


def test_a_bad_trusted_proxies_setting_stops_start_up() -> None:
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "TRUSTED_PROXIES": "10.0.0.1,my-proxy",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "my-proxy" in result.stderr
