"""Where webhooks may go (SSRF protection): https only, to public addresses only. With
WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS (development) private, loopback and link-local addresses are allowed
too, and plain http to loopback.

The address check runs when an endpoint is registered and again before every attempt, on the addresses
that attempt then connects to (the request goes to the checked IP, with the URL's host in the Host
header and TLS server name), so a DNS answer that changes after the check cannot redirect a delivery to
an internal service."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True, slots=True)
class Destination:
    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress  # the checked address the attempt connects to


def check_url(url: str, *, allow_private: bool) -> tuple[str, str, int]:
    """The URL's scheme, host and port, or DestinationRefused for what no address can make acceptable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused("The URL is not valid.") from exc
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in ("https", "http"):
        raise DestinationRefused("Webhook URLs must use https.")
    if scheme == "http" and not allow_private:
        raise DestinationRefused("Webhook URLs must use https (http only to loopback, in development).")
    if not host:
        raise DestinationRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("The URL may not carry credentials; authenticate by the signature.")
    return scheme, host, port or (443 if scheme == "https" else 80)


def refusal(address: IPAddress, scheme: str, *, allow_private: bool) -> str | None:
    """Why this address may not receive webhooks, or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if scheme == "http" and not address.is_loopback:
        return "Plain http is allowed to loopback addresses only (in development)."
    if allow_private:
        return None
    if address.is_loopback or address.is_link_local or address.is_private or not address.is_global:
        return f"The host resolves to a private, loopback or link-local address ({address})."
    if address.is_multicast:
        return f"The host resolves to a multicast address ({address})."
    return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationRefused(f"The host {host!r} does not resolve.") from exc
    # Each address once, in the resolver's order; scope ids (fe80::1%eth0) are dropped for the check.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


async def checked_destination(url: str, *, allow_private: bool) -> Destination:
    """Resolve the URL's host and check every address it resolves to (one bad answer refuses all: the
    HTTP client could pick any of them)."""
    scheme, host, port = check_url(url, allow_private=allow_private)
    addresses = await resolve(host, port)
    if not addresses:
        raise DestinationRefused(f"The host {host!r} does not resolve.")
    for address in addresses:
        reason = refusal(address, scheme, allow_private=allow_private)
        if reason is not None:
            raise DestinationRefused(reason)
    return Destination(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
