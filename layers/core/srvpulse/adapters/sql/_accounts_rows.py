"""Row -> record mappers shared by the account stores."""

from __future__ import annotations

from typing import Any

from ...domain.accounts import Project, User


def user_from_row(row: Any) -> User:
    return User(
        row.id,
        row.uuid,
        row.email,
        row.password_hash,
        row.created,
        row.email_verified_at is not None,
    )


def project_from_row(row: Any) -> Project:
    return Project(row.id, row.uuid, row.name, row.ping_key, row.created)
