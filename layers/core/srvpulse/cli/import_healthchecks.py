"""`srvpulse import healthchecks`: copy a Healthchecks project's checks (and the channels
that map) into a srvpulse project through both management APIs.

Each check keeps its uuid, so a cron line only needs its host changed. Running it again
changes only what differs (nothing doubles); ``--dry-run`` prints the plan and changes
nothing. Healthchecks' API does not reveal a channel's configuration (addresses, webhook
URLs, keys), so a channel maps to a srvpulse channel of the same kind and name when one
exists, is created from ``--channels FILE`` when that file configures it, and is
otherwise listed as needing set-up (its checks are imported without it)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._api import Api, ApiError, fail

PROG = "srvpulse import healthchecks"
# Healthchecks' channel kind -> srvpulse's.
KINDS = {"email": "email", "slack": "slack", "pd": "pagerduty", "webhook": "webhook"}
# Check fields copied as they are (srvpulse uses Healthchecks' names).
FIELDS = (
    "name",
    "slug",
    "tags",
    "desc",
    "grace",
    "manual_resume",
    "methods",
    "subject",
    "subject_fail",
    "start_kw",
    "success_kw",
    "failure_kw",
    "filter_subject",
    "filter_body",
    "filter_default_fail",
)

EXAMPLES = """\
examples:
  export SRVPULSE_URL=https://srvpulse.example.com SRVPULSE_API_KEY=<srvpulse read-write key>
  srvpulse import healthchecks --url https://healthchecks.io --api-key <HC read-write key> --dry-run
  srvpulse import healthchecks --url https://healthchecks.io --api-key <HC key> \
      --channels channels.json

channels.json configures the channels srvpulse cannot read from Healthchecks, by the
Healthchecks channel's name or id, e.g.
  {"Ops mail": {"to": ["ops@example.com"]},
   "Slack #alerts": {"url": "https://hooks.slack.com/services/..."},
   "PagerDuty": {"routing_key": "..."}, "Deploy hook": {"url": "https://example.com/hook"}}

exit status: 0 everything imported; 1 some checks could not be (listed); 2 bad arguments;
3 a server could not be reached."""


@dataclass
class ChannelPlan:
    hc_id: str
    name: str
    kind: str
    action: str  # reuse, create, configure, skip
    srvpulse_id: str | None = None
    config: dict[str, Any] | None = None


@dataclass
class CheckPlan:
    uuid: str
    label: str
    action: str  # create, update, unchanged
    fields: dict[str, Any]
    changed: list[str] = field(default_factory=list)
    pause: bool = False


def check_uuid(check: dict[str, Any]) -> str | None:
    """A Healthchecks check's uuid: its own field, or the end of its ping URL."""
    if check.get("uuid"):
        return str(check["uuid"])
    url = str(check.get("ping_url") or "")
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail if len(tail) == 36 else None


def plan_channels(
    hc_channels: list[dict[str, Any]],
    ours: list[dict[str, Any]],
    configs: dict[str, dict[str, Any]],
) -> list[ChannelPlan]:
    plans = []
    for ch in hc_channels:
        hc_id, name, hc_kind = str(ch["id"]), str(ch.get("name") or ""), str(ch.get("kind"))
        kind = KINDS.get(hc_kind)
        if kind is None:
            plans.append(ChannelPlan(hc_id, name, hc_kind, "skip"))
            continue
        same = next((o for o in ours if o["kind"] == kind and o["name"] == name), None)
        if same is not None:
            plans.append(ChannelPlan(hc_id, name, kind, "reuse", srvpulse_id=same["id"]))
        elif (config := configs.get(hc_id) or configs.get(name)) is not None:
            plans.append(ChannelPlan(hc_id, name, kind, "create", config=config))
        else:
            plans.append(ChannelPlan(hc_id, name, kind, "configure"))
    return plans


def wanted_fields(check: dict[str, Any]) -> dict[str, Any]:
    """What srvpulse should hold for a Healthchecks check (channels apart)."""
    out = {k: check[k] for k in FIELDS if k in check and check[k] is not None}
    if check.get("schedule"):
        out["schedule"] = check["schedule"]
        out["tz"] = check.get("tz") or "UTC"
    elif check.get("timeout") is not None:
        out["timeout"] = check["timeout"]
    return out


def plan_check(hc: dict[str, Any], existing: dict[str, Any] | None, uuid: str) -> CheckPlan:
    fields = wanted_fields(hc)
    label = fields.get("slug") or fields.get("name") or uuid
    pause = hc.get("status") == "paused"
    if existing is None:
        return CheckPlan(uuid, label, "create", fields, pause=pause)
    changed = [k for k, v in fields.items() if k in existing and existing[k] != v]
    changed += [k for k in fields if k not in existing and k in ("schedule", "tz", "timeout")]
    pause = pause and existing.get("status") != "paused"
    action = "update" if changed else "unchanged"
    return CheckPlan(uuid, label, action, {k: fields[k] for k in changed}, changed, pause)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Copy a Healthchecks project's checks into a srvpulse project.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--url", required=True, help="the Healthchecks site, e.g. https://healthchecks.io"
    )
    p.add_argument("--api-key", required=True, help="a Healthchecks read-write API key")
    p.add_argument("--to-url", help="the srvpulse server (or SRVPULSE_URL)")
    p.add_argument("--to-api-key", help="a srvpulse read-write key (or SRVPULSE_API_KEY)")
    p.add_argument("--channels", type=Path, help="JSON file configuring channels by name or id")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    return p


def _configs(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ApiError(f"--channels {path}: {exc}", 2) from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ApiError(f"--channels {path}: must be an object of channel name -> config", 2)
    return data


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "healthchecks":
        print(
            f"usage: {PROG} --url URL --api-key KEY [--dry-run]  (only Healthchecks for now)",
            file=sys.stderr,
        )
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    args = _parser().parse_args(argv[1:])
    verb = "would " if args.dry_run else ""
    try:
        configs = _configs(args.channels)
        hc = Api(args.url, args.api_key)
        ours = Api(args.to_url, args.to_api_key)
        hc_checks = hc.call("GET", "/checks/")["checks"]
        hc_channels = hc.call("GET", "/channels/")["channels"]
        print(f"Healthchecks: {len(hc_checks)} checks, {len(hc_channels)} channels")
        channel_plans = plan_channels(
            hc_channels, ours.call("GET", "/channels/")["channels"], configs
        )
        mapped: dict[str, str] = {}
        failed = 0
        for cp in channel_plans:
            if cp.action == "create" and not args.dry_run:
                try:
                    made = ours.call(
                        "POST",
                        "/channels/",
                        {"kind": cp.kind, "name": cp.name, "config": cp.config},
                    )
                    cp.srvpulse_id = made["id"]
                except ApiError as exc:
                    if exc.exit_status == 3:
                        raise
                    print(f"  channel {cp.name!r} ({cp.kind}): not created: {exc}")
                    failed += 1
                    continue
            if cp.srvpulse_id:
                mapped[cp.hc_id] = cp.srvpulse_id
            note = {
                "reuse": "uses the srvpulse channel of the same name",
                "create": f"{verb}create it from {args.channels}",
                "configure": "needs set-up: create it in srvpulse (or in --channels) and run again",
                "skip": "skipped: srvpulse has no such kind of channel",
            }[cp.action]
            print(f"  channel {cp.name!r} ({cp.kind}): {note}")
        counts = {"create": 0, "update": 0, "unchanged": 0}
        for c in hc_checks:
            uuid = check_uuid(c)
            if uuid is None:
                print(f"  check {c.get('name')!r}: no uuid (use a read-write Healthchecks key)")
                failed += 1
                continue
            try:
                existing = ours.call("GET", f"/checks/{uuid}")
            except ApiError as exc:
                if "HTTP 404" not in str(exc):
                    raise
                existing = None
            plan = plan_check(c, existing, uuid)
            hc_ids = [i for i in str(c.get("channels") or "").split(",") if i]
            channels = ",".join(mapped[i] for i in hc_ids if i in mapped)
            theirs = (
                set(str(existing.get("channels") or "").split(",")) - {""} if existing else set()
            )
            if existing is not None and set(channels.split(",")) - {""} != theirs:
                plan.fields["channels"] = channels
                plan.changed.append("channels")
                plan.action = "update"
            elif existing is None:
                plan.fields["channels"] = channels
            counts[plan.action] += 1
            detail = f" ({', '.join(plan.changed)})" if plan.changed else ""
            detail += " + pause" if plan.pause else ""
            said = plan.action if plan.action == "unchanged" else f"{verb}{plan.action}"
            print(f"  check {plan.label}: {said}{detail}")
            if args.dry_run:
                continue
            try:
                if plan.action == "create":
                    ours.call("POST", "/checks/", {**plan.fields, "uuid": uuid})
                elif plan.action == "update":
                    ours.call("POST", f"/checks/{uuid}", plan.fields)
                if plan.pause:
                    ours.call("POST", f"/checks/{uuid}/pause", {})
            except ApiError as exc:
                if exc.exit_status == 3:
                    raise
                print(f"    not imported: {exc}")
                failed += 1
    except ApiError as exc:
        return fail(PROG, exc)
    summary = ", ".join(
        f"{n} {a}" if a == "unchanged" else f"{n} {verb}{a}{'' if verb else 'd'}"
        for a, n in counts.items()
    )
    print(f"done: {summary}; {failed} failed" if not args.dry_run else f"plan: {summary}")
    return 1 if failed else 0
