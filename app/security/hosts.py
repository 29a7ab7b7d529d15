"""The names this server answers to. A request for any other name is refused: a web page whose own name was
rebound to 127.0.0.1 (DNS rebinding) would otherwise read every conversation from the person's own browser."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import ifaddr

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "localhost.localdomain")
ANY_ADDRESS = ("0.0.0.0", "::", "")


def machine_names() -> set[str]:
    """This machine's own addresses and names, for a network bind: what a phone on the LAN types to reach it."""
    names = {ip.ip if ip.is_IPv4 else ip.ip[0] for adapter in ifaddr.get_adapters() for ip in adapter.ips}
    hostname = socket.gethostname()
    names.update({hostname, f"{hostname}.local", socket.getfqdn()})
    return names


def allowed_hosts(bind: str, extra: Iterable[str], network_names: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the bound address, this machine's names when bound to every address, and those the person
    added (ALLOWED_HOSTS, e.g. a reverse proxy's name)."""
    names = set(LOOPBACK_NAMES) | {bind} | set(extra)
    if bind in ANY_ADDRESS:
        names |= set(network_names)
    return frozenset(normalized(name) for name in names if name and name not in ANY_ADDRESS)


def normalized(name: str) -> str:
    name = name.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return ipaddress.ip_address(name).compressed
    except ValueError:
        return name


def host_name(host_header: str) -> str:
    """`example.com:8080` → `example.com`; `[::1]:8080` → `::1`."""
    host = host_header.strip()
    if host.startswith("["):
        return normalized(host[1 : host.find("]")] if "]" in host else host)
    return normalized(host.rsplit(":", 1)[0] if host.count(":") == 1 else host)


def origin_host(origin: str) -> str | None:
    """The host of an `Origin` header (`http://name:port`); None when it is not an http(s) origin (`null`, say)."""
    found = _origin_parts(origin)
    return found[0] if found else None


def is_same_origin(origin: str, host_header: str, scheme: str) -> bool:
    """Whether `Origin` is the very site the request was sent to (`Host`), port included: another app on this
    machine, on another port, is another site."""
    found = _origin_parts(origin)
    return found is not None and found == _host_and_port(host_header, scheme)


def _host_and_port(host_header: str, scheme: str) -> tuple[str, int]:
    _, colon, port = host_header.strip().rpartition(":")
    if not colon or not port.isdigit():  # no port given: `example.org`, `[::1]`
        return host_name(host_header), DEFAULT_PORTS.get(scheme, 80)
    return host_name(host_header), int(port)


DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_parts(origin: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return normalized(parts.hostname), port or DEFAULT_PORTS[parts.scheme]
