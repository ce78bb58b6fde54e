"""Badges, the status endpoint and Prometheus metrics (Healthchecks' formats; see
domain/badges.py for the keys and the formats)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from ..domain import badges as domain
from ..domain.model import Check, Status
from ..domain.status import status_at
from ..errors import NotFound, Unavailable
from ..ports import CheckStore
from .checks import unique_key


def check_badge_url(site_url: str, check_uuid: str) -> str:
    """The two-state SVG badge of one check (``badge_url`` in check JSON)."""
    return f"{site_url}/b/2/{domain.check_badge_key(check_uuid)}.svg"


def _ping_key(store: CheckStore, project_id: int) -> str:
    with store.transaction() as tx:
        for pid, key in tx.project_ping_keys():
            if pid == project_id:
                return key
    raise NotFound("project not found")


def badge_urls(store: CheckStore, project_id: int, site_url: str) -> dict[str, dict[str, str]]:
    """Every tag of the project (and "*", all checks) -> its badge URLs, as
    Healthchecks' ``GET /api/v3/badges/`` lists them."""
    ping_key = _ping_key(store, project_id)
    with store.transaction() as tx:
        checks = tx.list_checks(project_id)
    tags = {domain.ALL_TAGS} | {t for c in checks for t in domain.tags_of(c)}
    key = domain.project_badge_key(ping_key)
    found: dict[str, dict[str, str]] = {}
    for tag in sorted(tags):
        urls: dict[str, str] = {}
        for name, fmt in (("svg", "svg"), ("json", "json"), ("shields", "shields")):
            for suffix, with_late in (("", False), ("3", True)):
                sig = domain.signature(ping_key, tag, with_late)
                where = sig if tag == domain.ALL_TAGS else f"{sig}/{quote(tag, safe='')}"
                urls[name + suffix] = f"{site_url}/badge/{key}/{where}.{fmt}"
        found[tag] = urls
    return found


@dataclass(frozen=True, slots=True)
class Badge:
    label: str
    state: domain.BadgeState


def project_badge(store: CheckStore, badge_key: str, sig: str, tag: str, now: datetime) -> Badge:
    """The badge of a project's checks with ``tag`` ("*": all); NotFound for a wrong key
    or signature."""
    with store.transaction() as tx:
        projects = tx.project_ping_keys()
        match = [(pid, k) for pid, k in projects if domain.project_badge_key(k) == badge_key]
        if not match or not domain.signature_ok(match[0][1], tag, sig):
            raise NotFound("not found")
        checks = tx.list_checks(match[0][0])
    if tag != domain.ALL_TAGS:
        checks = [c for c in checks if tag in domain.tags_of(c)]
    statuses = [status_at(c, now) for c in checks]
    label = domain.ALL_LABEL if tag == domain.ALL_TAGS else tag
    return Badge(label, domain.badge_state(statuses, with_late=not sig.endswith("-2")))


def check_badge(store: CheckStore, badge_key: str, states: int, now: datetime) -> Badge:
    """One check's badge (``states``: 2 = up/down, 3 = up/late/down)."""
    with store.transaction() as tx:
        check = tx.check_by_badge_key(badge_key)
    if check is None or states not in (2, 3):
        raise NotFound("not found")
    state = domain.badge_state([status_at(check, now)], with_late=states == 3)
    return Badge(check.name or check.uuid, state)


def database_ok(store: CheckStore) -> None:
    """Healthchecks' ``/api/v3/status/``: one query, or Unavailable."""
    try:
        with store.transaction() as tx:
            tx.list_checks(0, limit=1)
    except Exception as exc:
        raise Unavailable("the database is not answering") from exc


def metrics(store: CheckStore, project_id: int, now: datetime) -> str:
    with store.transaction() as tx:
        checks: list[Check] = tx.list_checks(project_id)
    rows: list[tuple[Check, Status, str]] = [(c, status_at(c, now), unique_key(c)) for c in checks]
    return domain.prometheus_metrics(rows)
