"""Status badges and Prometheus metrics, in Healthchecks' formats (pure).

Badge URLs carry no secret: a project's badges are addressed by a key derived one-way
from its ping key, signed per tag with the ping key (so knowing one badge URL does not
give another tag's), and a check's own badge by a key derived one-way from its uuid.
Rotating the ping key therefore changes the project's badge URLs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Check, Status

FORMATS = ("svg", "json", "shields")
ALL_TAGS = "*"
ALL_LABEL = "srvpulse"
# shields.io's named colours and the same colours as hex for our own SVG.
SHIELDS_COLORS = {"up": "success", "late": "important", "down": "critical"}
SVG_COLORS = {"up": "#4c1", "late": "#fe7d37", "down": "#e05d44"}


def project_badge_key(ping_key: str) -> str:
    return hashlib.sha256(f"badge-project:{ping_key}".encode()).hexdigest()[:32]


def check_badge_key(check_uuid: str) -> str:
    """A uuid-shaped key for one check's badge (the uuid itself is a ping credential)."""
    h = hashlib.sha256(f"badge-check:{check_uuid}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def signature(ping_key: str, tag: str, with_late: bool) -> str:
    """8 characters signing ``tag``; "-2" marks the two-state (up/down) badge."""
    sig = hmac.new(ping_key.encode(), tag.encode(), hashlib.sha256).hexdigest()[:8]
    return sig if with_late else sig + "-2"


def signature_ok(ping_key: str, tag: str, sig: str) -> bool:
    with_late = not sig.endswith("-2")
    return hmac.compare_digest(signature(ping_key, tag, with_late), sig)


@dataclass(frozen=True, slots=True)
class BadgeState:
    status: str  # up | late | down
    total: int
    grace: int
    down: int


def badge_state(statuses: Sequence[Status], with_late: bool) -> BadgeState:
    """down if any check is down; late (three-state badges) if any is in its grace time."""
    down = sum(1 for s in statuses if s is Status.DOWN)
    grace = sum(1 for s in statuses if s is Status.GRACE)
    status = "down" if down else ("late" if grace and with_late else "up")
    return BadgeState(status, len(statuses), grace, down)


def tags_of(check: Check) -> list[str]:
    return check.tags.split()


def _text_width(text: str) -> int:
    narrow, wide = set("fijlrt.,:;'!|()[] "), set("mwMW@%")
    return sum(4 if c in narrow else 10 if c in wide else 7 for c in text)


def badge_svg(label: str, status: str) -> str:
    """A flat two-part badge: ``label`` on grey, ``status`` on its colour."""
    left, right = _text_width(label) + 10, _text_width(status) + 10
    width = left + right
    color = SVG_COLORS[status]
    esc = label.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{esc}: {status}"><title>{esc}: {status}</title>'
        f'<rect width="{width}" height="20" rx="3" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{color}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{color}"/>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" '
        'font-size="11">'
        f'<text x="{left / 2}" y="14">{esc}</text>'
        f'<text x="{left + right / 2}" y="14">{status}</text></g></svg>'
    )


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_metrics(checks: Iterable[tuple[Check, Status, str]]) -> str:
    """Healthchecks' Prometheus exposition: (check, status now, unique_key) per check."""
    rows = list(checks)
    labelled = [
        (f'{{name="{_label(c.name)}", tags="{_label(c.tags)}", unique_key="{key}"}}', c, s)
        for c, s, key in rows
    ]
    out: list[str] = []

    def gauge(name: str, help_text: str, values: Iterable[str]) -> None:
        out.append(f"# HELP {name} {help_text}")
        out.append(f"# TYPE {name} gauge")
        out.extend(values)
        out.append("")

    def yes(flag: bool) -> int:
        return 1 if flag else 0

    gauge(
        "hc_check_up",
        "Whether the check is currently up (1 for yes, 0 for no).",
        (f"hc_check_up{lab} {yes(s is not Status.DOWN)}" for lab, _, s in labelled),
    )
    gauge(
        "hc_check_started",
        "Whether the check is currently started (1 for yes, 0 for no).",
        (f"hc_check_started{lab} {yes(c.last_start is not None)}" for lab, c, _ in labelled),
    )
    gauge(
        "hc_check_grace",
        "Whether the check is currently in the grace period (1 for yes, 0 for no).",
        (f"hc_check_grace{lab} {yes(s is Status.GRACE)}" for lab, _, s in labelled),
    )
    gauge(
        "hc_check_paused",
        "Whether the check is currently paused (1 for yes, 0 for no).",
        (f"hc_check_paused{lab} {yes(s is Status.PAUSED)}" for lab, _, s in labelled),
    )
    all_tags = {t for c, _, _ in rows for t in tags_of(c)}
    down_tags = {t for c, s, _ in rows if s is Status.DOWN for t in tags_of(c)}
    gauge(
        "hc_tag_up",
        "Whether all checks with this tag are up (1 for yes, 0 for no).",
        (f'hc_tag_up{{tag="{_label(t)}"}} {yes(t not in down_tags)}' for t in sorted(all_tags)),
    )
    gauge("hc_checks_total", "The total number of checks.", [f"hc_checks_total {len(rows)}"])
    down = sum(1 for _, s, _ in rows if s is Status.DOWN)
    out.append("# HELP hc_checks_down_total The number of checks currently down.")
    out.append("# TYPE hc_checks_down_total gauge")
    out.append(f"hc_checks_down_total {down}")
    return "\n".join(out) + "\n"
