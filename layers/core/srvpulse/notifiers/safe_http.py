"""Where webhook and Slack requests may go, checked when the request is sent.

A channel's URL is the owner's to choose, so it must not become a way into our own
network: the cloud metadata service (credentials), VPC neighbours, the database, a
service on localhost. Checking the URL when the channel is saved is not enough: a DNS
name can point anywhere later (``169.254.169.254.nip.io``), or answer differently the
second time it is asked (DNS rebinding). So the HTTP client used for channel requests
resolves the name itself, checks every address it resolves to, and connects to the
checked address (``GuardedBackend.connect_tcp``): there is no second resolution. TLS
still verifies the certificate against the URL's name (SNI and the Host header stay
the name), because httpcore starts TLS with the request's host.

Refused always: the cloud metadata addresses, unspecified (``0.0.0.0``, which reaches
localhost on Linux), multicast and broadcast. Refused unless private targets are allowed
(``ALERT_PRIVATE_TARGETS``; docs/security.md): every address that is not globally
routable: loopback, private (RFC 1918), link-local, CGNAT (100.64/10), unique-local
(fc00::/7), reserved and documentation ranges. IPv6 forms that carry an IPv4 address
(IPv4-mapped ``::ffff:a.b.c.d``, 6to4, NAT64 ``64:ff9b::/96``) are judged by the IPv4
address they carry. IPv4 spellings that C's ``inet_aton`` accepts (``2130706433``,
``127.1``, ``0x7f000001``, ``0177.0.0.1``, ``0``) are read the same way the resolver
reads them, so they cannot hide an address from the check.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import certifi
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata and similar endpoints that hand out credentials or configuration:
# AWS IMDS (IPv4, IPv6 on Nitro), the ECS task metadata/credentials endpoint, the
# Amazon-provided DNS and time servers, Alibaba Cloud's metadata service.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.253",
        "169.254.169.123",
        "fd00:ec2::254",
        "fd00:ec2::253",
        "fd00:ec2::123",
        "100.100.100.200",
    )
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_SPELLING = re.compile(r"^[0-9a-fA-FxX.]+$")
LOCAL_NAMES = ("localhost", "localhost.localdomain")


class ForbiddenTarget(Exception):
    """The URL's host is, or resolves to, an address channel requests must not reach."""


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, NAT64), if any."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, *, private_ok: bool) -> str | None:
    """Why a request must not go to ``ip`` (a short phrase), or None if it may."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = refusal(inner, private_ok=private_ok)
        return f"{reason} ({ip} carries {inner})" if reason else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast or ip == ipaddress.IPv4Address("255.255.255.255"):
        return "a multicast or broadcast address"
    if private_ok:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private or not ip.is_global:
        return "a private address"
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL host names without DNS: an IPv6 literal, dotted IPv4, or any
    other IPv4 spelling the resolver accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``)."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _IPV4_SPELLING.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def check_host(host: str, *, private_ok: bool) -> str | None:
    """Why a URL naming ``host`` must be refused before any DNS lookup, or None."""
    host = host.lower().rstrip(".")
    ip = ip_literal(host)
    if ip is not None:
        return refusal(ip, private_ok=private_ok)
    if not private_ok and (host in LOCAL_NAMES or host.endswith(".localhost")):
        return "a loopback address"
    return None


def checked_addresses(host: str, port: int, *, private_ok: bool) -> list[str]:
    """Resolve ``host`` once and return its addresses, all of them allowed; raise
    ForbiddenTarget naming the first refused one (one bad answer refuses the name)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        reason = refusal(ipaddress.ip_address(address), private_ok=private_ok)
        if reason:
            raise ForbiddenTarget(f"{host} resolves to {reason}")
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, connecting only to checked addresses."""

    def __init__(self, *, private_ok: bool) -> None:
        self.private_ok = private_ok

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        reason = check_host(host, private_ok=self.private_ok)
        if reason:
            raise ForbiddenTarget(f"{host} is {reason}")
        error: Exception | None = None
        for address in checked_addresses(host, port, private_ok=self.private_ok):
            try:
                return super().connect_tcp(
                    address, port, timeout, local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:  # the next address, as browsers do
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")


def guarded_client(*, timeout: float, private_ok: bool, ca_file: str | None = None) -> httpx.Client:
    """An httpx client for channel requests: checked addresses only, no redirects, no
    proxies from the environment (a proxy would connect on our behalf, unchecked)."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    transport = httpx.HTTPTransport(verify=context)
    # httpx has no public switch for httpcore's network backend: the pool is rebuilt
    # with the guarded one (tests/integration/test_channel_targets.py notices if this
    # stops taking effect: a loopback receiver would then be reached).
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context, network_backend=GuardedBackend(private_ok=private_ok)
    )
    return httpx.Client(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )
