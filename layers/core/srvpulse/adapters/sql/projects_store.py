"""SqlProjectStore: projects, their members and invitations, their API keys (the one
path for each: the check store only reads the project a ping key names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.accounts import ApiKey, Member, Membership, Project, Role
from ...errors import Conflict
from ._accounts_rows import project_from_row
from .tables import api_keys, invitations, project_members, projects, users


def insert_project(conn: Connection, project: Project, owner_id: int | None, now: datetime) -> int:
    """A project row (and its owner's membership), inside the caller's transaction."""
    project_id: int = conn.execute(
        insert(projects).values(
            uuid=project.uuid, name=project.name, ping_key=project.ping_key, created=now
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    if owner_id is not None:
        conn.execute(
            insert(project_members).values(
                project_id=project_id, user_id=owner_id, role=Role.OWNER.value, created=now
            )
        )
    return project_id


def _api_key(r: Any) -> ApiKey:
    return ApiKey(
        r.id, r.project_id, r.name, bool(r.read_only), r.prefix, r.created,
        r.last_used_at, r.revoked_at,
    )  # fmt: skip


class SqlProjectStore:
    """The ProjectStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_project(self, project: Project, owner_id: int | None, now: datetime) -> Project:
        with self.engine.begin() as conn:
            project_id = insert_project(conn, project, owner_id, now)
        return Project(project_id, project.uuid, project.name, project.ping_key, now)

    def first_project(self) -> Project | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(projects).order_by(projects.c.id).limit(1)).first()
        return None if row is None else project_from_row(row)

    def adopt_orphan_projects(self, user_id: int, now: datetime) -> None:
        """Make ``user_id`` the owner of every project nobody is a member of."""
        has_members = select(project_members.c.project_id).where(
            project_members.c.project_id == projects.c.id
        )
        with self.engine.begin() as conn:
            orphans = conn.execute(select(projects.c.id).where(~has_members.exists())).scalars()
            for project_id in list(orphans):
                conn.execute(
                    insert(project_members).values(
                        project_id=project_id, user_id=user_id, role=Role.OWNER.value, created=now
                    )
                )

    def claim_invitations(self, user_id: int, email: str, now: datetime) -> None:
        """Turn the invitations for ``email`` into memberships of ``user_id`` (skipping
        projects the user is in already)."""
        with self.engine.begin() as conn:
            invited = conn.execute(
                select(invitations.c.project_id, invitations.c.role).where(
                    invitations.c.email == email
                )
            ).all()
            member_of = set(
                conn.execute(
                    select(project_members.c.project_id).where(project_members.c.user_id == user_id)
                ).scalars()
            )
            for inv in invited:
                if inv.project_id not in member_of:
                    conn.execute(
                        insert(project_members).values(
                            project_id=inv.project_id, user_id=user_id, role=inv.role, created=now
                        )
                    )
            conn.execute(delete(invitations).where(invitations.c.email == email))

    def memberships(self, user_id: int) -> list[Membership]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(projects, project_members.c.role)
                .join(project_members, project_members.c.project_id == projects.c.id)
                .where(project_members.c.user_id == user_id)
                .order_by(projects.c.created, projects.c.id)
            ).all()
        return [Membership(project_from_row(r), Role(r.role)) for r in rows]

    def membership(self, user_id: int, project_uuid: str) -> Membership | None:
        """The user's role in the project, or None when they are not a member: THE
        authorization query for everything a session does in a project."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(projects, project_members.c.role)
                .join(project_members, project_members.c.project_id == projects.c.id)
                .where(project_members.c.user_id == user_id, projects.c.uuid == project_uuid)
            ).first()
        return None if row is None else Membership(project_from_row(row), Role(row.role))

    def rename_project(self, project_id: int, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(projects).where(projects.c.id == project_id).values(name=name))

    def delete_project(self, project_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(projects).where(projects.c.id == project_id))

    def set_ping_key(self, project_id: int, ping_key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(projects).where(projects.c.id == project_id).values(ping_key=ping_key)
            )

    def members(self, project_id: int) -> list[Member]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users.c.email, users.c.uuid, project_members.c.role)
                .join(project_members, project_members.c.user_id == users.c.id)
                .where(project_members.c.project_id == project_id)
                .order_by(
                    case((project_members.c.role == Role.OWNER.value, 0), else_=1),
                    project_members.c.created,
                    users.c.email,
                )
            ).all()
            pending = conn.execute(
                select(invitations.c.email, invitations.c.role)
                .where(invitations.c.project_id == project_id)
                .order_by(invitations.c.created, invitations.c.email)
            ).all()
        return [Member(r.email, Role(r.role), False, r.uuid) for r in rows] + [
            Member(r.email, Role(r.role), True, None) for r in pending
        ]

    def add_member(self, project_id: int, user_id: int, role: Role, now: datetime) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(project_members).values(
                        project_id=project_id, user_id=user_id, role=role.value, created=now
                    )
                )
        except IntegrityError as exc:
            raise Conflict("this user is a member of the project already") from exc

    def add_invitation(
        self, project_id: int, email: str, role: Role, invited_by: int, now: datetime
    ) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(invitations).values(
                        project_id=project_id,
                        email=email,
                        role=role.value,
                        invited_by=invited_by,
                        created=now,
                    )
                )
        except IntegrityError as exc:
            raise Conflict("this address is invited already") from exc

    def remove_member(self, project_id: int, email: str) -> bool:
        """Remove a member (never the owner) or a pending invitation by address."""
        with self.engine.begin() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.email == email)).scalar()
            removed = 0
            if user_id is not None:
                removed += conn.execute(
                    delete(project_members).where(
                        project_members.c.project_id == project_id,
                        project_members.c.user_id == user_id,
                        project_members.c.role != Role.OWNER.value,
                    )
                ).rowcount
            removed += conn.execute(
                delete(invitations).where(
                    invitations.c.project_id == project_id, invitations.c.email == email
                )
            ).rowcount
        return removed > 0

    def create_api_key(
        self,
        project_id: int,
        name: str,
        read_only: bool,
        key_hash: str,
        prefix: str,
        now: datetime,
    ) -> ApiKey:
        with self.engine.begin() as conn:
            key_id: int = conn.execute(
                insert(api_keys).values(
                    project_id=project_id,
                    name=name,
                    read_only=read_only,
                    key_hash=key_hash,
                    prefix=prefix,
                    created=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return ApiKey(key_id, project_id, name, read_only, prefix, now)

    def api_keys(self, project_id: int) -> list[ApiKey]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_keys)
                .where(api_keys.c.project_id == project_id, api_keys.c.revoked_at.is_(None))
                .order_by(api_keys.c.id)
            ).all()
        return [
            ApiKey(r.id, project_id, r.name, bool(r.read_only), r.prefix, r.created, r.last_used_at)
            for r in rows
        ]

    def revoke_api_key(self, project_id: int, key_id: int, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    api_keys.c.project_id == project_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
        return done.rowcount == 1

    def find_api_key(self, key_hash: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return None if row is None else _api_key(row)

    def touch_api_key(self, key_id: int, now: datetime, if_before: datetime) -> None:
        """Set last_used_at to ``now`` unless it is after ``if_before`` already (a busy
        key costs one write a minute, not one per request)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    (api_keys.c.last_used_at.is_(None)) | (api_keys.c.last_used_at < if_before),
                )
                .values(last_used_at=now)
            )
