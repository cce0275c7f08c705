"""Destination URLs checked when the settings are read (pure: no DNS, no I/O).

Incident destinations (``WEBHOOK_DESTINATIONS``, ``SIGNL4_WEBHOOK_BASE``, which carries
the team secret in its path) must be:

- ``https://`` with a host;
- on a port from 1 to 65535 (a port such as 99999 would otherwise fail every attempt);
- not loopback, link-local (169.254.0.0/16 holds the cloud metadata endpoints), private,
  unspecified, multicast or reserved addresses, nor ``localhost``, unless the setting
  ``ALLOW_PRIVATE_DESTINATIONS`` is true (private deployments, and the local emulators
  on 127.0.0.1: ``make run``, the tests and ``local.settings.sample.json`` set it).

Addresses are recognised in every form the resolver takes (``127.1``, ``2130706433``,
``0x7f.0.0.1``, ``[::ffff:127.0.0.1]``). A host *name* that resolves to a private address
is not caught here (that needs DNS at send time); the https requirement means such a
host would also need a certificate for that name.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOW_SETTING = "ALLOW_PRIVATE_DESTINATIONS"
_LEGACY_V4 = frozenset("0123456789abcdefx.")


def destination_problem(url: object, *, allow_private: bool) -> str | None:
    """Why ``url`` cannot be a destination (a phrase naming no part of it), or None."""
    if not isinstance(url, str):
        return "must be an https:// URL"
    try:
        parsed = urlsplit(url)
        port = parsed.port
    except ValueError:
        return "has a port outside 1-65535 (or is not a URL)"
    host = parsed.hostname
    if parsed.scheme != "https" or not host:
        return "must be an https:// URL"
    if port == 0:
        return "has a port outside 1-65535 (or is not a URL)"
    if not allow_private and _is_internal(host):
        return (
            "points at a loopback, link-local or private address; "
            f"set {ALLOW_SETTING}=true for a private deployment"
        )
    return None


def _is_internal(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = _address(name)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    )


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if name and set(name) <= _LEGACY_V4:
        try:  # inet_aton reads the legacy forms getaddrinfo would (no lookup happens)
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None
