"""The client's address: one decision, used by login lockout, API throttles, logs and /readyz.

Forwarding headers are taken only from the proxies named in IOC_TRUSTED_PROXIES (addresses or
networks; "*" trusts every peer). With none named, the address is the peer's (REMOTE_ADDR) and an
X-Forwarded-For header is ignored. uvicorn gets the same list as --forwarded-allow-ips, and both
walk X-Forwarded-For the same way (right to left, the first hop that is not a trusted proxy), so a
request already resolved by uvicorn resolves to the same address here.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: list[str]) -> list[Network]:
    """Addresses or networks (CIDR); raises ValueError on anything else."""
    return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip() != "*"]


@lru_cache(maxsize=8)
def _trusted(entries: tuple[str, ...]) -> tuple[bool, tuple[Network, ...]]:
    return "*" in entries, tuple(parse_networks(list(entries)))


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return address.ipv4_mapped or address if isinstance(address, ipaddress.IPv6Address) else address


def in_networks(address: str | None, entries) -> bool:
    """Whether an address is in a list of addresses/networks (a setting), "*" matching any."""
    trust_all, networks = _trusted(tuple(entries))
    parsed = _address(address or "")
    if parsed is None:
        return False
    return trust_all or any(parsed in network for network in networks)


def client_address(request) -> str:
    """The address of the client that sent this request (a string, "" when unknown)."""
    cached = getattr(request, "_ioc_client_address", None)
    if cached is not None:
        return cached
    meta = request.META
    peer = meta.get("REMOTE_ADDR") or ""
    address = _address(peer)
    result = str(address) if address is not None else peer
    trusted = settings.IOC_TRUSTED_PROXIES
    if trusted and in_networks(peer, trusted):
        hops = [hop for hop in (meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if hop.strip()]
        parsed = [_address(hop) for hop in hops]
        if parsed and all(hop is not None for hop in parsed):
            # Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
            result = str(parsed[0])
            for hop in reversed(hops):
                if not in_networks(hop, trusted):
                    result = str(_address(hop))
                    break
    try:
        request._ioc_client_address = result
    except AttributeError:  # an object that does not take attributes (e.g. a bare namespace)
        pass
    return result
