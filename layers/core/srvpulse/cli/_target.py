"""Which ping URL a job-side command talks to: a whole ping URL, a check uuid on the
configured server, or a project's ping key and a check's slug."""

from __future__ import annotations

import re

from ._http import env

_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class UsageError(Exception):
    """Bad arguments: the message says which and how to fix it (exit status 2)."""


def ping_base(server: str | None) -> str:
    """The ping URL prefix: --url, else SRVPULSE_PING_URL, else SRVPULSE_URL + /ping/."""
    if server:
        base = server.rstrip("/")
        return base if base.endswith("/ping") else base + "/ping"
    explicit = env("SRVPULSE_PING_URL")
    if explicit:
        return explicit.rstrip("/")
    site = env("SRVPULSE_URL")
    if site:
        return site.rstrip("/") + "/ping"
    raise UsageError(
        "which srvpulse? give the whole ping URL, or --url, or set SRVPULSE_URL "
        "(e.g. SRVPULSE_URL=https://srvpulse.example.com)"
    )


def ping_url(
    check: str | None, *, slug: str | None, ping_key: str | None, server: str | None
) -> str:
    """The check's ping URL, without an action suffix."""
    if check and check.startswith(("http://", "https://")):
        if slug or ping_key:
            raise UsageError("give either a ping URL or --slug/--ping-key, not both")
        return check.rstrip("/")
    if slug or ping_key:
        if check:
            raise UsageError("give either a check uuid or --slug with --ping-key, not both")
        key = ping_key or env("SRVPULSE_PING_KEY")
        if not slug or not key:
            raise UsageError("--slug needs --ping-key (or SRVPULSE_PING_KEY), and the reverse")
        return f"{ping_base(server)}/{key}/{slug}"
    if not check:
        raise UsageError("which check? give its uuid, its ping URL, or --slug and --ping-key")
    if not _UUID.match(check):
        raise UsageError(f"{check!r} is neither a check uuid nor a ping URL")
    return f"{ping_base(server)}/{check.lower()}"
