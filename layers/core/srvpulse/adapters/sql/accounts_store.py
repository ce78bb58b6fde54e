"""SqlAccountStore: users, sessions, memberships, tokens, TOTP and throttle buckets.

Each method is one transaction. Operations that must not be done twice (using a reset
token, a recovery code, a TOTP step) are conditional UPDATEs whose row count says who
won, so two concurrent requests can never both succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.accounts import (
    ApiKey,
    BucketDecision,
    BucketPolicy,
    BucketState,
    EmailVerified,
    Member,
    Membership,
    Project,
    Role,
    Session,
    TotpDevice,
    User,
    take_token,
)
from ...errors import Conflict
from .tables import (
    api_keys,
    email_verification_tokens,
    invitations,
    password_reset_tokens,
    project_members,
    projects,
    recovery_codes,
    sessions,
    throttle_buckets,
    totp_devices,
    users,
)


def _user(row: Any) -> User:
    return User(
        row.id,
        row.uuid,
        row.email,
        row.password_hash,
        row.created,
        row.email_verified_at is not None,
    )


def _project(row: Any) -> Project:
    return Project(row.id, row.uuid, row.name, row.ping_key, row.created)


class SqlAccountStore:
    """The AccountStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- users --------------------------------------------------------------------------

    def create_user(
        self,
        uuid: str,
        email: str,
        password_hash: str,
        now: datetime,
        project: Project,
    ) -> User:
        """Create the user (address not verified yet) and their first project (as
        owner). Conflict if the address is taken. Pending invitations for the address
        stay pending until it is verified (``verify_email``): whoever registers an
        address is not yet known to own it.

        The installation's first user also becomes the owner of projects nobody is a
        member of: the local mode's default project, made at start-up before any account
        existed, whose API keys the runner printed.
        """
        try:
            with self.engine.begin() as conn:
                first_user = conn.execute(select(users.c.id).limit(1)).first() is None
                user_id = conn.execute(
                    insert(users).values(
                        uuid=uuid,
                        email=email,
                        password_hash=password_hash,
                        created=now,
                        password_changed_at=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                self._insert_project(conn, project, user_id, now)
                if first_user:
                    self._adopt_orphan_projects(conn, user_id, now)
        except IntegrityError as exc:
            raise Conflict("an account with this email address exists") from exc
        return User(user_id, uuid, email, password_hash, now, email_verified=False)

    @staticmethod
    def _claim_invitations(conn: Connection, user_id: int, email: str, now: datetime) -> None:
        """Turn the invitations for ``email`` into memberships of ``user_id`` (skipping
        projects the user is in already)."""
        invited = conn.execute(
            select(invitations.c.project_id, invitations.c.role).where(invitations.c.email == email)
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

    def _mark_verified(self, conn: Connection, user_id: int, email: str, now: datetime) -> bool:
        """Record that ``email`` is proven to be the address of ``user_id`` and claim its
        invitations; the other outstanding verification links are used up. False when
        the account's address is another one, or was verified already."""
        done = conn.execute(
            update(users)
            .where(
                users.c.id == user_id,
                users.c.email == email,
                users.c.email_verified_at.is_(None),
            )
            .values(email_verified_at=now)
        )
        if done.rowcount != 1:
            return False
        self._claim_invitations(conn, user_id, email, now)
        conn.execute(
            update(email_verification_tokens)
            .where(
                email_verification_tokens.c.user_id == user_id,
                email_verification_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        return True

    def create_verification_token(
        self, token_hash: str, user_id: int, email: str, now: datetime, expires_at: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(email_verification_tokens).values(
                    token_hash=token_hash,
                    user_id=user_id,
                    email=email,
                    created=now,
                    expires_at=expires_at,
                )
            )

    def verify_email(self, token_hash: str, now: datetime) -> EmailVerified | None:
        """Use a verification link (once, before it expires): the address it was sent
        to becomes verified and its pending invitations become memberships, in one
        transaction. A link of an account that is verified already (used, expired or
        not) answers ``EmailVerified(newly=False)``; an unknown link, or a used or
        expired one of an unverified account, None."""
        with self.engine.begin() as conn:
            used = conn.execute(
                update(email_verification_tokens)
                .where(
                    email_verification_tokens.c.token_hash == token_hash,
                    email_verification_tokens.c.used_at.is_(None),
                    email_verification_tokens.c.expires_at > now,
                )
                .values(used_at=now)
            )
            row = conn.execute(
                select(
                    email_verification_tokens.c.user_id,
                    email_verification_tokens.c.email,
                    users.c.email.label("current_email"),
                    users.c.email_verified_at,
                )
                .join(users, users.c.id == email_verification_tokens.c.user_id)
                .where(email_verification_tokens.c.token_hash == token_hash)
            ).first()
            if row is None:
                return None
            if used.rowcount == 1 and self._mark_verified(conn, row.user_id, row.email, now):
                return EmailVerified(row.user_id, newly=True)
            if row.email_verified_at is not None and row.current_email == row.email:
                return EmailVerified(row.user_id, newly=False)
        return None

    @staticmethod
    def _adopt_orphan_projects(conn: Connection, user_id: int, now: datetime) -> None:
        has_members = select(project_members.c.project_id).where(
            project_members.c.project_id == projects.c.id
        )
        orphans = conn.execute(select(projects.c.id).where(~has_members.exists())).scalars()
        for project_id in list(orphans):
            conn.execute(
                insert(project_members).values(
                    project_id=project_id, user_id=user_id, role=Role.OWNER.value, created=now
                )
            )

    def user_by_email(self, email: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).first()
        return None if row is None else _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def set_password(
        self, user_id: int, password_hash: str, now: datetime, keep_session: str | None
    ) -> None:
        """Store a new hash, void the user's outstanding reset links and end every
        session of the user except ``keep_session``."""
        with self.engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, password_changed_at=now)
            )
            self._void_reset_tokens(conn, user_id, now)
            self._end_sessions(conn, user_id, keep_session)

    @staticmethod
    def _void_reset_tokens(conn: Connection, user_id: int, now: datetime) -> None:
        # Reset links die with the password they were sent for.
        conn.execute(
            update(password_reset_tokens)
            .where(
                password_reset_tokens.c.user_id == user_id,
                password_reset_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )

    def rehash_password(self, user_id: int, password_hash: str) -> None:
        """Replace the hash with one of newer parameters (same password)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )

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

    # --- sessions -----------------------------------------------------------------------

    def create_session(
        self,
        id_hash: str,
        user_id: int,
        verified: bool,
        now: datetime,
        ip: str,
        user_agent: str,
        replaces: str | None = None,
    ) -> None:
        """Store a new session; ``replaces`` (a previous session's hash) is ended in the
        same transaction, so rotation never leaves both alive."""
        with self.engine.begin() as conn:
            if replaces:
                conn.execute(delete(sessions).where(sessions.c.id_hash == replaces))
            conn.execute(
                insert(sessions).values(
                    id_hash=id_hash,
                    user_id=user_id,
                    verified=verified,
                    created=now,
                    last_seen=now,
                    ip=ip[:64],
                    user_agent=user_agent[:200],
                )
            )

    def session(self, id_hash: str) -> Session | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return Session(row.id_hash, row.user_id, bool(row.verified), row.created, row.last_seen)

    def touch_session(self, id_hash: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen=now)
            )

    def prune_sessions(
        self, user_id: int, last_seen_before: datetime, created_before: datetime
    ) -> None:
        """Delete the user's sessions that timed out (idle or absolute)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(sessions).where(
                    sessions.c.user_id == user_id,
                    or_(
                        sessions.c.last_seen < last_seen_before,
                        sessions.c.created < created_before,
                    ),
                )
            )

    def end_session(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))

    def end_sessions(self, user_id: int, keep_session: str | None = None) -> None:
        with self.engine.begin() as conn:
            self._end_sessions(conn, user_id, keep_session)

    @staticmethod
    def _end_sessions(conn: Connection, user_id: int, keep: str | None) -> None:
        cond = sessions.c.user_id == user_id
        if keep:
            cond = and_(cond, sessions.c.id_hash != keep)
        conn.execute(delete(sessions).where(cond))

    # --- password reset -----------------------------------------------------------------

    def create_reset_token(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(password_reset_tokens).values(
                    token_hash=token_hash, user_id=user_id, created=now, expires_at=expires_at
                )
            )

    def reset_password(self, token_hash: str, password_hash: str, now: datetime) -> int | None:
        """Use a reset token (once, before it expires), set the password and end every
        session of its user. Returns the user id, or None for an unknown, used or
        expired token."""
        with self.engine.begin() as conn:
            used = conn.execute(
                update(password_reset_tokens)
                .where(
                    password_reset_tokens.c.token_hash == token_hash,
                    password_reset_tokens.c.used_at.is_(None),
                    password_reset_tokens.c.expires_at > now,
                )
                .values(used_at=now)
            )
            if used.rowcount != 1:
                return None
            user_id: int = conn.execute(
                select(password_reset_tokens.c.user_id).where(
                    password_reset_tokens.c.token_hash == token_hash
                )
            ).scalar_one()
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(password_hash=password_hash, password_changed_at=now)
            )
            # The link was mailed to the account's address: using it proves the address
            # as well as a verification link does (and lets the real owner of an
            # address someone else registered take the account over, verified).
            email: str = conn.execute(
                select(users.c.email).where(users.c.id == user_id)
            ).scalar_one()
            self._mark_verified(conn, user_id, email, now)
            # Other outstanding reset links die with the password they were sent for.
            self._void_reset_tokens(conn, user_id, now)
            self._end_sessions(conn, user_id, None)
        return user_id

    # --- TOTP and recovery codes --------------------------------------------------------

    def totp_device(self, user_id: int) -> TotpDevice | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(totp_devices).where(totp_devices.c.user_id == user_id)
            ).first()
        if row is None:
            return None
        return TotpDevice(row.user_id, row.secret, row.confirmed_at is not None, row.last_used_step)

    def start_totp_setup(self, user_id: int, secret: str, now: datetime) -> bool:
        """Store a pending (unconfirmed) secret, replacing a pending one. False when a
        confirmed device exists (it must be disabled first)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(totp_devices.c.confirmed_at).where(totp_devices.c.user_id == user_id)
            ).first()
            if row is not None and row.confirmed_at is not None:
                return False
            conn.execute(delete(totp_devices).where(totp_devices.c.user_id == user_id))
            conn.execute(insert(totp_devices).values(user_id=user_id, secret=secret, created=now))
        return True

    def confirm_totp(
        self, user_id: int, step: int, now: datetime, recovery_code_hashes: Sequence[str]
    ) -> bool:
        """Confirm the pending device (recording ``step`` as used) and store fresh
        recovery codes. False if there was no pending device."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(totp_devices)
                .where(totp_devices.c.user_id == user_id, totp_devices.c.confirmed_at.is_(None))
                .values(confirmed_at=now, last_used_step=step)
            )
            if done.rowcount != 1:
                return False
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            conn.execute(
                insert(recovery_codes),
                [{"user_id": user_id, "code_hash": h} for h in recovery_code_hashes],
            )
        return True

    def use_totp_step(self, user_id: int, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later step) was used already: a
        replayed code. The condition makes two concurrent uses of one code impossible."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(totp_devices)
                .where(
                    totp_devices.c.user_id == user_id,
                    or_(
                        totp_devices.c.last_used_step.is_(None),
                        totp_devices.c.last_used_step < step,
                    ),
                )
                .values(last_used_step=step)
            )
        return done.rowcount == 1

    def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(recovery_codes)
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
        return done.rowcount == 1

    def recovery_codes_left(self, user_id: int) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(recovery_codes.c.id).where(
                    recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
                )
            ).all()
        return len(rows)

    def delete_totp(self, user_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(totp_devices).where(totp_devices.c.user_id == user_id))
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))

    # --- throttling ---------------------------------------------------------------------

    def take_token(self, key: str, policy: BucketPolicy, now: datetime) -> BucketDecision:
        """Take one token from the bucket ``key`` (created full on first use).

        The row is read with FOR UPDATE (MySQL; SQLite serializes writers anyway), so
        concurrent attempts each see the other's take. A lost race creating the row is
        retried once.
        """
        for attempt in range(2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(
                        select(throttle_buckets.c.tokens, throttle_buckets.c.updated)
                        .where(throttle_buckets.c.key == key)
                        .with_for_update()
                    ).first()
                    state = None if row is None else BucketState(row.tokens, row.updated)
                    decision = take_token(policy, state, now)
                    values = {"tokens": decision.state.tokens, "updated": decision.state.updated}
                    if row is None:
                        conn.execute(insert(throttle_buckets).values(key=key, **values))
                    else:
                        conn.execute(
                            update(throttle_buckets)
                            .where(throttle_buckets.c.key == key)
                            .values(**values)
                        )
                    return decision
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def prune_buckets(self, older_than: datetime) -> None:
        """Forget buckets untouched since ``older_than`` (they would be full again)."""
        with self.engine.begin() as conn:
            conn.execute(delete(throttle_buckets).where(throttle_buckets.c.updated < older_than))

    # --- projects and memberships -------------------------------------------------------

    @staticmethod
    def _insert_project(conn: Connection, project: Project, owner_id: int, now: datetime) -> int:
        project_id: int = conn.execute(
            insert(projects).values(
                uuid=project.uuid, name=project.name, ping_key=project.ping_key, created=now
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(project_members).values(
                project_id=project_id, user_id=owner_id, role=Role.OWNER.value, created=now
            )
        )
        return project_id

    def create_project(self, project: Project, owner_id: int, now: datetime) -> Project:
        with self.engine.begin() as conn:
            project_id = self._insert_project(conn, project, owner_id, now)
        return Project(project_id, project.uuid, project.name, project.ping_key, now)

    def memberships(self, user_id: int) -> list[Membership]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(projects, project_members.c.role)
                .join(project_members, project_members.c.project_id == projects.c.id)
                .where(project_members.c.user_id == user_id)
                .order_by(projects.c.created, projects.c.id)
            ).all()
        return [Membership(_project(r), Role(r.role)) for r in rows]

    def membership(self, user_id: int, project_uuid: str) -> Membership | None:
        """The user's role in the project, or None when they are not a member: THE
        authorization query for everything a session does in a project."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(projects, project_members.c.role)
                .join(project_members, project_members.c.project_id == projects.c.id)
                .where(project_members.c.user_id == user_id, projects.c.uuid == project_uuid)
            ).first()
        return None if row is None else Membership(_project(row), Role(row.role))

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

    # --- API keys -----------------------------------------------------------------------

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
