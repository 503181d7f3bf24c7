"""The client's address, believing `X-Forwarded-For` only from trusted proxies."""

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The widest public networks TRUSTED_PROXIES may name: the blocks IANA allocates to
# regional registries. No operator's proxies span more.
MIN_PROXY_PREFIX = {4: 8, 6: 12}
_IPV4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Networks from addresses or CIDR strings (`10.0.0.1`, `10.0.0.0/8`)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def too_wide_for_proxies(network: Network) -> bool:
    """Whether `network` spans more of the internet than any operator's proxies do."""
    if network.version == 6 and network.overlaps(_IPV4_MAPPED):
        # A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d: judge that part as IPv4.
        return network.prefixlen < _IPV4_MAPPED.prefixlen + MIN_PROXY_PREFIX[4]
    return network.prefixlen < MIN_PROXY_PREFIX[network.version] and not network.is_private


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The address of the client that made the request.

    Walks `X-Forwarded-For` from the right while each hop is a trusted proxy; the
    first untrusted hop is the client. A peer that is not trusted is the client
    whatever headers it sends, so a spoofed header changes nothing. The result is
    always the peer or a well-formed address.
    """
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        if not _is_address(hop):
            break  # a malformed hop: the last proxy that we trust is all we know
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address


def rate_limit_key(address: str, ipv6_prefix: int) -> str:
    """What per-IP limits count: an IPv4 address, or the IPv6 network holding the address.

    One IPv6 subscriber is routinely given a whole /64 (2^64 addresses), so keying by
    the full address would give each of them an unlimited supply of fresh counters.
    An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) counts as its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, ipv6_prefix), strict=False))
    return str(ip)
