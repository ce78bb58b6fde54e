"""Projects and API keys: the local mode's default project and X-Api-Key verification.

API keys are stored as their sha256 digest (``tokens.digest``, in ``api_keys.key_hash``)
plus their first characters (``prefix``) so people can tell keys apart; the plain key is
shown once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.accounts import Project
from ..errors import InvalidInput, Unauthorized
from ..ports import ProjectStore
from .tokens import digest

DEFAULT_PROJECT_NAME = "Default"
KEY_PREFIX_LENGTH = 8
MIN_BOOTSTRAP_KEY_LENGTH = 16
# How precisely an API key's last use is recorded (one write a minute per busy key).
KEY_USE_RESOLUTION = timedelta(minutes=1)


def new_api_key() -> str:
    """A new random API key (32 URL-safe characters, like Healthchecks' keys)."""
    return secrets.token_urlsafe(24)


def new_ping_key() -> str:
    """A new random project ping key (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class DefaultProject:
    """What ``ensure_default_project`` found or made.

    ``read_write_key`` / ``read_only_key`` are the plain keys, set only when this call
    created the project (they cannot be recovered later: print them now).
    """

    project_id: int
    project_uuid: str
    name: str
    ping_key: str
    created: bool
    read_write_key: str | None = None
    read_only_key: str | None = None


def ensure_default_project(
    store: ProjectStore, now: datetime, bootstrap_api_key: str | None = None
) -> DefaultProject:
    """Return the local mode's default project, creating it the first time.

    Call it once at start-up (after migrations). If there is no project yet, it creates
    one named "Default" with a random ping key, a read-write API key and a read-only API
    key, and returns the plain keys (``created=True``) so the caller can print them.
    ``bootstrap_api_key`` (SRVPULSE_BOOTSTRAP_API_KEY, at least 16 characters), if given,
    becomes the read-write key instead of a random one. When a project already exists,
    it returns the oldest one with ``created=False`` and no keys; the bootstrap key is
    then ignored (it was stored at first start).

    Example::

        info = ensure_default_project(runtime.account_stores.projects, datetime.now(UTC),
                                      settings.bootstrap_api_key)
        if info.created:
            print("read-write API key:", info.read_write_key)
    """
    if bootstrap_api_key is not None and len(bootstrap_api_key) < MIN_BOOTSTRAP_KEY_LENGTH:
        raise InvalidInput(
            f"bootstrap API key: at least {MIN_BOOTSTRAP_KEY_LENGTH} characters",
            "SRVPULSE_BOOTSTRAP_API_KEY",
        )
    existing = store.first_project()
    if existing is not None:
        return DefaultProject(
            existing.id, existing.uuid, existing.name, existing.ping_key, created=False
        )
    # Nobody owns it yet: the installation's first account adopts it.
    project = store.create_project(
        Project(0, str(uuid.uuid4()), DEFAULT_PROJECT_NAME, new_ping_key(), now), None, now
    )
    rw_key = bootstrap_api_key or new_api_key()
    ro_key = new_api_key()
    for name, key, read_only in (("default", rw_key, False), ("read-only", ro_key, True)):
        store.create_api_key(project.id, name, read_only, digest(key), key[:KEY_PREFIX_LENGTH], now)
    ping_key = project.ping_key
    return DefaultProject(
        project.id,
        project.uuid,
        DEFAULT_PROJECT_NAME,
        ping_key,
        created=True,
        read_write_key=rw_key,
        read_only_key=ro_key,
    )


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who is calling the API: a project, through a read-write or read-only key."""

    project_id: int
    read_only: bool
    key_id: int | None = None


def verify_api_key(store: ProjectStore, key: str | None, now: datetime | None = None) -> ApiCaller:
    """The caller for an X-Api-Key value; raises Unauthorized for a missing, unknown or
    revoked key. Whether a read-only caller may do something is the route's decision.
    With ``now``, the key's ``last_used_at`` (shown in key listings) is kept to the
    minute."""
    if not key:
        raise Unauthorized("missing api key")
    found = store.find_api_key(digest(key))
    if found is None or found.revoked_at is not None:
        raise Unauthorized("wrong api key")
    if now is not None and (
        found.last_used_at is None or now - found.last_used_at >= KEY_USE_RESOLUTION
    ):
        store.touch_api_key(found.id, now, now - KEY_USE_RESOLUTION)
    return ApiCaller(found.project_id, found.read_only, found.id)
