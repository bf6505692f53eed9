"""Which network addresses the server may connect to when a user or a document names the host.

Enrichment fetches URLs found in profiles and the mailbox sync connects to the IMAP server a
user typed in: either could be pointed at the internal network (cloud metadata at
169.254.169.254, a database on 10.x, an admin page on localhost). Both ask this module, one
policy: resolve the name, refuse it if ANY address is not a public unicast address, and
connect to an address that was checked (never resolve again between check and connect, or
a DNS answer that changes in between, "DNS rebinding", would slip a private address in).

Callers decide what passes although private (``exempt``): enrichment's test switch and
trusted endpoints, the mailbox sync's ``EMAIL_IMAP_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# Spelled out rather than left to ``ipaddress.is_global`` alone: its answers moved between
# Python versions (multicast counts as "global", 6to4 was not private before 3.12).
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, incl. the cloud metadata address 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast 255.255.255.255
        "::/128",
        "::1/128",
        "::/96",  # IPv4-compatible (deprecated)
        "100::/64",  # discard
        "2001::/23",  # IETF protocol assignments, incl. Teredo
        "2001:db8::/32",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(ValueError):
    """The host may not be connected to; ``str()`` says why."""


class UnresolvableHost(DestinationRefused):
    """The host name has no address (or the lookup failed): maybe a typo, maybe a passing DNS failure."""


class PrivateAddress(DestinationRefused):
    """The host resolves to an address that is not on the public internet."""


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address`` is a globally routable unicast address we may connect to.

    IPv6 forms that embed an IPv4 address (IPv4-mapped, 6to4, NAT64) are judged by the IPv4
    address inside, so ``::ffff:127.0.0.1`` is loopback.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
    if any(address in network for network in BLOCKED_NETWORKS):
        return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local)


def system_resolve(host: str, port: int) -> list[str]:
    """Addresses for ``host`` as the C library's resolver gives them.

    ``getaddrinfo`` also parses the odd IPv4 spellings (``127.1``, ``0x7f000001``,
    ``2130706433``) exactly as a connecting client would, so they are checked as the
    address they really are.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"cannot resolve {host!r}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def public_addresses(
    host: str,
    port: int,
    *,
    resolver: Resolver = system_resolve,
    exempt: Callable[[IPAddress], bool] = lambda address: False,
) -> list[str]:
    """Resolve ``host`` and return its addresses to connect to; refuse if ANY of them is not public.

    ``exempt`` lets an address through although it is not public. Refusing the whole answer
    (not just filtering it) means a name that mixes a public and a private address cannot
    be used to reach the private one on a retry.
    """
    addresses = resolver(host.strip("[]"), port)
    if not addresses:
        raise UnresolvableHost(f"{host!r} has no address")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if not exempt(address) and not is_public_address(address):
            raise PrivateAddress(f"{host!r} resolves to {address}, which is not a public address")
    return addresses
