"""Typed settings from environment variables, read only at the entry points.

Defaults make the local mode work with no configuration at all. Plain dataclass (no
pydantic) because the ping function imports this on its cold-start path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    mode: str = "local"  # "local" (embedded default) or "aws"
    data_dir: Path = Path("data")
    # The dashboard's build the local mode serves at / (default: <app root>/frontend/dist).
    dashboard_dir: Path | None = None
    database_url: str = ""  # SQLAlchemy URL; default: SQLite file in data_dir
    site_url: str = "http://127.0.0.1:8000"  # dashboard and API base URL
    # On AWS without a custom domain: the SSM parameter holding site_url (the API
    # function cannot name the CloudFront domain that routes to it: template.yaml).
    site_url_parameter: str | None = None
    ping_url: str = "http://127.0.0.1:8000/ping/"  # base of ping URLs shown to users
    port: int = 8000
    host: str = "127.0.0.1"
    bootstrap_api_key: str | None = None
    ping_queue_url: str | None = None  # SQS queue URL (aws)
    alert_topic_arn: str | None = None  # SNS topic ARN (aws)
    # Series store: InfluxDB's v1-compatible HTTP API when INFLUX_URL (or a secret
    # naming the URL) is set, else the SQL table. Credentials: a user and password
    # (1.x, 3.x) or a token (2.x, Timestream); on AWS from INFLUX_SECRET_ARN (JSON with
    # any of url, username, password, token), fetched once per container.
    influx_url: str | None = None
    influx_database: str = "srvpulse"
    influx_username: str | None = None
    influx_password: str | None = None
    influx_token: str | None = None
    influx_secret_arn: str | None = None
    influx_setup: str = "v1"  # v1: create database + retention policy; none: operator's
    series_retention_days: int = 400
    email_from: str = "srvpulse <alerts@srvpulse.local>"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: str = "none"  # none | starttls | tls
    # Alert delivery: PagerDuty Events API v2 base URL (tests and local receivers point
    # it elsewhere) and an extra CA bundle trusted for HTTPS providers.
    pagerduty_events_url: str = "https://events.pagerduty.com"
    alert_ca_file: str | None = None
    # Webhook and Slack targets on private, loopback, link-local, CGNAT or unique-local
    # addresses (docs/security.md). None = the mode's default: allowed locally (a
    # self-hosted srvpulse alerting an internal service), refused on AWS.
    alert_private_targets: bool | None = None
    secure_cookies: bool = False
    ping_receipt_days: int = 15  # idempotency memory; longer than SQS max retention
    # The S3 bucket holding the ping edge's set of known targets (aws); unset: in process.
    ping_targets_bucket: str | None = None
    # Addresses of proxies whose X-Forwarded-For/-Proto pings are recorded with ("*": any).
    trusted_proxies: frozenset[str] = frozenset()
    # Local mode: the share of its time ingest works while pings arrive faster than it
    # stores them (local/queue_worker.FloodYield); 1: it never gives way to the edge.
    ingest_flood_share: float = 0.5

    @property
    def private_targets_allowed(self) -> bool:
        if self.alert_private_targets is not None:
            return self.alert_private_targets
        return self.mode != "aws"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'srvpulse.sqlite3'}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; a malformed value raises ValueError naming the variable."""
        e = os.environ if env is None else env

        def whole(name: str, default: str) -> int:
            value = e.get(name, default)
            try:
                return int(value)
            except ValueError:
                raise ValueError(f"{name} must be a whole number, not {value!r}") from None

        def flag(name: str) -> bool | None:
            value = e.get(name, "").strip().lower()
            if not value:
                return None
            if value in ("1", "true", "yes", "on", "allow"):
                return True
            if value in ("0", "false", "no", "off", "deny"):
                return False
            raise ValueError(f"{name} must be true or false, not {value!r}")

        def share(name: str, default: str) -> float:
            value = e.get(name, default)
            try:
                number = float(value)
            except ValueError:
                number = -1.0
            if not 0.0 < number <= 1.0:  # NaN fails this too
                raise ValueError(f"{name} must be a number above 0 and at most 1, not {value!r}")
            return number

        data_dir = Path(e.get("SRVPULSE_DATA_DIR", "data")).resolve()
        port = whole("PORT", "8000")
        host = e.get("HOST", "127.0.0.1")
        site = e.get("SITE_URL", f"http://{host}:{port}").rstrip("/")
        return cls(
            mode=e.get("SRVPULSE_MODE", "local"),
            data_dir=data_dir,
            dashboard_dir=Path(e["SRVPULSE_DASHBOARD_DIR"]).resolve()
            if e.get("SRVPULSE_DASHBOARD_DIR")
            else None,
            database_url=e.get("DATABASE_URL", ""),
            site_url=site,
            site_url_parameter=e.get("SITE_URL_PARAMETER") or None,
            ping_url=e.get("PING_URL", f"{site}/ping/"),
            port=port,
            host=host,
            bootstrap_api_key=e.get("SRVPULSE_BOOTSTRAP_API_KEY") or None,
            ping_queue_url=e.get("PING_QUEUE_URL") or None,
            alert_topic_arn=e.get("ALERT_TOPIC_ARN") or None,
            influx_url=e.get("INFLUX_URL") or None,
            influx_database=e.get("INFLUX_DATABASE", "srvpulse"),
            influx_username=e.get("INFLUX_USERNAME") or None,
            influx_password=e.get("INFLUX_PASSWORD") or None,
            influx_token=e.get("INFLUX_TOKEN") or None,
            influx_secret_arn=e.get("INFLUX_SECRET_ARN") or None,
            influx_setup=e.get("INFLUX_SETUP", "v1"),
            series_retention_days=whole("SERIES_RETENTION_DAYS", "400"),
            email_from=e.get("EMAIL_FROM", "srvpulse <alerts@srvpulse.local>"),
            smtp_host=e.get("SMTP_HOST") or None,
            smtp_port=whole("SMTP_PORT", "25"),
            smtp_user=e.get("SMTP_USER") or None,
            smtp_password=e.get("SMTP_PASSWORD") or None,
            smtp_tls=e.get("SMTP_TLS", "none"),
            pagerduty_events_url=e.get("PAGERDUTY_EVENTS_URL", "https://events.pagerduty.com"),
            alert_ca_file=e.get("ALERT_CA_FILE") or None,
            alert_private_targets=flag("ALERT_PRIVATE_TARGETS"),
            secure_cookies=e.get("SECURE_COOKIES", "") in ("1", "true", "yes"),
            ping_receipt_days=whole("PING_RECEIPT_DAYS", "15"),
            ping_targets_bucket=e.get("PING_TARGETS_BUCKET") or None,
            ingest_flood_share=share("INGEST_FLOOD_SHARE", "0.5"),
            trusted_proxies=frozenset(
                p.strip() for p in e.get("TRUSTED_PROXIES", "").split(",") if p.strip()
            ),
        )
