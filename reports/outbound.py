"""Where Greenlight may send a request of its own (webhooks): only to public addresses.

A webhook URL is typed by a QA lead, and the server POSTs to it: without a check, the URL
could reach what only the server reaches — loopback, the private network, the cloud's
metadata address. So a host is resolved (``getaddrinfo``, which also reads decimal and
octal spellings such as ``2130706433`` or ``0177.0.0.1``) and every address it gives
must be public: not private, loopback, link-local, multicast, reserved or unspecified,
in IPv4 or IPv6 (an IPv6 address carrying an IPv4 one — mapped, 6to4, NAT64, Teredo —
is judged by the IPv4 address too). The check runs when a webhook is saved and again at
each delivery, which then connects to the very address it checked, so a DNS answer
that changes in between (DNS rebinding) cannot switch the target.

An administrator may allow named hosts anyway (``WEBHOOK_ALLOWED_HOSTS``: a receiver on
the same network, the test suite's receiver on loopback); the name is compared as
written in the URL, so allowing ``hooks.internal`` does not allow ``127.0.0.1``.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

REFUSED = (
    "Webhooks go only to public addresses: this host is (or resolves to) a private, "
    "loopback, link-local, multicast, reserved or unspecified address. An administrator "
    "can allow it in WEBHOOK_ALLOWED_HOSTS."
)
UNRESOLVED = "The URL's host name could not be resolved."
NOT_HTTP = "Only http(s) URLs receive webhooks."

NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(ValueError):
    """The URL may not be called; ``str()`` says why in words fit for the person."""


class TargetUnresolved(TargetRefused):
    """The host name did not resolve (now): maybe a passing DNS failure."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    path: str  # with the query
    address: str  # the checked address to connect to


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = [ip.ipv4_mapped, ip.sixtofour, ip.teredo[1] if ip.teredo else None]
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]


def address_is_public(address: str) -> bool:
    """Whether ``address`` (an IP address as text) is a public unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates = [ip, *(_embedded_ipv4(ip) if ip.version == 6 else [])]
    return all(
        candidate.is_global
        and not (
            candidate.is_private
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
        )
        for candidate in candidates
    )


def host_is_allowed(host: str) -> bool:
    """Whether an administrator allowed ``host`` explicitly (``WEBHOOK_ALLOWED_HOSTS``)."""
    allowed = {name.strip().lower().strip("[]") for name in settings.WEBHOOK_ALLOWED_HOSTS}
    return host.lower() in allowed


def _addresses(host: str, port: int) -> list[str]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetUnresolved(UNRESOLVED) from error
    addresses = list(dict.fromkeys(answer[4][0] for answer in answers))
    if not addresses:
        raise TargetUnresolved(UNRESOLVED)
    return addresses


def target_resolve(url: str) -> Target:
    """Resolve ``url`` once and return where to connect; raise ``TargetRefused`` when it
    is not http(s), or when any address its host resolves to is not public (unless the
    host is allowed). Every address must pass, so a mixed answer is refused."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(NOT_HTTP)
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from error
    host = parts.hostname
    addresses = _addresses(host, port)
    if not host_is_allowed(host) and not all(address_is_public(a) for a in addresses):
        raise TargetRefused(REFUSED)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
