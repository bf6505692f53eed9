"""The address policy of every connection to a host someone else named (socialcrm/netpolicy.py)."""

from __future__ import annotations

import ipaddress

import pytest

from socialcrm.netpolicy import PrivateAddress, UnresolvableHost, is_public_address, public_addresses


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("0.1.2.3", False),
        ("10.0.0.1", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("172.31.255.255", False),
        ("192.0.0.8", False),
        ("192.0.2.1", False),
        ("192.168.0.1", False),
        ("198.18.0.1", False),
        ("198.51.100.1", False),
        ("203.0.113.1", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 wrapping 169.254.169.254
        ("2001:db8::1", False),
        ("fc00::1", False),
        ("fe80::1", False),
        ("ff02::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def answers(*addresses: str):
    return lambda host, port: list(addresses)


def test_a_public_answer_is_returned_to_connect_to() -> None:
    assert public_addresses("imap.example", 993, resolver=answers("93.184.216.34")) == ["93.184.216.34"]


def test_one_private_address_in_the_answer_refuses_the_host() -> None:
    with pytest.raises(PrivateAddress, match=r"10\.1\.2\.3"):
        public_addresses("mixed.example", 993, resolver=answers("93.184.216.34", "10.1.2.3"))


def test_an_exempt_address_passes_and_only_that_one() -> None:
    def loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return address.is_loopback

    assert public_addresses("local.test", 143, resolver=answers("127.0.0.1"), exempt=loopback) == ["127.0.0.1"]
    with pytest.raises(PrivateAddress):
        public_addresses("meta.test", 143, resolver=answers("169.254.169.254"), exempt=loopback)


def test_odd_spellings_of_loopback_are_resolved_and_refused() -> None:
    for spelling in ("127.1", "2130706433", "0x7f000001", "[::1]"):
        with pytest.raises(PrivateAddress):
            public_addresses(spelling, 993)


def test_a_name_without_an_address_is_unresolvable() -> None:
    with pytest.raises(UnresolvableHost):
        public_addresses("nothing.invalid", 993, resolver=answers())
