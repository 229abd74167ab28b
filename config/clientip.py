"""The client's address: REMOTE_ADDR, or what trusted proxies say it is in X-Forwarded-For."""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """TRUSTED_PROXIES parsed: addresses or CIDRs (`10.0.0.0/8`, `192.0.2.7`, `::1`)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of whoever sent the request, as far as it can be believed.

    X-Forwarded-For counts only when the direct peer (REMOTE_ADDR) is a trusted proxy. Each
    proxy appends the address it was connected from, so the list is read from the right,
    skipping trusted proxies: the first address that is not one is the client. What lies
    further left was written by the client and could be anything, so it is never used; a
    malformed entry stops the walk at the last proxy seen.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    networks = trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return remote
    client = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            break
        if not _is_trusted(client, networks):
            break
    return client
