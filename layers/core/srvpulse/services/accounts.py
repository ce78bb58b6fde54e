"""Accounts: registration, sign-in (with TOTP), sessions, password change and reset,
two-factor set-up, account deletion, and the session side of API authorization.

Secrets handed to the client (session ids, reset tokens, recovery codes) are 256-bit
(or 50-bit for recovery codes, which are also throttled) random values; the store only
ever sees their sha256 digests. Passwords are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from importlib import resources

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain import accounts as rules
from ..domain.accounts import BucketPolicy, Membership, Project, Role, User
from ..errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
)
from ..ports import AccountStores, Mailer
from .projects import ApiCaller, new_ping_key
from .tokens import digest, new_token

FIRST_PROJECT_NAME = "My Project"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUCKET_PRUNE_ONE_IN = 200  # throttled requests per prune of idle throttle buckets

logger = logging.getLogger("srvpulse.accounts")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of the 10 000 most common passwords (see docs/security.md)."""
    text = resources.files("srvpulse").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("# ")
    )


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a session: derived from its (secret) id, so it needs no storage
    and a page that cannot read the session cookie cannot compute it."""
    return hashlib.sha256(b"srvpulse-csrf:" + session_token.encode()).hexdigest()


_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/1/8/9 to misread


def _recovery_code() -> str:
    # 10 characters of base32 (50 bits) in two groups: easy to type from paper.
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normalize_recovery_code(code: str) -> str:
    raw = "".join(c for c in code.lower() if c.isalnum())
    return f"{raw[:5]}-{raw[5:]}"


def _account(user: User | None, address: str) -> str:
    """The identity of a per-account throttle bucket: the stored address of the account
    the typed one found, else the typed one, so that whatever spelling a lookup accepts
    for an account draws from that account's one budget."""
    return user.email if user is not None else address


@dataclass(frozen=True, slots=True)
class SignIn:
    """A new session. ``token`` goes into the cookie; ``totp_required`` means the session
    is only good for the second (TOTP) step."""

    token: str
    csrf_token: str
    totp_required: bool
    user: User


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """The signed-in user of a request and the hash of their session."""

    user: User
    session_hash: str


@dataclass(frozen=True, slots=True)
class TotpSetup:
    secret: str
    provisioning_uri: str
    qr_svg: str | None


@dataclass(frozen=True, slots=True)
class AccountInfo:
    user: User
    totp_enabled: bool
    recovery_codes_left: int


class AccountService:
    """Account use cases over an AccountStore and a Mailer.

    ``clock`` returns the current (aware UTC) time; tests pass a controllable one.
    ``site_url`` is the dashboard's base URL used in mailed links.
    """

    def __init__(
        self,
        stores: AccountStores,
        mailer: Mailer,
        *,
        site_url: str,
        email_from: str,
        clock: Callable[[], datetime] | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.stores = stores
        self.mailer = mailer
        self.site_url = site_url.rstrip("/")
        self.email_from = email_from
        self.clock = clock or (lambda: datetime.now(UTC))
        self.hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile

    # --- throttling ---------------------------------------------------------------------

    def _throttle(self, *buckets: tuple[BucketPolicy, str]) -> None:
        """Take a token from every bucket; 429 with the longest wait if any is empty.
        Identities are digested so the table holds no addresses."""
        now = self.clock()
        wait = 0
        for policy, identity in buckets:
            key = f"{policy.name}:{digest(identity)[:40]}"
            decision = self.stores.throttle.take_token(key, policy, now)
            if not decision.allowed:
                wait = max(wait, decision.retry_after)
        # Now and then forget buckets idle for a day (all refilled long since).
        if secrets.randbelow(BUCKET_PRUNE_ONE_IN) == 0:
            self.stores.throttle.prune_buckets(now - timedelta(days=1))
        if wait:
            raise RateLimited("too many attempts, try again later", wait)

    @staticmethod
    def _first_project(now: datetime) -> Project:
        return Project(0, str(uuid.uuid4()), FIRST_PROJECT_NAME, new_ping_key(), now)

    def _adopt_orphans_if_first(self, user: User, now: datetime) -> None:
        """The installation's first user owns the projects nobody is a member of: the
        local mode's default project, made at start-up before any account existed,
        whose API keys the runner printed. Later users adopt nothing."""
        if self.stores.users.first_user_id() == user.id:
            self.stores.projects.adopt_orphan_projects(user.id, now)

    def _new_password(self, user_id: int, password: str, keep_session: str | None) -> None:
        """A new password ends the user's other sessions and voids the reset links
        mailed before it (they die with the password they were sent for). Sessions end
        first: whatever fails after, no session older than the change survives it."""
        now = self.clock()
        self.stores.sessions.end_sessions(user_id, keep_session)
        self.stores.users.set_password(user_id, self.hasher.hash(password), now)
        self.stores.links.void_reset_tokens(user_id, now)

    def _prove_address(self, user_id: int, email: str) -> bool:
        """``email`` is shown to be ``user_id``'s (a mailed link was used): it becomes
        verified, its pending invitations become memberships and the other
        verification links are used up. False when it was verified already or the
        account's address is another one now."""
        now = self.clock()
        if not self.stores.users.mark_verified(user_id, email, now):
            return False
        self.stores.projects.claim_invitations(user_id, email, now)
        self.stores.links.void_verification_tokens(user_id, now)
        return True

    def _allowed(self, policy: BucketPolicy, identity: str) -> bool:
        """Take a token without refusing: for work whose refusal would itself tell
        something (a mail to an existing account's owner)."""
        key = f"{policy.name}:{digest(identity)[:40]}"
        return self.stores.throttle.take_token(key, policy, self.clock()).allowed

    # --- registration and sign-in -------------------------------------------------------

    def register(self, email: str, password: str, ip: str) -> None:
        """Create an account (with a first project it owns) and mail a link to verify the
        address; the link signs the user in. For an address that has an account already,
        mail its owner instead (how to sign in or reset the password) and change nothing.

        The caller cannot tell the two apart (the same answer, a password hash and a mail
        in both): registration must not reveal who has an account (ASVS 6.3.8), as
        password reset does not. Pending invitations wait until the address is verified:
        registering someone else's address gains nothing."""
        self._throttle((rules.REGISTER_PER_IP, rules.throttle_ip(ip)))
        address = rules.normalize_email(email)
        rules.check_password(password, common_passwords())
        now = self.clock()
        password_hash = self.hasher.hash(password)
        existing = self.stores.users.user_by_email(address)
        if existing is None:
            # The installation's first account gets the project waiting for it (the local
            # mode's default, whose keys were printed) instead of a second, empty one.
            waiting = (
                self.stores.users.first_user_id() is None
                and self.stores.projects.first_project() is not None
            )
            project = None if waiting else self._first_project(now)
            try:
                user = self.stores.users.create_user(
                    str(uuid.uuid4()), address, password_hash, now, project
                )
            except Conflict:  # registered a moment ago by a concurrent request
                existing = self.stores.users.user_by_email(address)
            else:
                self._adopt_orphans_if_first(user, now)
                if project is None and not self.stores.projects.memberships(user.id):
                    # Another account was first after all: an account always has a project.
                    self.stores.projects.create_project(self._first_project(now), user.id, now)
        try:
            if existing is None:
                self._send_verification(user)
            elif self._allowed(rules.VERIFY_MAIL_PER_ACCOUNT, existing.email):
                self._send_already_registered(existing)
        except Exception:
            # The account exists either way; the user can ask for the mail again (sign in,
            # then POST /api/v3/account/verify-email/resend) once the mail server is back.
            logger.exception("could not send the mail of a registration")

    def sign_in(
        self,
        email: str,
        password: str,
        ip: str,
        user_agent: str = "",
        previous_token: str | None = None,
    ) -> SignIn:
        """First step of sign-in. A new session id is always issued (the previous one,
        if any, ends), so a fixed session id cannot be planted before sign-in."""
        address = email.strip().lower()
        user = self.stores.users.user_by_email(address)
        self._throttle(
            (rules.SIGNIN_PER_IP, rules.throttle_ip(ip)),
            (rules.SIGNIN_PER_ACCOUNT, _account(user, address)),
        )
        if user is None:
            # Hash anyway, so the answer takes as long as for a real account.
            self.hasher.hash(password)
            raise Unauthorized("wrong email or password")
        if not self._password_ok(user, password):
            raise Unauthorized("wrong email or password")
        device = self.stores.totp.totp_device(user.id)
        two_step = device is not None and device.confirmed
        replaces = digest(previous_token) if previous_token else None
        return self._new_session(user, not two_step, ip, user_agent, replaces)

    def sign_in_second_step(
        self,
        pending_token: str | None,
        code: str | None,
        recovery_code: str | None,
        ip: str,
        user_agent: str = "",
    ) -> SignIn:
        """Second step: a TOTP code (or a recovery code) for a pending session, which is
        replaced by a new, fully signed-in one."""
        if not pending_token:
            raise Unauthorized("sign in with your password first")
        pending_hash = digest(pending_token)
        session = self.stores.sessions.session(pending_hash)
        now = self.clock()
        if (
            session is None
            or session.verified
            or now - session.created >= rules.PENDING_SIGNIN_TIMEOUT
        ):
            raise Unauthorized("sign in with your password first")
        self._verify_second_factor(session.user_id, code, recovery_code, ip)
        user = self.stores.users.user_by_id(session.user_id)
        if user is None:
            raise Unauthorized("sign in with your password first")
        return self._new_session(user, True, ip, user_agent, replaces=pending_hash)

    def _new_session(
        self, user: User, verified: bool, ip: str, user_agent: str, replaces: str | None
    ) -> SignIn:
        token = new_token()
        now = self.clock()
        # Timed-out sessions of this user go now: cheap (indexed), and keeps the table small.
        self.stores.sessions.prune_sessions(
            user.id, now - rules.SESSION_IDLE_TIMEOUT, now - rules.SESSION_ABSOLUTE_TIMEOUT
        )
        self.stores.sessions.create_session(
            digest(token), user.id, verified, now, ip, user_agent, replaces=replaces
        )
        return SignIn(token, csrf_token_for(token), not verified, user)

    def _password_ok(self, user: User, password: str) -> bool:
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if self.hasher.check_needs_rehash(user.password_hash):
            self.stores.users.rehash_password(user.id, self.hasher.hash(password))
        return True

    # --- sessions -----------------------------------------------------------------------

    def authenticate(self, token: str | None) -> CurrentUser:
        """The user of a session cookie; Unauthorized for a missing, unknown, pending
        (password step only) or timed-out session. Extends the idle timeout."""
        if not token:
            raise Unauthorized("not signed in")
        id_hash = digest(token)
        session = self.stores.sessions.session(id_hash)
        now = self.clock()
        if session is None or not session.verified:
            raise Unauthorized("not signed in")
        if not rules.session_is_live(session.created, session.last_seen, now):
            self.stores.sessions.end_session(id_hash)
            raise Unauthorized("session expired, sign in again")
        user = self.stores.users.user_by_id(session.user_id)
        if user is None:
            raise Unauthorized("not signed in")
        if rules.session_needs_touch(session.last_seen, now):
            self.stores.sessions.touch_session(id_hash, now)
        return CurrentUser(user, id_hash)

    def check_csrf(self, method: str, token: str, header_value: str | None) -> None:
        """Cookie-authenticated unsafe requests must echo the session's CSRF token in
        the X-CSRF-Token header (a cross-site page can neither read nor compute it)."""
        if method.upper() in SAFE_METHODS:
            return
        expected = csrf_token_for(token)
        # compare_digest refuses non-ASCII str (TypeError): compare the UTF-8 bytes.
        if not header_value or not hmac.compare_digest(
            expected.encode(), header_value.encode("utf-8", "surrogateescape")
        ):
            raise Forbidden("missing or wrong X-CSRF-Token header")

    def sign_out(self, token: str | None) -> None:
        if token:
            self.stores.sessions.end_session(digest(token))

    def sign_out_everywhere(self, current: CurrentUser) -> None:
        self.stores.sessions.end_sessions(current.user.id)

    def authorize_project(
        self, current: CurrentUser, project_uuid: str | None, *, write: bool
    ) -> ApiCaller:
        """The API caller for a signed-in user acting in ``project_uuid``: the session
        side of authorization, next to X-Api-Key verification.

        NotFound when the user is not a member (the project's existence is not revealed),
        Forbidden when a read-only member asks to change something (``write``).
        """
        membership = self.membership(current, project_uuid)
        read_only = not membership.role.can_write
        if read_only and write:
            raise Forbidden("read-only access to this project")
        return ApiCaller(membership.project.id, read_only)

    def membership(self, current: CurrentUser, project_uuid: str | None) -> Membership:
        if not project_uuid:
            raise InvalidInput("name the project (X-Project header or ?project=)", "project")
        found = self.stores.projects.membership(current.user.id, project_uuid.strip().lower())
        if found is None:
            raise NotFound("project not found")
        return found

    # --- the account itself -------------------------------------------------------------

    def account(self, current: CurrentUser) -> AccountInfo:
        device = self.stores.totp.totp_device(current.user.id)
        enabled = device is not None and device.confirmed
        left = self.stores.totp.recovery_codes_left(current.user.id) if enabled else 0
        return AccountInfo(current.user, enabled, left)

    def _throttle_password_check(self, current: CurrentUser) -> None:
        """Re-entering the password in a session shares the account's sign-in bucket, so
        a stolen session cannot be used to guess the password faster than sign-in can."""
        self._throttle((rules.SIGNIN_PER_ACCOUNT, current.user.email))

    def change_password(
        self, current: CurrentUser, current_password: str, new_password: str
    ) -> None:
        """Needs the current password; every other session of the user ends, and so do
        reset links mailed before."""
        self._throttle_password_check(current)
        if not self._password_ok(current.user, current_password):
            raise InvalidInput("wrong current password", "current_password")
        rules.check_password(new_password, common_passwords())
        self._new_password(current.user.id, new_password, keep_session=current.session_hash)

    def delete_account(self, current: CurrentUser, password: str) -> None:
        """Delete the account, its sessions and every project it owns with all their
        checks, pings, channels and keys. Needs the password."""
        self._throttle_password_check(current)
        if not self._password_ok(current.user, password):
            raise InvalidInput("wrong password", "password")
        self.stores.users.delete_user(current.user.id)

    # --- password reset -----------------------------------------------------------------

    def request_password_reset(self, email: str, ip: str) -> None:
        """Mail a single-use reset link (1 hour) if the address has an account. Returns
        the same way whether or not it does; only the throttle can answer differently,
        and it counts attempts for unknown addresses too."""
        address = email.strip().lower()
        user = self.stores.users.user_by_email(address)
        self._throttle(
            (rules.RESET_PER_IP, rules.throttle_ip(ip)),
            (rules.RESET_PER_ACCOUNT, _account(user, address)),
        )
        if user is None:
            return
        token = new_token()
        now = self.clock()
        self.stores.links.create_reset_token(
            digest(token), user.id, now, now + rules.PASSWORD_RESET_LIFETIME
        )
        # The token travels in the fragment: browsers never send it to a server or in a
        # Referer header; the dashboard page posts it to /api/v3/auth/password-reset/confirm.
        link = f"{self.site_url}/reset-password#token={token}"
        msg = EmailMessage()
        msg["Subject"] = "Reset your srvpulse password"
        msg["From"] = self.email_from
        msg["To"] = user.email
        msg.set_content(
            "Someone (hopefully you) asked to reset the password of your srvpulse account.\n\n"
            f"Set a new password here (the link works once, for one hour):\n{link}\n\n"
            "If it was not you, ignore this message: your password stays the same.\n"
        )
        self.mailer.send(msg)

    def confirm_password_reset(self, token: str, new_password: str) -> None:
        """Set a new password with a reset token; the token is used up and every session
        of the account ends. NotFound for an unknown, used or expired token."""
        rules.check_password(new_password, common_passwords())
        user_id = self.stores.links.use_reset_token(digest(token.strip()), self.clock())
        user = None if user_id is None else self.stores.users.user_by_id(user_id)
        if user is None:
            raise NotFound("this reset link is invalid, used or expired; ask for a new one")
        self._new_password(user.id, new_password, keep_session=None)
        # The link was mailed to the account's address: using it proves the address as
        # well as a verification link does (and lets the real owner of an address
        # someone else registered take the account over, verified).
        self._prove_address(user.id, user.email)

    # --- address verification -----------------------------------------------------------

    def _send_verification(self, user: User) -> None:
        token = new_token()
        now = self.clock()
        self.stores.links.create_verification_token(
            digest(token), user.id, user.email, now, now + rules.EMAIL_VERIFICATION_LIFETIME
        )
        # In the fragment, like the reset link: never sent to a server or in a Referer,
        # and a mail scanner fetching the page cannot use it up (the page POSTs it to
        # /api/v3/auth/verify-email).
        link = f"{self.site_url}/verify-email#token={token}"
        msg = EmailMessage()
        msg["Subject"] = "Confirm your srvpulse email address"
        msg["From"] = self.email_from
        msg["To"] = user.email
        msg.set_content(
            "Welcome to srvpulse. Please confirm that this address is yours "
            "(the link works once, for 24 hours):\n"
            f"{link}\n\n"
            "Projects you are invited to appear in your account once the address is "
            "confirmed.\nIf you did not create an account, ignore this message.\n"
        )
        self.mailer.send(msg)

    def _send_already_registered(self, user: User) -> None:
        msg = EmailMessage()
        msg["Subject"] = "Signing up to srvpulse with your address"
        msg["From"] = self.email_from
        msg["To"] = user.email
        msg.set_content(
            "Someone (you, perhaps) tried to create a srvpulse account with this address, "
            "which has an account already. Nothing was changed.\n\n"
            f"To sign in: {self.site_url}/signin\n"
            f"Forgot your password? {self.site_url}/forgot-password\n\n"
            "If it was not you, you can ignore this message.\n"
        )
        self.mailer.send(msg)

    def resend_verification(self, current: CurrentUser, ip: str) -> None:
        """Mail a new verification link (links mailed before stay valid). Throttled
        per account and per IP like reset requests; Conflict when already verified."""
        if current.user.email_verified:
            raise Conflict("your email address is verified already")
        self._throttle(
            (rules.VERIFY_MAIL_PER_IP, rules.throttle_ip(ip)),
            (rules.VERIFY_MAIL_PER_ACCOUNT, current.user.email),
        )
        try:
            self._send_verification(current.user)
        except Exception as exc:
            logger.exception("could not send a verification mail")
            raise Unavailable("the mail could not be sent now; try again later", 60) from exc

    def verify_email(self, token: str, ip: str, user_agent: str = "") -> SignIn | None:
        """Mark the address a mailed link was sent to as verified (its pending project
        invitations become memberships) and, on the link's first use, sign its user in:
        the link proves the mailbox, which is what registration waits for. Not when the
        account has two-factor on (the link would skip the second factor): then None, as
        for a second click on a link of a verified account, which is not an error.
        InvalidInput (field ``token``) for an unknown, used or expired link."""
        link = self.stores.links.use_verification_token(digest(token.strip()), self.clock())
        user = None if link is None else self.stores.users.user_by_id(link.user_id)
        if link is None or user is None:
            raise self._bad_verification_link()
        if not (link.used_now and self._prove_address(user.id, link.email)):
            if user.email_verified and user.email == link.email:
                return None  # a second click on the link of a verified account
            raise self._bad_verification_link()
        device = self.stores.totp.totp_device(user.id)
        if device is not None and device.confirmed:
            return None
        verified = self.stores.users.user_by_id(user.id) or user
        return self._new_session(verified, True, ip, user_agent, replaces=None)

    @staticmethod
    def _bad_verification_link() -> InvalidInput:
        return InvalidInput(
            "this verification link is invalid, used or expired; ask for a new one", "token"
        )

    # --- two-factor authentication ------------------------------------------------------

    def start_totp_setup(self, current: CurrentUser) -> TotpSetup:
        secret = pyotp.random_base32()  # 160 bits, as RFC 4226 recommends
        if not self.stores.totp.start_totp_setup(current.user.id, secret, self.clock()):
            raise Conflict("two-factor authentication is on already; disable it first")
        uri = pyotp.TOTP(secret).provisioning_uri(name=current.user.email, issuer_name="srvpulse")
        return TotpSetup(secret, uri, _qr_svg(uri))

    def confirm_totp_setup(self, current: CurrentUser, password: str, code: str) -> list[str]:
        """Turn two-factor on with the password and a first code from the app; returns
        the ten recovery codes, which are shown this once (only their hashes are kept).

        The password is asked here, where 2FA turns on and the recovery codes are
        handed out (set-up only stores a pending secret): someone holding a stolen
        session cookie must not lock the owner out with a second factor of their own
        and keep its recovery codes. Disabling asks for the password too."""
        device = self.stores.totp.totp_device(current.user.id)
        if device is None or device.confirmed:
            raise Conflict("start the two-factor set-up first")
        self._throttle_password_check(current)
        if not self._password_ok(current.user, password):
            raise InvalidInput("wrong password", "password")
        step = self._matching_step(device.secret, code)
        if step is None:
            raise InvalidInput("wrong code", "code")
        codes = [_recovery_code() for _ in range(rules.RECOVERY_CODE_COUNT)]
        if not self.stores.totp.confirm_totp(
            current.user.id, step, self.clock(), [digest(c) for c in codes]
        ):
            raise Conflict("start the two-factor set-up first")
        return codes

    def disable_totp(
        self,
        current: CurrentUser,
        password: str,
        code: str | None,
        recovery_code: str | None,
        ip: str,
    ) -> None:
        device = self.stores.totp.totp_device(current.user.id)
        if device is None or not device.confirmed:
            raise Conflict("two-factor authentication is not on")
        self._throttle_password_check(current)
        if not self._password_ok(current.user, password):
            raise InvalidInput("wrong password", "password")
        self._verify_second_factor(current.user.id, code, recovery_code, ip)
        self.stores.totp.delete_totp(current.user.id)

    def _matching_step(self, secret: str, code: str) -> int | None:
        """The time step whose code equals ``code`` (within the allowed drift), or None."""
        code = code.strip().replace(" ", "")
        # Decimal digits of any script (full-width, Arabic-Indic... as some phone
        # keyboards send them) become ASCII; anything else (e.g. superscripts) is wrong.
        if not (code.isdecimal() and len(code) == 6):
            return None
        code = "".join(str(unicodedata.decimal(c)) for c in code)
        totp = pyotp.TOTP(secret)
        now = self.clock()
        for drift in range(-rules.TOTP_VALID_WINDOW, rules.TOTP_VALID_WINDOW + 1):
            at = now + timedelta(seconds=drift * totp.interval)
            if hmac.compare_digest(totp.at(at), code):
                return rules.totp_step(at, totp.interval)
        return None

    def _verify_second_factor(
        self, user_id: int, code: str | None, recovery_code: str | None, ip: str
    ) -> None:
        """Check a TOTP code (never the same step twice) or a recovery code (once)."""
        self._throttle(
            (rules.CODE_PER_IP, rules.throttle_ip(ip)), (rules.CODE_PER_ACCOUNT, f"user:{user_id}")
        )
        if recovery_code:
            hashed = digest(_normalize_recovery_code(recovery_code))
            if not self.stores.totp.use_recovery_code(user_id, hashed, self.clock()):
                raise Unauthorized("wrong or used recovery code")
            return
        if not code:
            raise InvalidInput("a code from your authenticator app is required", "code")
        device = self.stores.totp.totp_device(user_id)
        if device is None or not device.confirmed:
            raise Unauthorized("two-factor authentication is not on")
        step = self._matching_step(device.secret, code)
        if step is None:
            raise Unauthorized("wrong code")
        if not self.stores.totp.use_totp_step(user_id, step):
            raise Unauthorized("this code was used already; wait for the next one")


def _qr_svg(uri: str) -> str | None:
    """The provisioning URI as an inline SVG QR code (segno is pure Python)."""
    try:
        import segno
    except ImportError:  # optional: the URI alone is enough to set up an app
        return None
    svg: str = segno.make(uri, error="m").svg_inline(scale=4)
    return svg


__all__ = ["AccountService", "CurrentUser", "Role", "SignIn", "common_passwords"]
