"""Ping targets: what the ping edge must know to answer 404 for an unknown check without
asking the database (pure; no I/O).

A target is a string naming one thing a ping URL can address:

    u:<uuid>                 a check, by its uuid
    s:<ping_key>/<slug>      a check, by its project's ping key and its slug
    p:<ping_key>             a project (``?create=1`` may create a slug under it)

The edge holds a *target set*: the first 8 bytes of each target's sha256, sorted. It is
compact (8 bytes per target: 100 000 checks with slugs are 1.6 MB) and it names no
secret (uuids and ping keys are ping credentials; their digests are not). Two targets
sharing a digest only make an unknown target look known, and the edge then accepts the
ping, which ingest counts as an orphan: a false "known" is harmless, a false "unknown"
never happens for a target that was in the set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from .model import PingMessage

DIGEST_BYTES = 8
_MAGIC = b"SPT1"


def uuid_target(check_uuid: str) -> str:
    return f"u:{check_uuid}"


def slug_target(ping_key: str, slug: str) -> str:
    return f"s:{ping_key}/{slug}"


def project_target(ping_key: str) -> str:
    return f"p:{ping_key}"


def digest(target: str) -> bytes:
    return hashlib.sha256(target.encode()).digest()[:DIGEST_BYTES]


# The digests of the targets pinged lately: every ping looks its target up, and the
# same checks are pinged again and again (a sha256 is 7 500 instructions, a cache hit
# 1 300). Bounded, so unknown targets only push old entries out (about 3 MB when full).
LOOKUP_CACHE_SIZE = 16384
_looked_up = lru_cache(maxsize=LOOKUP_CACHE_SIZE)(digest)


@dataclass(frozen=True, slots=True)
class TargetSet:
    """The digests of every known target (see the module docstring)."""

    digests: frozenset[bytes]

    @classmethod
    def of(cls, targets: Iterable[str]) -> TargetSet:
        return cls(frozenset(digest(t) for t in targets))

    def __contains__(self, target: object) -> bool:
        return isinstance(target, str) and _looked_up(target) in self.digests

    def __len__(self) -> int:
        return len(self.digests)

    def encode(self) -> bytes:
        """A magic number, then the sorted digests back to back."""
        return _MAGIC + b"".join(sorted(self.digests))

    @classmethod
    def decode(cls, data: bytes) -> TargetSet:
        """Raises ValueError for data that is not an encoded target set."""
        body = data[len(_MAGIC) :]
        if not data.startswith(_MAGIC) or len(body) % DIGEST_BYTES:
            raise ValueError("not a ping target set")
        return cls(frozenset(body[i : i + DIGEST_BYTES] for i in range(0, len(body), DIGEST_BYTES)))


class Verdict(StrEnum):
    """What the edge answers a well-formed ping."""

    ACCEPT = "accept"  # the target exists, or the edge cannot tell: 200 OK
    CREATE = "create"  # an unknown slug with ?create=1 in a known project: 201 Created
    NOT_FOUND = "not_found"  # the target certainly does not exist: 404 not found


def verdict(message: PingMessage, knows: Callable[[str], bool | None]) -> Verdict:
    """Decide from ``knows(target)``: True (exists), False (certainly not), None (cannot
    tell). Only a definite False ever leads to NOT_FOUND, as in Healthchecks: an unknown
    uuid, an unknown slug, or a wrong ping key."""
    if message.check_uuid is not None:
        found = knows(uuid_target(message.check_uuid))
        return Verdict.NOT_FOUND if found is False else Verdict.ACCEPT
    if message.ping_key is None or message.slug is None:
        return Verdict.ACCEPT
    found = knows(slug_target(message.ping_key, message.slug))
    if found is not False:
        return Verdict.ACCEPT
    if not message.create:
        return Verdict.NOT_FOUND
    project = knows(project_target(message.ping_key))
    if project is None:
        return Verdict.ACCEPT  # ingest creates it if the key is right; 200 for now
    return Verdict.CREATE if project else Verdict.NOT_FOUND
