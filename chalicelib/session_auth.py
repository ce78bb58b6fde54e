"""Dashboard sessions over HTTP: the session cookie, the CSRF header, the project a
cookie-authenticated request acts in, and the client's IP for throttling.

chalicelib/http.py's auth helper calls ``session_caller`` when a request has no
X-Api-Key, so every /api/v3 route accepts either credential.

Cookies: ``srvpulse_session`` (HttpOnly, SameSite=Lax, Secure unless
settings.secure_cookies is false for plain-http local mode) carries the 256-bit session
id; ``srvpulse_csrf`` (readable by the dashboard's script, same attributes otherwise)
carries the CSRF token that unsafe requests must echo in ``X-CSRF-Token``.

With secure cookies both names carry the ``__Host-`` prefix: browsers then accept the
cookie only from this exact host over HTTPS, with Path=/ and no Domain, so a sibling
subdomain (or a plain-http response) cannot plant a session cookie of its choosing.
Only the name of the current mode is read.
"""

from __future__ import annotations

from chalice.app import Request
from srvpulse.bootstrap import runtime
from srvpulse.domain.accounts import SESSION_ABSOLUTE_TIMEOUT
from srvpulse.services.accounts import CurrentUser, SignIn
from srvpulse.services.projects import ApiCaller

SESSION_COOKIE = "srvpulse_session"
CSRF_COOKIE = "srvpulse_csrf"
SECURE_PREFIX = "__Host-"  # Secure, Path=/, no Domain: set by this host only
CSRF_HEADER = "x-csrf-token"
PROJECT_HEADER = "x-project"


def cookie_name(base: str) -> str:
    """The name of a cookie in the current mode: ``__Host-`` prefixed when cookies are
    Secure (a browser refuses such a cookie unless it is Secure, Path=/ and Domain-less,
    i.e. set by this host over HTTPS); the plain name in plain-http local mode, where
    browsers would refuse the prefixed one."""
    return SECURE_PREFIX + base if runtime().settings.secure_cookies else base


def _header(request: Request, name: str) -> str | None:
    value = request.headers.get(name) if request.headers else None
    return str(value) if value else None


def session_token(request: Request) -> str | None:
    """The session id from the Cookie header, if any.

    Parsed leniently, name=value pairs split at ";": http.cookies.SimpleCookie drops
    every cookie once one of them (another app's on the same domain, with JSON, a space
    or an accent in its value) is not to its taste, which would sign the user out. As
    SimpleCookie did, the last of several values wins.
    """
    raw = _header(request, "cookie")
    if not raw:
        return None
    # Only the name of this mode: with Secure cookies an unprefixed srvpulse_session
    # may have been planted by a sibling subdomain or over plain http.
    wanted = cookie_name(SESSION_COOKIE)
    found: str | None = None
    for pair in raw.split(";"):
        name, sep, value = pair.partition("=")
        if sep and name.strip() == wanted:
            found = value.strip().strip('"') or None
    return found


def has_session_cookie(request: Request) -> bool:
    return session_token(request) is not None


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (sourceIp), for per-IP throttling.
    X-Forwarded-For is not trusted: the caller writes it."""
    identity = (request.context or {}).get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def user_agent(request: Request) -> str:
    return (_header(request, "user-agent") or "")[:200]


def current_user(request: Request) -> CurrentUser:
    """The signed-in user; 401 without a live session, 403 for an unsafe method
    without the session's CSRF token."""
    accounts = runtime().accounts
    token = session_token(request)
    current = accounts.authenticate(token)
    assert token is not None  # authenticate() refused a missing token
    accounts.check_csrf(request.method, token, _header(request, CSRF_HEADER))
    return current


def requested_project(request: Request) -> str | None:
    """The project a cookie-authenticated request acts in: X-Project or ?project=."""
    params = request.query_params
    project = params.get("project") if params else None
    return _header(request, PROJECT_HEADER) or (str(project) if project else None)


def session_caller(request: Request, *, write: bool) -> ApiCaller:
    """The project-scoped caller for a session cookie + X-Project (or ?project=): 404 when
    the user is not a member of that project, 403 when a read-only member writes."""
    current = current_user(request)
    return runtime().accounts.authorize_project(current, requested_project(request), write=write)


def _cookie(name: str, value: str, *, http_only: bool, max_age: int) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if runtime().settings.secure_cookies:
        parts.append("Secure")
    return "; ".join(parts)


def session_cookies(signin: SignIn) -> list[str]:
    """Set-Cookie values for a new session (the browser forgets them at the absolute
    timeout; the server enforces both timeouts anyway)."""
    age = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
    return [
        _cookie(cookie_name(SESSION_COOKIE), signin.token, http_only=True, max_age=age),
        _cookie(cookie_name(CSRF_COOKIE), signin.csrf_token, http_only=False, max_age=age),
    ]


def clear_cookies() -> list[str]:
    return [
        _cookie(cookie_name(SESSION_COOKIE), "", http_only=True, max_age=0),
        _cookie(cookie_name(CSRF_COOKIE), "", http_only=False, max_age=0),
    ]
