"""The composition root: the only module that names concrete adapters.

``for_local()`` wires the embedded default (SQLite, durable local queue, in-process
bus); ``for_aws()`` wires SQS/SNS/RDS. Adapters are imported and created lazily, once
per process (once per Lambda container): the ping function must not pay for
SQLAlchemy, and nothing connects at import time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from .adapters.local_queue import LocalDurableQueue
    from .adapters.sql.analyzer_store import SqlAnalyzerStore
    from .errors import SrvpulseError
    from .ports import (
        AccountStores,
        AlertBus,
        AnalyzerStore,
        ChannelStore,
        CheckStore,
        IngestLag,
        Mailer,
        MaintenanceStore,
        PingQueue,
        PingTargets,
        SeriesOutbox,
        SeriesStore,
    )
    from .services.accounts import AccountService
    from .services.alerting import Dispatcher
    from .services.analyzing import Analyzer
    from .services.ingesting import IngestHooks
    from .services.project_admin import ProjectAdminService
    from .services.series import SeriesShipper


class Runtime:
    """Lazily built adapters for one process. Each area adds its own properties."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def is_aws(self) -> bool:
        return self.settings.mode == "aws"

    @cached_property
    def engine(self) -> Engine:
        from .adapters.sql.db import make_engine

        if self.is_aws:
            # A Lambda container serves one request at a time: one pooled connection
            # each, so thousands of containers cannot exhaust RDS's connection limit.
            return make_engine(self.settings.sqlalchemy_url, pool_size=1, max_overflow=1)
        return make_engine(self.settings.sqlalchemy_url)

    # --- check store (ingest+API) ---
    @cached_property
    def check_store(self) -> CheckStore:
        """Checks, pings, flips, projects and API keys in the SQL database."""
        from .adapters.sql.checks_store import SqlCheckStore

        return SqlCheckStore(self.engine)

    @cached_property
    def ingest_hooks(self) -> IngestHooks:
        """What other areas do with each ingested batch: ``decide`` hooks have the last
        word on each check before it is saved, ``in_transaction`` hooks write with the
        pings (same transaction), ``after_commit`` hooks see them once stored
        (services.ingesting.IngestHooks). Each area adds its hook here."""
        from .services import detection
        from .services.ingesting import IngestHooks
        from .services.ping_targets import after_ingest

        series = self.series_shipper
        return IngestHooks(
            decide=(detection.learn,),
            in_transaction=(series.in_transaction,),
            # after_ingest: a check made by ?create=1, the ping edge learns its slug.
            after_commit=(series.after_commit, after_ingest(self.check_store, self.ping_targets)),
        )

    @cached_property
    def series_shipper(self) -> SeriesShipper:
        """Every stored ping's point: into the outbox with the ping, then shipped."""
        from .services.series import SeriesShipper

        s = self.settings
        return SeriesShipper(
            lambda: self.series_outbox,
            lambda: self.series_store,
            lambda: datetime.now(UTC),
            # Without InfluxDB the series store is a table of this same database.
            direct=not (s.influx_url or s.influx_secret_arn),
        )

    # --- series store (every ping, for history) ---
    @cached_property
    def series_store(self) -> SeriesStore:
        """InfluxDB (v1 HTTP API) when INFLUX_URL or INFLUX_SECRET_ARN is set, else the
        ``series_points`` table of the SQL store."""
        s = self.settings
        retention = timedelta(days=s.series_retention_days)
        url, user, password, token = (
            s.influx_url,
            s.influx_username,
            s.influx_password,
            s.influx_token,
        )
        if s.influx_secret_arn:
            from .adapters.secrets import fetch_json_secret

            secret = fetch_json_secret(s.influx_secret_arn)
            url = secret.get("url") or url
            user = secret.get("username") or user
            password = secret.get("password") or password
            token = secret.get("token") or token
        if url:
            from .adapters.influx import InfluxSeriesStore

            return InfluxSeriesStore(
                url,
                s.influx_database,
                retention,
                username=user,
                password=password,
                token=token,
                setup=s.influx_setup,
            )
        from .adapters.sql.series_store import SqlSeriesStore

        return SqlSeriesStore(self.engine, retention)

    @cached_property
    def series_outbox(self) -> SeriesOutbox:
        """Points written with their ping, waiting to be shipped to the series store."""
        from .adapters.sql.series_store import SqlSeriesOutbox

        return SqlSeriesOutbox(self.engine)

    # --- ping edge (edge+local) ---
    @cached_property
    def ping_queue(self) -> PingQueue:
        """SQS when PING_QUEUE_URL is set (AWS), else the durable local queue."""
        if self.settings.ping_queue_url:
            from .adapters.sqs import SqsPingQueue

            return SqsPingQueue(self.settings.ping_queue_url)
        return self.local_queue

    @cached_property
    def ping_targets(self) -> PingTargets:
        """What the edge knows of existing checks: an S3 object when PING_TARGETS_BUCKET
        is set (AWS), else a set in this process (services.ping_targets publishes)."""
        if self.settings.ping_targets_bucket:
            from .adapters.ping_targets import S3PingTargets

            return S3PingTargets(self.settings.ping_targets_bucket)
        from .adapters.ping_targets import LocalPingTargets

        return LocalPingTargets()

    @cached_property
    def local_queue(self) -> LocalDurableQueue:
        """The local mode's durable ping queue (data_dir/queue.sqlite3), drained by the
        runner's ingest worker. Separate from the main database."""
        return self.local_queue_with()

    def local_queue_with(self, *, busy_timeout: float | None = None) -> LocalDurableQueue:
        """The local queue, opened anew (``srvpulse queue`` waits longer for its lock)."""
        from .adapters.local_queue import LocalDurableQueue

        path = self.settings.data_dir / "queue.sqlite3"
        if busy_timeout is None:
            return LocalDurableQueue(path)
        return LocalDurableQueue(path, busy_timeout=busy_timeout)

    @cached_property
    def mailer(self) -> Mailer:
        """SMTP when SMTP_HOST is set, SES on AWS, else a mailer that only logs."""
        s = self.settings
        if s.smtp_host:
            from .adapters.email import SmtpMailer

            return SmtpMailer(
                s.smtp_host,
                s.smtp_port,
                sender=s.email_from,
                tls=s.smtp_tls,
                user=s.smtp_user,
                password=s.smtp_password,
            )
        if self.is_aws:
            from .adapters.email import SesMailer

            return SesMailer(sender=s.email_from)
        from .adapters.memory import RecordingMailer

        return RecordingMailer()

    # --- accounts (sessions, 2FA, projects as members see them) ---
    @cached_property
    def channel_store(self) -> ChannelStore:
        from .adapters.sql.channels_store import SqlChannelStore

        return SqlChannelStore(self.engine)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        """Alert delivery: notifiers for every channel kind over the SQL store."""
        from .adapters.sql.channels_store import SqlNotificationStore
        from .notifiers import NotifierContext, build_notifiers
        from .services.alerting import Dispatcher

        s = self.settings
        context = NotifierContext(
            mailer=self.mailer,
            pagerduty_events_url=s.pagerduty_events_url,
            ca_file=s.alert_ca_file,
            mail_configured=bool(s.smtp_host) or self.is_aws,
            private_targets=s.private_targets_allowed,
        )
        return Dispatcher(
            store=SqlNotificationStore(self.engine),
            notifiers=build_notifiers(context),
            mailer=self.mailer,
            site_url=s.site_url,
        )

    def migrate(self) -> None:
        """Bring the SQL store's schema to the newest revision (Alembic)."""
        from .adapters.sql.db import migrate

        migrate(self.engine)

    @cached_property
    def account_stores(self) -> AccountStores:
        """Users, sessions, mailed links, 2FA, throttle buckets, projects (SQL)."""
        from .adapters.sql.links_store import SqlLinkStore
        from .adapters.sql.projects_store import SqlProjectStore
        from .adapters.sql.sessions_store import SqlSessionStore
        from .adapters.sql.throttle_store import SqlThrottleStore
        from .adapters.sql.totp_store import SqlTotpStore
        from .adapters.sql.users_store import SqlUserStore
        from .ports import AccountStores

        e = self.engine
        return AccountStores(
            users=SqlUserStore(e),
            sessions=SqlSessionStore(e),
            links=SqlLinkStore(e),
            totp=SqlTotpStore(e),
            throttle=SqlThrottleStore(e),
            projects=SqlProjectStore(e),
        )

    @cached_property
    def accounts(self) -> AccountService:
        """Registration, sign-in, sessions, password reset and 2FA (mail via ``mailer``)."""
        from .services.accounts import AccountService

        s = self.settings
        return AccountService(
            self.account_stores, self.mailer, site_url=s.site_url, email_from=s.email_from
        )

    @cached_property
    def project_admin(self) -> ProjectAdminService:
        from .services.project_admin import ProjectAdminService

        s = self.settings
        return ProjectAdminService(
            self.account_stores,
            self.accounts,
            self.mailer,
            site_url=s.site_url,
            email_from=s.email_from,
        )

    # --- analyzer (schedules, flips, alert rules, alert events) ---
    @cached_property
    def alert_bus(self) -> AlertBus:
        """SNS when ALERT_TOPIC_ARN is set (AWS), else the in-process LocalAlertBus."""
        if self.settings.alert_topic_arn:
            from .adapters.sns import SnsAlertBus

            return SnsAlertBus(self.settings.alert_topic_arn)
        from .adapters.memory import LocalAlertBus

        return LocalAlertBus()

    @cached_property
    def _analyzer_sql(self) -> SqlAnalyzerStore:
        from .adapters.sql.analyzer_store import SqlAnalyzerStore

        return SqlAnalyzerStore(self.engine)

    @property
    def analyzer_store(self) -> AnalyzerStore:
        """Due checks, flips, assignment state, the alert-event outbox."""
        return self._analyzer_sql

    @property
    def maintenance_store(self) -> MaintenanceStore:
        """Maintenance windows (the same SQL adapter as the analyzer's)."""
        return self._analyzer_sql

    @cached_property
    def ingest_lag(self) -> IngestLag:
        """How far ingestion has caught up: heartbeats through SQS when PING_QUEUE_URL
        is set (AWS), else the oldest message of the local durable queue."""
        from .adapters.lag import HeartbeatLag, LocalQueueLag

        if self.settings.ping_queue_url:
            return HeartbeatLag(self.settings.ping_queue_url, self.check_store)
        return LocalQueueLag(self.local_queue.oldest_enqueued_at)

    @cached_property
    def analyzer(self) -> Analyzer:
        from .services.analyzing import Analyzer

        return Analyzer(
            self.analyzer_store,
            self.alert_bus,
            lag=self.ingest_lag,
            site_url=self.settings.site_url,
        )


def service_error(exc: BaseException) -> SrvpulseError | None:
    """What an exception a store raised means for the caller (a slug another check has
    -> 409, the database down -> 503, ...), or None when it is a bug."""
    from .adapters.sql.errors import service_error as sql_service_error

    return sql_service_error(exc)


def for_local(settings: Settings | None = None) -> Runtime:
    return Runtime(settings or Settings.from_env())


def for_aws(settings: Settings | None = None) -> Runtime:
    s = settings or Settings.from_env({"SRVPULSE_MODE": "aws"})
    if not s.site_url and s.site_url_parameter:
        s = replace(s, site_url=read_site_url(s.site_url_parameter))
    return Runtime(s)


def read_site_url(name: str) -> str:
    """The site URL from an SSM parameter (once per container: the runtime is cached)."""
    import boto3

    value = boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    return str(value).rstrip("/")


_current: Runtime | None = None


def runtime() -> Runtime:
    """The process's runtime: the one installed by the local runner or a test, else one
    built from the environment (AWS Lambda sets SRVPULSE_MODE=aws)."""
    global _current
    if _current is None:
        settings = Settings.from_env()
        _current = for_aws(settings) if settings.mode == "aws" else for_local(settings)
    return _current


def install(rt: Runtime | None) -> None:
    """Make ``rt`` the process's runtime (local runner, tests); None forgets it."""
    global _current
    _current = rt
