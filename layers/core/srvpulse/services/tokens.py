"""Random secrets handed to clients, and the one form they are stored in.

Session ids, password-reset and verification tokens, recovery codes and API keys are
kept only as their sha256 hex digest: a leaked table lets nobody sign in or call the
API. They are random, not chosen by people, so an unsalted fast hash is enough (there
is no dictionary to try); passwords are the exception and use argon2id.
"""

from __future__ import annotations

import hashlib
import secrets


def digest(secret: str) -> str:
    """The stored form of a session id, reset or verification token, recovery code or
    API key (sha256 hex, 64 characters)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    """A new 256-bit token for a session id or a mailed link (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)
