"""Every file in events/ (the events `sam local invoke` and infra/lambda_smoke.py use)
goes through its handler in-process, and the answer is asserted: the files cannot rot.

One walk through a day of a backup job, on SQLite and MariaDB: migrate, create checks
through the API, ping (to SQS as moto's server emulates it), ingest a batch, run the
analyzer, deliver an email (to a real SMTP server) and a webhook alert (to a real HTTP
receiver). env.json is checked against the template: SAM ignores variables a function
does not declare.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine, insert
from srvpulse import bootstrap
from srvpulse.adapters.sql.tables import channels, checks
from srvpulse.domain.model import PingMessage
from srvpulse.domain.schedule import MAX_GRACE, MAX_TIMEOUT
from srvpulse.local.runner import load_handler
from srvpulse.services.projects import ensure_default_project

from tests.alerting_peers import Reply, http_peer, smtp_peer
from tests.conftest import make_runtime

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
CHECK_UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
API_KEY = "sam-local-read-write-key-0001"  # the X-Api-Key of events/api-*.json
# The event files are dated 2026-12-01 (EVENT_DAY) and the handlers read the real
# clock: the test moves them to yesterday, so the walk means the same whenever it runs.
EVENT_DAY = "2026-12-01"
DAY = (datetime.now(UTC) - timedelta(days=1)).date()
NOW = datetime.combine(DAY, datetime.min.time(), UTC).replace(hour=2)

# Which function each event file is for (the prefix of its name), as in template.yaml.
FUNCTIONS = {
    "ping": "PingFunction",
    "ingest": "IngestFunction",
    "analyzer": "AnalyzerFunction",
    "alert": "WebAlerterFunction",  # alert-email.json: EmailAlerterFunction, same handler
    "api": "ApiFunction",
    "migrate": "MigrateFunction",
}


def event(name: str) -> dict[str, Any]:
    """The event file, its ISO dates moved from EVENT_DAY to yesterday."""
    text = (EVENTS / name).read_text().replace(EVENT_DAY, DAY.isoformat())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


class Context:
    """A Lambda context with a few seconds left (the analyzer repeats its pass within)."""

    function_name = "events-test"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:events-test"

    def get_remaining_time_in_millis(self) -> int:
        return 0


def api_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "infra" / "api-build"))
    try:
        import api_entry
    finally:
        sys.path.remove(str(ROOT / "infra" / "api-build"))
    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = api_entry.handler
    return handler


@pytest.fixture(scope="module")
def sqs_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    sqs = boto3.client(
        "sqs",
        region_name="eu-west-1",
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    yield sqs.create_queue(QueueName="srvpulse-pings")["QueueUrl"]
    server.stop()


def test_every_event_file_is_answered_by_its_handler(
    engine: Engine, tmp_path: Path, sqs_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # Lambda sets it; moto's URL names none
    invoked: set[str] = set()

    def invoke(module: str, name: str) -> Any:
        invoked.add(name)
        handler = api_handler() if module == "api" else load_handler(f"functions.{module}.handler")
        return handler(event(name), Context())

    with smtp_peer() as smtp, http_peer([Reply(200)]) as hook:
        rt = make_runtime(
            engine,
            data_dir=tmp_path,
            site_url="https://srvpulse.example.com",
            ping_queue_url=sqs_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            alert_private_targets=True,  # the webhook receiver is on 127.0.0.1
        )
        bootstrap.install(rt)
        try:
            # The schema is there already: migrating again is a no-op that says so.
            assert invoke("migrate", "migrate.json")["outcome"] == "migrated to the newest revision"
            project = ensure_default_project(rt.account_stores.projects, NOW, API_KEY)
            _seed(engine, project.project_id, hook.url)

            reply = invoke("api", "api-create-check.json")
            assert reply["statusCode"] == 201, reply
            assert json.loads(reply["body"])["name"] == "weekly-report"
            reply = invoke("api", "api-list-checks.json")
            assert reply["statusCode"] == 200, reply
            names = {c["name"] for c in json.loads(reply["body"])["checks"]}
            assert names == {"nightly-backup", "weekly-report"}

            for name in ("ping-start.json", "ping-success.json", "ping-fail-with-report.json"):
                reply = invoke("ping", name)
                assert (reply["statusCode"], reply["body"]) == (200, "OK"), name
            reply = invoke("ping", "ping-json-completion.json")
            assert (reply["statusCode"], reply["body"]) == (200, "OK")
            reply = invoke("ping", "ping-function-url.json")  # exit status 0, no route
            assert (reply["statusCode"], reply["body"]) == (200, "OK")
            reply = invoke("ping", "ping-malformed.json")
            # /ping/not-a-uuid is no ping URL: Healthchecks' 404 "not found".
            assert (reply["statusCode"], reply["body"]) == (404, "not found")
            queued = _receive_all(sqs_url)
            assert [(m.check_uuid, m.kind.value) for m in queued] == [
                (CHECK_UUID, "start"),
                (CHECK_UUID, "success"),
                (CHECK_UUID, "fail"),
                (CHECK_UUID, "success"),
                (CHECK_UUID, "success"),
            ]
            assert queued[3].summary == "db1: 3.2 GB in 2 min 41 s"
            assert queued[4].exit_status == 0

            batch = event("ingest-batch.json")["Records"]
            assert len({r["messageId"] for r in batch}) == len(batch) == 3
            assert invoke("ingest", "ingest-batch.json") == {"batchItemFailures": []}
            reply = invoke("api", "api-get-check.json")
            assert reply["statusCode"] == 200
            check = json.loads(reply["body"])
            assert (check["status"], check["n_pings"]) == ("up", 3)

            summary = invoke("analyzer", "analyzer-tick.json")
            assert summary["passes"] >= 1 and summary["flips"] == 0

            assert invoke("alerters", "alert-email.json") == {"results": {"sent": 1}}
            (mail,) = smtp.wait_for(1)
            assert mail.rcpt_tos == ["oncall@example.com"]
            assert "nightly-backup" in mail.message["Subject"]
            assert invoke("alerters", "alert-web.json") == {"results": {"sent": 1}}
            (request,) = hook.wait_for(1)
            assert request.body == b"nightly-backup: failed (exit status 1)"
        finally:
            bootstrap.install(None)
    assert invoked == {p.name for p in EVENTS.glob("*.json")}


def _seed(engine: Engine, project_id: int, hook_url: str) -> None:
    """The check the ping and alert events name, and the two channels of the alerts."""
    email, web = (event(f"alert-{k}.json")["Records"][0]["Sns"] for k in ("email", "web"))
    with engine.begin() as conn:
        conn.execute(
            insert(checks).values(
                uuid=CHECK_UUID,
                project_id=project_id,
                name="nightly-backup",
                created=NOW,
                # The pings are from yesterday (see event()): the longest period and
                # grace keep the check up whatever time of day the test runs.
                timeout=MAX_TIMEOUT,
                grace=MAX_GRACE,
            )
        )
        for sns, kind, config in (
            (email, "email", {"to": ["oncall@example.com"]}),
            (
                web,
                "webhook",
                {"down": {"url": hook_url, "method": "POST", "body": "$NAME: $REASON"}},
            ),
        ):
            alert = json.loads(sns["Message"])
            assert (
                sns["MessageAttributes"]["channel_kind"]["Value"] == alert["channel_kind"] == kind
            )
            conn.execute(
                insert(channels).values(
                    id=alert["channel_id"],
                    uuid=f"00000000-0000-4000-8000-00000000000{alert['channel_id']}",
                    project_id=project_id,
                    kind=kind,
                    name=f"ops {kind}",
                    config=json.dumps(config),
                    created=NOW,
                )
            )


def _receive_all(queue_url: str) -> list[PingMessage]:
    endpoint = queue_url.rsplit("/", 2)[0]
    sqs = boto3.client(
        "sqs",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    messages: list[PingMessage] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for m in batch:
            messages.append(PingMessage.from_json(m["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return sorted(messages, key=lambda m: m.received_at)


# ---------------------------------------------------------------- env.json


def _template() -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    def tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        return None

    yaml.add_multi_constructor("!", tag, Loader=Loader)
    loaded: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=Loader)
    return loaded


def test_env_json_sets_only_variables_the_template_declares_for_each_function() -> None:
    template = _template()
    env: dict[str, dict[str, str]] = json.loads((ROOT / "env.json").read_text())
    common = set(template["Globals"]["Function"]["Environment"]["Variables"])
    assert set(env.pop("Parameters")) <= common
    for function, variables in env.items():
        resource = template["Resources"][function]
        assert resource["Type"] == "AWS::Serverless::Function"
        own = resource["Properties"].get("Environment", {}).get("Variables", {})
        assert set(variables) <= common | set(own), function


def test_every_event_file_names_a_function_of_the_template() -> None:
    resources = _template()["Resources"]
    for path in EVENTS.glob("*.json"):
        assert FUNCTIONS[path.name.split("-")[0].removesuffix(".json")] in resources, path.name


def test_lambda_smoke_finds_the_template_function_and_handler_of_every_event_file() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "lambda_smoke", ROOT / "infra" / "lambda_smoke.py"
    )
    assert spec is not None and spec.loader is not None
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    resources = _template()["Resources"]
    for path in EVENTS.glob("*.json"):
        function, handler, file = smoke.resolve(path.stem)
        assert file == path
        assert function == FUNCTIONS[path.name.split("-")[0].removesuffix(".json")]
        assert resources[function]["Properties"]["Handler"] == handler, path.name


def test_the_ping_function_runs_from_a_build_layout_with_nothing_but_the_standard_library(
    tmp_path: Path,
) -> None:
    # A `sam build` output's shape: the function folder and the layer's python/ folder.
    # The ping path needs no third-party package, so links to the sources stand in.
    (tmp_path / "PingFunction").symlink_to(ROOT / "functions" / "ping")
    (tmp_path / "CoreLayer").mkdir()
    (tmp_path / "CoreLayer" / "python").symlink_to(ROOT / "layers" / "core")
    out = subprocess.run(
        [
            sys.executable,
            "-s",
            "-S",
            str(ROOT / "infra" / "lambda_smoke.py"),
            str(tmp_path),
            "ping-malformed",
        ],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "SRVPULSE_MODE": "aws"},
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["statusCode"] == 404
    assert "loaded: {'sqlalchemy': False, 'chalice': False, 'pydantic': False}" in out.stderr


class _LongContext(Context):
    def get_remaining_time_in_millis(self) -> int:
        return 25_000  # plenty: without single_pass the handler would loop for 22 s


def test_the_state_machines_invocation_makes_exactly_one_analyzer_pass(
    sqlite_engine: Engine,
) -> None:
    bootstrap.install(make_runtime(sqlite_engine))
    try:
        handler = load_handler("functions.analyzer.handler")
        summary = handler({"single_pass": True}, _LongContext())
    finally:
        bootstrap.install(None)
    assert summary["passes"] == 1
