"""SqlUserStore: accounts (address, password hash, verification). One transaction per
method; the rules around them (sessions ending, links voided, invitations claimed) are
the account service's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.accounts import Project, Role, User
from ...errors import Conflict
from ._accounts_rows import user_from_row
from .projects_store import insert_project
from .tables import project_members, projects, users


class SqlUserStore:
    """The UserStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_user(
        self, uuid: str, email: str, password_hash: str, now: datetime, project: Project | None
    ) -> User:
        """Create the user (address not verified yet) and their first project (as
        owner, unless None: the installation's first user adopts the waiting default
        project instead) in one transaction. Conflict if the address is taken."""
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(
                    insert(users).values(
                        uuid=uuid,
                        email=email,
                        password_hash=password_hash,
                        created=now,
                        password_changed_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                if project is not None:
                    insert_project(conn, project, user_id, now)
        except IntegrityError as exc:
            raise Conflict("an account with this email address exists") from exc
        return User(user_id, uuid, email, password_hash, now, email_verified=False)

    def first_user_id(self) -> int | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(users.c.id).order_by(users.c.id).limit(1)).scalar()
        return None if found is None else int(found)

    def user_by_email(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).first()
        return None if row is None else user_from_row(row)

    def user_by_id(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else user_from_row(row)

    def set_password(self, user_id: int, password_hash: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, password_changed_at=now)
            )

    def rehash_password(self, user_id: int, password_hash: str) -> None:
        """Replace the hash with one of newer parameters (same password)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )

    def mark_verified(self, user_id: int, email: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(users)
                .where(
                    users.c.id == user_id,
                    users.c.email == email,
                    users.c.email_verified_at.is_(None),
                )
                .values(email_verified_at=now)
            )
        return done.rowcount == 1

    def delete_user(self, user_id: int) -> None:
        """Delete the user and every project they own (with its checks, channels, keys:
        the foreign keys cascade)."""
        with self.engine.begin() as conn:
            owned = select(project_members.c.project_id).where(
                project_members.c.user_id == user_id, project_members.c.role == Role.OWNER.value
            )
            ids = [r[0] for r in conn.execute(owned)]
            if ids:
                conn.execute(delete(projects).where(projects.c.id.in_(ids)))
            conn.execute(delete(users).where(users.c.id == user_id))
