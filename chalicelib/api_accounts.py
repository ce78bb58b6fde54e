"""Accounts REST API: registration, sign-in (two steps with TOTP), sessions, password
change and reset, two-factor set-up, account deletion; projects, members, API keys and
ping keys. Every route is thin: parse, call one service, shape the reply.

Routes acting on the account use the session cookie (and, for unsafe methods, the
X-CSRF-Token header); the project routes name the project in the path and answer 404
for projects the caller is not a member of.
"""

from __future__ import annotations

from typing import Literal

from chalice.app import Blueprint, Response
from pydantic import BaseModel, Field
from srvpulse.bootstrap import runtime
from srvpulse.domain.accounts import ApiKey, Member, Membership
from srvpulse.errors import InvalidInput
from srvpulse.services import ping_targets
from srvpulse.services.accounts import CurrentUser, SignIn

from . import schemas
from .http import api_view, json_response, parse_body
from .openapi import documented
from .session_auth import (
    clear_cookies,
    client_ip,
    current_user,
    session_cookies,
    session_token,
    user_agent,
)

bp = Blueprint(__name__)


class Credentials(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=1024)


class SecondFactor(BaseModel):
    code: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=32)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class PasswordOnly(BaseModel):
    password: str = Field(max_length=1024)


class ResetRequest(BaseModel):
    email: str = Field(min_length=1, max_length=254)


class ResetConfirm(BaseModel):
    token: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1024)


class TotpConfirm(BaseModel):
    password: str = Field(max_length=1024)
    code: str = Field(max_length=16)


class VerifyEmail(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class TotpDisable(SecondFactor):
    password: str = Field(max_length=1024)


class ProjectName(BaseModel):
    name: str = Field(max_length=1000)


class Invitation(BaseModel):
    email: str = Field(max_length=254)
    role: Literal["member", "readonly"] = "member"


class MemberEmail(BaseModel):
    email: str = Field(max_length=254)


class NewKey(BaseModel):
    name: str = Field(default="", max_length=1000)
    read_only: bool = False


def _signed_in_body(signin: SignIn) -> schemas.SignedIn:
    return {
        "user": {
            "uuid": signin.user.uuid,
            "email": signin.user.email,
            "email_verified": signin.user.email_verified,
        },
        "totp_required": signin.totp_required,
        "csrf_token": signin.csrf_token,
    }


def _with_session(response: Response, signin: SignIn) -> Response:
    response.headers["Set-Cookie"] = session_cookies(signin)
    return response


def _signed_in(signin: SignIn) -> Response:
    return _with_session(json_response(_signed_in_body(signin)), signin)


def _signed_out(status: int = 204) -> Response:
    response = Response(body="", status_code=status, headers={})
    response.headers["Set-Cookie"] = clear_cookies()
    return response


def _no_content() -> Response:
    return Response(body="", status_code=204, headers={})


# --- sign-up, sign-in, sign-out -------------------------------------------------------

REGISTERED = (
    "Check your mailbox: we sent a link to confirm the address, which signs you in. "
    "If the address has an account already, the mail says how to sign in."
)


@bp.route("/api/v3/auth/register", methods=["POST"])
@documented(
    "Create an account and mail the link that confirms the address and signs in; the "
    "same answer when the address has an account (its owner is mailed instead)",
    ok=schemas.MessageOut,
    status=202,
    body=Credentials,
    auth="none",
    errors=(429,),
)
@api_view
def register() -> Response:
    req = bp.current_request
    body = parse_body(req, Credentials)
    runtime().accounts.register(body.email, body.password, client_ip(req))
    ping_targets.publish(runtime().check_store, runtime().ping_targets)  # its first project
    # The same answer whether the address had an account or not (no enumeration).
    return json_response({"message": REGISTERED}, status=202)


@bp.route("/api/v3/auth/signin", methods=["POST"])
@documented(
    "Sign in; with TOTP on, the second step follows",
    ok=schemas.SignedIn,
    body=Credentials,
    auth="none",
    errors=(401, 429),
)
@api_view
def sign_in() -> Response:
    req = bp.current_request
    body = parse_body(req, Credentials)
    signin = runtime().accounts.sign_in(
        body.email, body.password, client_ip(req), user_agent(req), session_token(req)
    )
    return _signed_in(signin)


@bp.route("/api/v3/auth/signin/totp", methods=["POST"])
@documented(
    "Second sign-in step: a TOTP code or a recovery code",
    ok=schemas.SignedIn,
    body=SecondFactor,
    auth="none",
    errors=(401, 429),
)
@api_view
def sign_in_totp() -> Response:
    req = bp.current_request
    body = parse_body(req, SecondFactor)
    signin = runtime().accounts.sign_in_second_step(
        session_token(req), body.code, body.recovery_code, client_ip(req), user_agent(req)
    )
    return _signed_in(signin)


@bp.route("/api/v3/auth/signout", methods=["POST"])
@documented("Sign out (clears the cookies)", status=204, auth="session")
@api_view
def sign_out() -> Response:
    req = bp.current_request
    current_user(req)  # CSRF: a cross-site page must not sign people out either
    runtime().accounts.sign_out(session_token(req))
    return _signed_out()


@bp.route("/api/v3/auth/signout-everywhere", methods=["POST"])
@documented("End every session of the account", status=204, auth="session")
@api_view
def sign_out_everywhere() -> Response:
    runtime().accounts.sign_out_everywhere(current_user(bp.current_request))
    return _signed_out()


# --- password reset ---------------------------------------------------------------------


@bp.route("/api/v3/auth/password-reset", methods=["POST"])
@documented(
    "Mail a password reset link (the same answer for any address)",
    ok=schemas.MessageOut,
    status=202,
    body=ResetRequest,
    auth="none",
    errors=(429,),
)
@api_view
def request_password_reset() -> Response:
    req = bp.current_request
    body = parse_body(req, ResetRequest)
    runtime().accounts.request_password_reset(body.email, client_ip(req))
    # The same answer whether or not the address has an account.
    return json_response(
        {"message": "If an account uses this address, we sent it a link to reset the password."},
        status=202,
    )


@bp.route("/api/v3/auth/password-reset/confirm", methods=["POST"])
@documented(
    "Set a new password with the mailed token (ends every session)",
    status=204,
    body=ResetConfirm,
    auth="none",
    errors=(404,),
)
@api_view
def confirm_password_reset() -> Response:
    body = parse_body(bp.current_request, ResetConfirm)
    runtime().accounts.confirm_password_reset(body.token, body.password)
    return _signed_out()


# --- address verification -----------------------------------------------------------


@bp.route("/api/v3/auth/verify-email", methods=["POST"])
@documented(
    "Confirm the address with the mailed token; its first use signs in (no 2FA on)",
    ok=schemas.EmailVerified,
    body=VerifyEmail,
    auth="none",
    errors=(404,),
)
@api_view
def verify_email() -> Response:
    # No session needed: the link may be opened in another browser than the account's.
    req = bp.current_request
    body = parse_body(req, VerifyEmail)
    signin = runtime().accounts.verify_email(body.token, client_ip(req), user_agent(req))
    if signin is None:
        # A second use of the link, or an account with two-factor on: verified only.
        answer: schemas.EmailVerified = {"email_verified": True, "signed_in": False}
        return json_response(answer)
    # The link's first use signs in.
    signed: schemas.EmailVerified = {
        "email_verified": True,
        "signed_in": True,
        **_signed_in_body(signin),
    }
    return _with_session(json_response(signed), signin)


@bp.route("/api/v3/account/verify-email/resend", methods=["POST"])
@documented(
    "Mail a new confirmation link",
    ok=schemas.MessageOut,
    status=202,
    auth="session",
    errors=(409, 429),
)
@api_view
def resend_verification() -> Response:
    req = bp.current_request
    current = current_user(req)
    runtime().accounts.resend_verification(current, client_ip(req))
    return json_response(
        {"message": f"We sent a new confirmation link to {current.user.email}."}, status=202
    )


# --- the account ------------------------------------------------------------------------


@bp.route("/api/v3/account", methods=["GET"])
@documented("The signed-in account", ok=schemas.AccountOut, auth="session")
@api_view
def account() -> Response:
    info = runtime().accounts.account(current_user(bp.current_request))
    return json_response(
        {
            "uuid": info.user.uuid,
            "email": info.user.email,
            "email_verified": info.user.email_verified,
            "created": info.user.created,
            "totp_enabled": info.totp_enabled,
            "recovery_codes_left": info.recovery_codes_left,
        }
    )


@bp.route("/api/v3/account/password", methods=["POST"])
@documented("Change the password", status=204, body=PasswordChange, auth="session", errors=(429,))
@api_view
def change_password() -> Response:
    req = bp.current_request
    current = current_user(req)
    body = parse_body(req, PasswordChange)
    runtime().accounts.change_password(current, body.current_password, body.new_password)
    return _no_content()


@bp.route("/api/v3/account/delete", methods=["POST"])
@documented(
    "Delete the account (needs the password)",
    status=204,
    body=PasswordOnly,
    auth="session",
    errors=(409, 429),
)
@api_view
def delete_account() -> Response:
    req = bp.current_request
    current = current_user(req)
    body = parse_body(req, PasswordOnly)
    runtime().accounts.delete_account(current, body.password)
    return _signed_out()


@bp.route("/api/v3/account/totp/setup", methods=["POST"])
@documented(
    "Start two-factor set-up: a new secret and its QR code",
    ok=schemas.TotpSetupOut,
    auth="session",
    errors=(409,),
)
@api_view
def totp_setup() -> Response:
    setup = runtime().accounts.start_totp_setup(current_user(bp.current_request))
    return json_response(
        {"secret": setup.secret, "provisioning_uri": setup.provisioning_uri, "qr_svg": setup.qr_svg}
    )


@bp.route("/api/v3/account/totp/confirm", methods=["POST"])
@documented(
    "Turn two-factor on with a first code; answers 10 recovery codes, once",
    ok=schemas.RecoveryCodes,
    body=TotpConfirm,
    auth="session",
    errors=(409, 429),
)
@api_view
def totp_confirm() -> Response:
    req = bp.current_request
    current = current_user(req)
    body = parse_body(req, TotpConfirm)
    codes = runtime().accounts.confirm_totp_setup(current, body.password, body.code)
    return json_response({"recovery_codes": codes})


@bp.route("/api/v3/account/totp/disable", methods=["POST"])
@documented(
    "Turn two-factor off (password and a code or recovery code)",
    status=204,
    body=TotpDisable,
    auth="session",
    errors=(409, 429),
)
@api_view
def totp_disable() -> Response:
    req = bp.current_request
    current = current_user(req)
    body = parse_body(req, TotpDisable)
    runtime().accounts.disable_totp(
        current, body.password, body.code, body.recovery_code, client_ip(req)
    )
    return _no_content()


# --- projects ---------------------------------------------------------------------------


def _project_json(m: Membership) -> schemas.ProjectOut:
    return {"uuid": m.project.uuid, "name": m.project.name, "role": m.role}


def _member_json(m: Member) -> schemas.MemberOut:
    return {"email": m.email, "role": m.role, "pending": m.pending}


def _key_json(k: ApiKey) -> schemas.ApiKeyOut:
    return {
        "id": k.id,
        "name": k.name,
        "read_only": k.read_only,
        "prefix": k.prefix,
        "created": k.created,
        "last_used_at": k.last_used_at,
    }


def _member_of(project: str) -> CurrentUser:
    """The signed-in user, after checking they are a member of ``project`` (404
    otherwise), so nobody learns anything about other projects, not even from a
    validation error."""
    current = current_user(bp.current_request)
    runtime().accounts.membership(current, project)
    return current


@bp.route("/api/v3/projects", methods=["GET", "POST"])
@documented("The caller's projects and roles", method="GET", ok=schemas.ProjectList, auth="session")
@documented(
    "Create a project",
    method="POST",
    ok=schemas.ProjectOut,
    status=201,
    body=ProjectName,
    auth="session",
)
@api_view
def projects() -> Response:
    req = bp.current_request
    current = current_user(req)
    admin = runtime().project_admin
    if req.method == "POST":
        created = admin.create(current, parse_body(req, ProjectName).name)
        ping_targets.publish(runtime().check_store, runtime().ping_targets)
        return json_response(_project_json(created), status=201)
    return json_response({"projects": [_project_json(m) for m in admin.list_projects(current)]})


@bp.route("/api/v3/projects/{project}", methods=["GET", "POST", "DELETE"])
@documented("One project", method="GET", ok=schemas.ProjectOut, auth="session")
@documented(
    "Rename a project", method="POST", ok=schemas.ProjectOut, body=ProjectName, auth="session"
)
@documented(
    "Delete a project and everything in it (owners only)",
    method="DELETE",
    ok=schemas.ProjectOut,
    auth="session",
    errors=(409,),
)
@api_view
def project(project: str) -> Response:
    req = bp.current_request
    current = _member_of(project)
    admin = runtime().project_admin
    if req.method == "POST":
        renamed = admin.rename(current, project, parse_body(req, ProjectName).name)
        return json_response(_project_json(renamed))
    if req.method == "DELETE":
        return json_response(_project_json(admin.delete(current, project)))
    return json_response(_project_json(admin.get(current, project)))


@bp.route("/api/v3/projects/{project}/members", methods=["GET", "POST"])
@documented("Members and pending invitations", method="GET", ok=schemas.MemberList, auth="session")
@documented(
    "Invite someone by address (owners only)",
    method="POST",
    ok=schemas.MemberOut,
    status=201,
    body=Invitation,
    auth="session",
    errors=(409, 429),
)
@api_view
def members(project: str) -> Response:
    req = bp.current_request
    current = _member_of(project)
    admin = runtime().project_admin
    if req.method == "POST":
        body = parse_body(req, Invitation)
        return json_response(
            _member_json(admin.invite(current, project, body.email, body.role)), status=201
        )
    return json_response({"members": [_member_json(m) for m in admin.members(current, project)]})


@bp.route("/api/v3/projects/{project}/members/remove", methods=["POST"])
@documented(
    "Remove a member or an invitation", status=204, body=MemberEmail, auth="session", errors=(409,)
)
@api_view
def remove_member(project: str) -> Response:
    req = bp.current_request
    current = _member_of(project)
    body = parse_body(req, MemberEmail)
    runtime().project_admin.remove_member(current, project, body.email)
    return _no_content()


@bp.route("/api/v3/projects/{project}/keys", methods=["GET", "POST"])
@documented(
    "The project's API keys (never the keys themselves)",
    method="GET",
    ok=schemas.ApiKeyList,
    auth="session",
)
@documented(
    "Create an API key; the key is in this answer only",
    method="POST",
    ok=schemas.NewApiKey,
    status=201,
    body=NewKey,
    auth="session",
)
@api_view
def api_keys(project: str) -> Response:
    req = bp.current_request
    current = _member_of(project)
    admin = runtime().project_admin
    if req.method == "POST":
        body = parse_body(req, NewKey)
        new = admin.create_api_key(current, project, body.name, body.read_only)
        # The plain key is in this answer only; the server keeps its hash.
        return json_response({**_key_json(new.info), "key": new.key}, status=201)
    return json_response({"keys": [_key_json(k) for k in admin.api_keys(current, project)]})


@bp.route("/api/v3/projects/{project}/keys/{key_id}", methods=["DELETE"])
@documented("Revoke an API key", status=204, auth="session")
@api_view
def revoke_api_key(project: str, key_id: str) -> Response:
    current = _member_of(project)
    # ASCII digits only ("²".isdigit() is true) and a length any key id can have.
    if not (key_id.isascii() and key_id.isdigit()) or len(key_id) > 18:
        raise InvalidInput("key id must be a number", "key_id")
    runtime().project_admin.revoke_api_key(current, project, int(key_id))
    return _no_content()


def _ping_key_json(ping_key: str) -> schemas.PingKeyOut:
    base = runtime().settings.ping_url.rstrip("/")
    return {"ping_key": ping_key, "ping_url": f"{base}/{ping_key}/"}


@bp.route("/api/v3/projects/{project}/ping-key", methods=["GET"])
@documented("The project's ping key (for slug ping URLs)", ok=schemas.PingKeyOut, auth="session")
@api_view
def ping_key(project: str) -> Response:
    found = runtime().project_admin.ping_key(_member_of(project), project)
    return json_response(_ping_key_json(found.ping_key))


@bp.route("/api/v3/projects/{project}/ping-key/rotate", methods=["POST"])
@documented(
    "Replace the ping key (old slug URLs stop working)", ok=schemas.PingKeyOut, auth="session"
)
@api_view
def rotate_ping_key(project: str) -> Response:
    rotated = runtime().project_admin.rotate_ping_key(_member_of(project), project)
    ping_targets.publish(runtime().check_store, runtime().ping_targets)
    return json_response(_ping_key_json(rotated.ping_key))
