"""Projects as their members see them: list, create, rename, delete; members and
invitations; API keys; the ping key.

Every operation starts from the caller's membership (AccountService.membership), so a
project the caller is not a member of is "not found", and roles decide the rest:
read-only members read (but not the API key list or the ping key, which lets anyone
ping the project's checks), members also manage API keys and the ping key, the owner also
renames, deletes and manages members.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from ..domain.accounts import ApiKey, Member, Membership, Project, Role, User, normalize_email
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..ports import AccountStores, Mailer
from .accounts import AccountService, CurrentUser
from .projects import KEY_PREFIX_LENGTH, new_api_key, new_ping_key
from .tokens import digest

PROJECT_NAME_MAX = 200
KEY_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A created key: ``key`` is the plain value, shown once and never stored."""

    info: ApiKey
    key: str


def _project_name(name: str) -> str:
    value = name.strip()
    if not value:
        raise InvalidInput("a project name is required", "name")
    if len(value) > PROJECT_NAME_MAX:
        raise InvalidInput(f"name: at most {PROJECT_NAME_MAX} characters", "name")
    # One line without control characters: the name goes into mail subjects (a line
    # break there is refused by the email library, or would be a header injection).
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise InvalidInput("name: one line without control characters", "name")
    return value


class ProjectAdminService:
    """Project, member, API key and ping key management for signed-in users."""

    def __init__(
        self,
        stores: AccountStores,
        accounts: AccountService,
        mailer: Mailer,
        *,
        site_url: str,
        email_from: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.stores = stores
        self.accounts = accounts
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self.email_from = email_from
        self.clock = clock or (lambda: datetime.now(UTC))

    def _member(self, current: CurrentUser, project_uuid: str, needs: str = "read") -> Membership:
        found = self.accounts.membership(current, project_uuid)
        if needs == "write" and not found.role.can_write:
            raise Forbidden("read-only access to this project")
        if needs == "manage" and not found.role.can_manage:
            raise Forbidden("only the project's owner can do this")
        return found

    # --- projects -----------------------------------------------------------------------

    def list_projects(self, current: CurrentUser) -> list[Membership]:
        return self.stores.projects.memberships(current.user.id)

    def get(self, current: CurrentUser, project_uuid: str) -> Membership:
        return self._member(current, project_uuid)

    def create(self, current: CurrentUser, name: str) -> Membership:
        now = self.clock()
        project = Project(0, str(uuid.uuid4()), _project_name(name), new_ping_key(), now)
        return Membership(
            self.stores.projects.create_project(project, current.user.id, now), Role.OWNER
        )

    def rename(self, current: CurrentUser, project_uuid: str, name: str) -> Membership:
        found = self._member(current, project_uuid, "manage")
        new_name = _project_name(name)
        self.stores.projects.rename_project(found.project.id, new_name)
        p = found.project
        return Membership(Project(p.id, p.uuid, new_name, p.ping_key, p.created), found.role)

    def delete(self, current: CurrentUser, project_uuid: str) -> Membership:
        """Delete a project with all its checks, pings, channels and keys (owner only).
        A user keeps at least one project."""
        found = self._member(current, project_uuid, "manage")
        owned = [
            m for m in self.stores.projects.memberships(current.user.id) if m.role is Role.OWNER
        ]
        if len(owned) <= 1:
            raise Conflict("this is your only project; create another one first")
        self.stores.projects.delete_project(found.project.id)
        return found

    # --- members ------------------------------------------------------------------------

    def members(self, current: CurrentUser, project_uuid: str) -> list[Member]:
        found = self._member(current, project_uuid)
        return self.stores.projects.members(found.project.id)

    def invite(self, current: CurrentUser, project_uuid: str, email: str, role: str) -> Member:
        """Give a user with a verified address access at once; otherwise invite the
        address (pending until an account with it is verified). Either way the address
        gets an email.

        Only an owner whose own address is verified may invite: the invitation mail
        goes to any address, from our domain, so a throwaway account must not be
        able to use it to send mail."""
        found = self._member(current, project_uuid, "manage")
        if not current.user.email_verified:
            raise Forbidden("confirm your email address before inviting others")
        try:
            new_role = Role(role)
        except ValueError:
            raise InvalidInput("role must be member or readonly", "role") from None
        if new_role is Role.OWNER:
            raise InvalidInput("role must be member or readonly", "role")
        address = normalize_email(email)
        now = self.clock()
        user = self.stores.users.user_by_email(address)
        if user is not None and self.stores.projects.membership(user.id, found.project.uuid):
            raise Conflict("this user is a member of the project already")
        if user is not None and user.email_verified:
            self.stores.projects.add_member(found.project.id, user.id, new_role, now)
        else:
            # No account, or one whose owner has not proved the address yet: whoever
            # registered it may not be the person the owner means.
            self.stores.projects.add_invitation(
                found.project.id, address, new_role, current.user.id, now
            )
        self._mail_invitation(current, found.project, address, new_role, user)
        joined = user.uuid if user is not None and user.email_verified else None
        return Member(address, new_role, joined is None, joined)

    def _mail_invitation(
        self, current: CurrentUser, project: Project, address: str, role: Role, user: User | None
    ) -> None:
        msg = EmailMessage()
        msg["Subject"] = f"You have access to the srvpulse project {project.name}"
        msg["From"] = self.email_from
        msg["To"] = address
        access = "read-only access" if role is Role.READONLY else "access"
        if user is None:
            how = (
                f"Create an account with this address at {self.site_url}/ and confirm the "
                "address (we mail you a link) to see it."
            )
        elif not user.email_verified:
            how = (
                "Confirm your address with the link we mailed you when you registered "
                f"(or ask for a new one in your account at {self.site_url}/) to see it."
            )
        else:
            how = f"Sign in at {self.site_url}/ to see it."
        msg.set_content(
            f"{current.user.email} gave you {access} to the project {project.name!r}.\n{how}\n"
        )
        self.mailer.send(msg)

    def remove_member(self, current: CurrentUser, project_uuid: str, email: str) -> None:
        found = self._member(current, project_uuid, "manage")
        if not self.stores.projects.remove_member(found.project.id, email.strip().lower()):
            raise NotFound("no such member or invitation (the owner cannot be removed)")

    # --- API keys and the ping key ------------------------------------------------------

    def api_keys(self, current: CurrentUser, project_uuid: str) -> list[ApiKey]:
        found = self._member(current, project_uuid, "write")
        return self.stores.projects.api_keys(found.project.id)

    def create_api_key(
        self, current: CurrentUser, project_uuid: str, name: str, read_only: bool
    ) -> NewApiKey:
        found = self._member(current, project_uuid, "write")
        if len(name) > KEY_NAME_MAX:
            raise InvalidInput(f"name: at most {KEY_NAME_MAX} characters", "name")
        key = new_api_key()
        info = self.stores.projects.create_api_key(
            found.project.id,
            name.strip(),
            read_only,
            digest(key),
            key[:KEY_PREFIX_LENGTH],
            self.clock(),
        )
        return NewApiKey(info, key)

    def revoke_api_key(self, current: CurrentUser, project_uuid: str, key_id: int) -> None:
        found = self._member(current, project_uuid, "write")
        if not self.stores.projects.revoke_api_key(found.project.id, key_id, self.clock()):
            raise NotFound("api key not found")

    def ping_key(self, current: CurrentUser, project_uuid: str) -> Project:
        """The project's ping key, for members who may write: with it anyone can ping
        (and, with ?create=1, create) the project's checks, so read-only members do not
        get it, as they get no ping URLs from the checks API either."""
        return self._member(current, project_uuid, "write").project

    def rotate_ping_key(self, current: CurrentUser, project_uuid: str) -> Project:
        """A new ping key: slug ping URLs with the old key stop matching any check."""
        found = self._member(current, project_uuid, "write")
        key = new_ping_key()
        self.stores.projects.set_ping_key(found.project.id, key)
        p = found.project
        return Project(p.id, p.uuid, p.name, key, p.created)
