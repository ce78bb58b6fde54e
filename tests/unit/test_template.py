"""The AWS deployment (template.yaml) as CloudFormation will see it.

The SAM template is translated with samtranslator, as `sam deploy` would after packaging
(local CodeUris become S3 URIs), and the result is linted with cfn-lint: cfn-lint on the
SAM source alone does not see errors inside SAM events. The assertions check the
properties the product relies on. No AWS account or Docker is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from srvpulse.notifiers import KINDS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
API_BUILD = ROOT / "infra" / "api-build"
REGION = "eu-west-1"


def _load_sam() -> dict[str, Any]:
    template, problems = decode_str(TEMPLATE.read_text())
    assert not problems, problems
    loaded: dict[str, Any] = template
    return loaded


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    return _load_sam()


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    """The template translated to plain CloudFormation, after a simulated `sam package`."""
    template = _load_sam()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://srvpulse-artifacts/{props[key].strip('/')}.zip"
    session = boto3.session.Session(region_name=REGION)
    translator = Translator(None, Parser(), boto_session=session)
    translated: dict[str, Any] = translator.translate(
        template, {}, get_managed_policy_map=lambda: {}
    )
    return translated


def _of_type(cfn: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == kind}


def _function(cfn: dict[str, Any], name: str) -> dict[str, Any]:
    resource = cfn["Resources"][name]
    assert resource["Type"] == "AWS::Lambda::Function"
    props: dict[str, Any] = resource["Properties"]
    return props


def _statements(cfn: dict[str, Any], function: str) -> list[dict[str, Any]]:
    """Every statement the function's role may have (both branches of a condition)."""
    role = cfn["Resources"][f"{function}Role"]["Properties"]
    policies = []
    for p in role.get("Policies", []):
        if "Fn::If" in p:  # a policy granted only under a condition
            policies += [
                b for b in p["Fn::If"][1:] if isinstance(b, dict) and "PolicyDocument" in b
            ]
        else:
            policies.append(p)
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def _refers_to(value: Any, logical_id: str) -> bool:
    """Whether an intrinsic-function value mentions the resource ``logical_id``."""
    return logical_id in json.dumps(value)


def _filter_matches(policy: dict[str, Any], attributes: dict[str, str]) -> bool:
    """SNS filter policy semantics for the operators the template uses."""
    for key, allowed in policy.items():
        if key not in attributes:
            return False
        value = attributes[key]
        ok = False
        for rule in allowed:
            if isinstance(rule, str):
                ok = ok or value == rule
            elif "anything-but" in rule:
                ok = ok or value not in rule["anything-but"]
            else:
                raise AssertionError(f"filter operator not understood by this test: {rule}")
        if not ok:
            return False
    return True


def test_the_translated_template_passes_cfn_lint(cfn: dict[str, Any]) -> None:
    matches = lint(json.dumps(cfn), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_the_sam_source_passes_cfn_lint() -> None:
    matches = lint(TEMPLATE.read_text(), config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_every_function_runs_python_3_11_on_arm64_with_the_core_layer(
    cfn: dict[str, Any],
) -> None:
    functions = _of_type(cfn, "AWS::Lambda::Function")
    layers = _of_type(cfn, "AWS::Lambda::LayerVersion")
    assert len(layers) == 1
    (layer_id,) = layers
    assert layers[layer_id]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert len(functions) >= 6
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.11", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Layers"] == [{"Ref": layer_id}], name
        assert props["Environment"]["Variables"]["SRVPULSE_MODE"] == "aws", name


def test_each_function_ships_only_its_own_folder_never_the_repository(
    sam: dict[str, Any],
) -> None:
    functions = {
        name: r for name, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }
    for name, function in functions.items():
        props = function["Properties"]
        folder = (ROOT / props["CodeUri"]).resolve()
        assert folder != ROOT, f"{name}: CodeUri is the repository root"
        assert folder.is_dir(), f"{name}: {props['CodeUri']} does not exist"
        assert folder.parent.name in ("functions", "infra"), name
        module = props["Handler"].rsplit(".", 1)[0]
        if function.get("Metadata", {}).get("BuildMethod") == "makefile":
            makefile = (folder / "Makefile").read_text()
            assert f"build-{name}:" in makefile, name
        else:
            assert (folder / f"{module.replace('.', '/')}.py").is_file(), (
                f"{name}: {props['Handler']} is not in {props['CodeUri']}"
            )
    layer = sam["Resources"]["CoreLayer"]
    assert layer["Properties"]["ContentUri"].strip("/") == "layers/core"
    assert layer["Metadata"] == {"BuildMethod": "python3.11", "BuildArchitecture": "arm64"}


def test_pings_reach_the_ping_function_through_an_http_api_with_payload_2(
    cfn: dict[str, Any],
) -> None:
    (api,) = _of_type(cfn, "AWS::ApiGatewayV2::Api").values()
    paths = api["Properties"]["Body"]["paths"]
    assert set(paths) == {"/ping/{proxy+}"}
    integration = paths["/ping/{proxy+}"]["x-amazon-apigateway-any-method"][
        "x-amazon-apigateway-integration"
    ]
    assert integration["payloadFormatVersion"] == "2.0"
    assert _refers_to(integration["uri"], "PingFunction")
    env = _function(cfn, "PingFunction")["Environment"]["Variables"]
    assert _refers_to(env["PING_QUEUE_URL"], "PingQueue")


def test_the_management_api_is_a_rest_api_sending_every_path_to_the_chalice_entry(
    cfn: dict[str, Any], sam: dict[str, Any]
) -> None:
    (api,) = _of_type(cfn, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    assert set(paths) == {"/", "/{proxy+}"}
    for path in paths.values():
        integration = path["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"  # payload v1, what Chalice understands
        assert _refers_to(integration["uri"], "ApiFunction")
    api_function = sam["Resources"]["ApiFunction"]
    assert api_function["Metadata"]["BuildMethod"] == "makefile"
    assert api_function["Properties"]["Handler"] == "api_entry.handler"


def test_ingest_consumes_the_ping_queue_with_partial_batch_failures(
    cfn: dict[str, Any],
) -> None:
    (mapping,) = _of_type(cfn, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": "IngestFunction"}
    assert _refers_to(props["EventSourceArn"], "PingQueue")
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 10 < props["BatchSize"] <= 10_000
    # SQS batches above 10 records need a batching window.
    assert 0 < props["MaximumBatchingWindowInSeconds"] <= 5
    assert "MaximumConcurrency" in props["ScalingConfig"]


def test_a_ping_is_retried_through_an_hour_long_database_outage_before_the_dlq(
    cfn: dict[str, Any],
) -> None:
    queue = cfn["Resources"]["PingQueue"]["Properties"]
    redrive = queue["RedrivePolicy"]
    assert _refers_to(redrive["deadLetterTargetArn"], "PingDeadLetterQueue")
    # A failed record is received again after the visibility timeout: the retries of
    # one message must outlast a one-hour outage, and the queue must keep it that long.
    retrying = redrive["maxReceiveCount"] * queue["VisibilityTimeout"]
    assert retrying >= 3600 + queue["VisibilityTimeout"]
    assert queue["MessageRetentionPeriod"] > retrying
    ingest = _function(cfn, "IngestFunction")
    batching = 1
    # No redelivery while a batch still runs: AWS's advice is 6x the function timeout.
    assert queue["VisibilityTimeout"] >= 6 * ingest["Timeout"] + batching
    dlq = cfn["Resources"]["PingDeadLetterQueue"]["Properties"]
    assert dlq["MessageRetentionPeriod"] > queue["MessageRetentionPeriod"]


def test_an_express_state_machine_runs_analyzer_passes_every_few_seconds(
    cfn: dict[str, Any],
) -> None:
    (rule,) = _of_type(cfn, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    (target,) = rule["Properties"]["Targets"]
    assert _refers_to(target["Arn"], "AnalyzerLoop")
    assert target["Input"] == {
        "Fn::FindInMap": ["AnalyzerPasses", {"Ref": "AnalyzerPassSeconds"}, "Input"]
    }
    loop = cfn["Resources"]["AnalyzerLoop"]["Properties"]
    assert loop["StateMachineType"] == "EXPRESS"  # billed by duration at 64 MB, not 512
    definition = json.loads("\n".join(loop["DefinitionString"]["Fn::Join"][1]))
    passes = definition["States"]["Passes"]
    assert (passes["Type"], passes["ItemsPath"], passes["MaxConcurrency"]) == ("Map", "$.passes", 1)
    step = passes["ItemProcessor"]["States"]["Pass"]
    assert step["Parameters"]["Payload"] == {"single_pass": True}
    assert step["Parameters"]["FunctionName"] == "${AnalyzerFunctionArn}"
    assert _refers_to(loop["DefinitionSubstitutions"]["AnalyzerFunctionArn"], "AnalyzerFunction")
    assert step["Catch"][0]["ErrorEquals"] == ["States.ALL"]  # one bad pass never ends the loop
    assert passes["ItemProcessor"]["States"]["Wait"]["SecondsPath"] == "$.wait"
    # Every choice of AnalyzerPassSeconds: passes that far apart, all within the minute.
    choices = cfn["Parameters"]["AnalyzerPassSeconds"]["AllowedValues"]
    assert set(cfn["Mappings"]["AnalyzerPasses"]) == set(choices)
    for seconds in choices:
        waits = [
            p["wait"]
            for p in json.loads(cfn["Mappings"]["AnalyzerPasses"][seconds]["Input"])["passes"]
        ]
        assert waits[-1] == 0 and set(waits[:-1]) <= {int(seconds)}, seconds
        assert len(waits) == 60 // int(seconds), seconds
    analyzer = _function(cfn, "AnalyzerFunction")
    assert analyzer["Timeout"] < 60
    assert analyzer["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveAnalyzer", 1, {"Ref": "AWS::NoValue"}]
    }
    assert _refers_to(analyzer["Environment"]["Variables"]["ALERT_TOPIC_ARN"], "AlertTopic")


def test_pings_also_have_a_function_url_throttled_by_reserved_concurrency(
    cfn: dict[str, Any],
) -> None:
    (url,) = _of_type(cfn, "AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE"
    assert _refers_to(url["Properties"]["TargetFunctionArn"], "PingFunction")
    ping = _function(cfn, "PingFunction")
    assert ping["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReservePing", {"Ref": "PingReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    # No START/END/REPORT line per ping in CloudWatch Logs.
    assert ping["LoggingConfig"]["SystemLogLevel"] == "WARN"
    # The URL users are shown follows PingEndpoint unless PingUrl names one.
    for name in ("ApiFunction", "EmailAlerterFunction", "WebAlerterFunction"):
        shown = json.dumps(_function(cfn, name)["Environment"]["Variables"]["PING_URL"])
        assert "PingViaFunctionUrl" in shown and "PingFunctionUrl.FunctionUrl" in shown, name


def test_rds_proxy_is_an_option_off_by_default_in_front_of_the_stacks_database(
    cfn: dict[str, Any],
) -> None:
    assert cfn["Parameters"]["UseDatabaseProxy"]["Default"] == "false"
    proxy = cfn["Resources"]["DatabaseProxy"]
    assert proxy["Condition"] == "ConnectThroughProxy"
    assert proxy["Properties"]["EngineFamily"] == "MYSQL"
    assert _refers_to(proxy["Properties"]["Auth"], "DatabaseSecret")
    targets = cfn["Resources"]["DatabaseProxyTargets"]["Properties"]
    assert _refers_to(targets["DBInstanceIdentifiers"], "Database")
    url = json.dumps(_function(cfn, "IngestFunction")["Environment"]["Variables"]["DATABASE_URL"])
    assert "ConnectThroughProxy" in url and "DatabaseProxy" in url


def test_every_channel_kind_reaches_exactly_one_alerter(cfn: dict[str, Any]) -> None:
    subscriptions = _of_type(cfn, "AWS::SNS::Subscription")
    assert len(subscriptions) >= 2
    for sub in subscriptions.values():
        props = sub["Properties"]
        assert props["Protocol"] == "lambda"
        assert props["TopicArn"] == {"Ref": "AlertTopic"}
        assert props["FilterPolicyScope"] == "MessageAttributes"
    receivers = {
        kind: [
            sub["Properties"]["Endpoint"]["Fn::GetAtt"][0]
            for sub in subscriptions.values()
            if _filter_matches(sub["Properties"]["FilterPolicy"], {"channel_kind": kind})
        ]
        for kind in [*KINDS, "a-kind-added-later"]
    }
    assert all(len(functions) == 1 for functions in receivers.values()), receivers
    assert receivers["email"] == ["EmailAlerterFunction"]


def test_undeliverable_alerts_end_in_the_alert_dead_letter_queue(cfn: dict[str, Any]) -> None:
    subscriptions = _of_type(cfn, "AWS::SNS::Subscription")
    for sub in subscriptions.values():
        target = sub["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        assert _refers_to(target, "AlertDeadLetterQueue")
        function = sub["Properties"]["Endpoint"]["Fn::GetAtt"][0]
        invoke = cfn["Resources"][f"{function}EventInvokeConfig"]["Properties"]
        on_failure = invoke["DestinationConfig"]["OnFailure"]
        assert _refers_to(on_failure["Destination"], "AlertDeadLetterQueue")
        assert 0 < invoke["MaximumRetryAttempts"] <= 2
    policy = cfn["Resources"]["AlertDeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {"Ref": "AlertTopic"}


def test_each_function_may_do_only_its_own_job(cfn: dict[str, Any]) -> None:
    by_function = {name: _statements(cfn, name) for name in _of_type(cfn, "AWS::Lambda::Function")}
    for name, statements in by_function.items():
        for statement in statements:
            assert statement["Resource"] != "*", f"{name}: {statement}"
            assert not any(a in ("*", "sqs:*", "sns:*", "ses:*") for a in _actions(statement))
    granted = {
        name: {a.split(":")[0] for s in statements for a in _actions(s)}
        for name, statements in by_function.items()
    }
    # s3: the ping edge's set of known targets (read by the ping function, written by
    # the API and ingest), and nothing else of S3.
    assert granted["PingFunction"] == {"sqs", "s3"}
    assert granted["IngestFunction"] == {"sqs", "s3", "secretsmanager"}  # + InfluxDB credentials
    s3_actions = {
        name: {a for s in statements for a in _actions(s) if a.startswith("s3:")}
        for name, statements in by_function.items()
    }
    assert s3_actions["PingFunction"] == {"s3:GetObject", "s3:ListBucket"}
    for writer in ("IngestFunction", "ApiFunction"):
        assert s3_actions[writer] == {"s3:GetObject", "s3:PutObject", "s3:ListBucket"}
    assert all(
        not found
        for name, found in s3_actions.items()
        if name not in ("PingFunction", "IngestFunction", "ApiFunction")
    )
    assert granted["AnalyzerFunction"] == {"sns", "sqs"}  # sqs: its ingest heartbeats
    assert granted["EmailAlerterFunction"] == {"ses", "sqs"}  # sqs: its DLQ destination
    assert granted["MigrateFunction"] == set()
    (send,) = [
        s for s in by_function["PingFunction"] if any(a.startswith("sqs:") for a in _actions(s))
    ]
    assert all(a.startswith("sqs:SendMessage") for a in _actions(send))
    (consume,) = [
        s for s in by_function["IngestFunction"] if any(a.startswith("sqs:") for a in _actions(s))
    ]
    assert "sqs:SendMessage" not in _actions(consume)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= _actions(consume)
    publish, heartbeat = by_function["AnalyzerFunction"]
    assert _actions(publish) == {"sns:Publish"}
    assert all(a.startswith("sqs:SendMessage") for a in _actions(heartbeat))
    assert "PingQueue" in json.dumps(heartbeat["Resource"])
    for name in ("EmailAlerterFunction", "WebAlerterFunction", "ApiFunction"):
        ses = [s for s in by_function[name] if "ses:SendEmail" in _actions(s)]
        assert ses and all(":identity/" in json.dumps(s["Resource"]) for s in ses), name


def test_the_ping_function_stays_outside_the_vpc_and_away_from_the_database(
    cfn: dict[str, Any],
) -> None:
    ping = _function(cfn, "PingFunction")
    assert "VpcConfig" not in ping
    assert ping["Environment"]["Variables"]["DATABASE_URL"] == ""
    for name in ("IngestFunction", "AnalyzerFunction", "ApiFunction", "MigrateFunction"):
        function = _function(cfn, name)
        assert "VpcConfig" in function, name
        url = json.dumps(function["Environment"]["Variables"]["DATABASE_URL"])
        assert "mysql+pymysql://" in url
        # Deploy-time dynamic references: no password in the template or its parameters.
        assert url.count("{{resolve:secretsmanager:") == 2, name


def test_the_database_is_private_encrypted_and_kept_on_delete(cfn: dict[str, Any]) -> None:
    db = cfn["Resources"]["Database"]
    assert db["Condition"] == "CreateDatabase"
    assert db["DeletionPolicy"] == "Snapshot"
    props = db["Properties"]
    assert props["PubliclyAccessible"] is False
    assert props["StorageEncrypted"] is True
    assert "{{resolve:secretsmanager:" in json.dumps(props["MasterUserPassword"])
    ingress = cfn["Resources"]["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [rule["SourceSecurityGroupId"] for rule in ingress] == [{"Ref": "LambdaSecurityGroup"}]


def test_a_deploy_migrates_the_schema_before_the_new_code_uses_it(cfn: dict[str, Any]) -> None:
    migration = cfn["Resources"]["SchemaMigration"]
    props = migration["Properties"]
    assert props["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    # Re-run whenever the layer, which holds the migrations, is a new version.
    (layer_id,) = _of_type(cfn, "AWS::Lambda::LayerVersion")
    assert props["CoreLayerVersion"] == {"Ref": layer_id}
    assert props["ServiceTimeout"] <= 900
    for name, function in _of_type(cfn, "AWS::Lambda::Function").items():
        uses_database = _function(cfn, name)["Environment"]["Variables"]["DATABASE_URL"] != ""
        if uses_database and name != "MigrateFunction":
            assert function.get("DependsOn") == "SchemaMigration", name


def test_the_outputs_give_the_api_and_ping_urls(cfn: dict[str, Any]) -> None:
    outputs = cfn["Outputs"]
    assert "execute-api" in json.dumps(outputs["ApiUrl"]["Value"])
    assert "/ping/" in json.dumps(outputs["PingUrl"]["Value"])
    assert "MigrateFunctionName" in outputs


def _requirements(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0].lower()
        pins[name] = line.replace(" ", "")
    return pins


def test_the_layer_ships_the_same_runtime_pins_as_the_top_level_requirements() -> None:
    top = _requirements(ROOT / "requirements.txt")
    layer = _requirements(ROOT / "layers" / "core" / "requirements.txt")
    assert {name: pin for name, pin in layer.items() if name in top} == top, (
        "layers/core/requirements.txt must pin every runtime dependency of requirements.txt "
        "the same way: the layer is what AWS runs"
    )
    # Anything else in the layer file only holds back a transitive dependency.
    held_back = set(layer) - set(top)
    assert held_back <= {"argon2-cffi-bindings", "greenlet"}, held_back


def test_the_api_build_copies_only_the_app_its_library_and_the_entry_point(
    tmp_path: Path,
) -> None:
    artifacts = tmp_path / "ApiFunction"
    subprocess.run(
        ["make", "-s", "-f", str(API_BUILD / "Makefile"), "build-ApiFunction"],
        cwd=tmp_path,  # SAM runs make from a scratch copy, not from the repository
        env={"ARTIFACTS_DIR": str(artifacts), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    top_level = {p.name for p in artifacts.iterdir()}
    assert top_level == {"app.py", "api_entry.py", "chalicelib"}
    shipped = {p.relative_to(artifacts).as_posix() for p in artifacts.rglob("*.py")}
    expected = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "chalicelib").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert shipped == expected | {"app.py", "api_entry.py"}
    assert not list(artifacts.rglob("__pycache__"))


# ---------------------------------------------------------------- the API entry point


def _api_entry() -> Any:
    sys.path.insert(0, str(API_BUILD))
    try:
        import api_entry
    finally:
        sys.path.remove(str(API_BUILD))
    return api_entry


def _rest_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """A REST API (payload 1.0) event as API Gateway sends it for the /{proxy+} resource."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "abc123.execute-api.eu-west-1.amazonaws.com", "X-Api-Key": "k"},
        "multiValueHeaders": {
            "Host": ["abc123.execute-api.eu-west-1.amazonaws.com"],
            "X-Api-Key": ["k"],
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8.5.0"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture(scope="module")
def checks_app() -> Any:
    from chalice.app import Chalice

    app = Chalice(app_name="routing-test")

    @app.route("/api/v3/checks/", methods=["GET", "POST"])
    def checks() -> dict[str, Any]:
        assert app.current_request is not None
        return {"route": "list", "method": app.current_request.method}

    @app.route("/api/v3/checks/{uuid}", methods=["GET", "DELETE"])
    def check(uuid: str) -> dict[str, Any]:
        return {"route": "one", "uuid": uuid}

    @app.route("/api/v3/checks/{uuid}/pings/{n}/body", methods=["GET"])
    def ping_body(uuid: str, n: str) -> dict[str, Any]:
        return {"route": "body", "uuid": uuid, "n": n}

    @app.route("/api/v3/checks/stats", methods=["GET"])
    def stats() -> dict[str, Any]:
        return {"route": "stats"}

    return app


def _call(checks_app: Any, method: str, path: str) -> tuple[int, Any]:
    reply = _api_entry().route(checks_app, _rest_event(method, path), None)
    return reply["statusCode"], json.loads(reply["body"])


def test_a_greedy_proxy_request_reaches_the_chalice_route_with_its_parameters(
    checks_app: Any,
) -> None:
    uuid = "5a4c8a43-3e2b-4d33-9b0f-3f1b5b1f0d11"
    assert _call(checks_app, "GET", f"/api/v3/checks/{uuid}") == (
        200,
        {"route": "one", "uuid": uuid},
    )
    assert _call(checks_app, "GET", f"/api/v3/checks/{uuid}/pings/3/body") == (
        200,
        {"route": "body", "uuid": uuid, "n": "3"},
    )
    assert _call(checks_app, "POST", "/api/v3/checks/") == (
        200,
        {"route": "list", "method": "POST"},
    )


def test_a_literal_route_wins_over_a_parameter_and_slashes_do_not_matter(
    checks_app: Any,
) -> None:
    assert _call(checks_app, "GET", "/api/v3/checks/stats") == (200, {"route": "stats"})
    assert _call(checks_app, "GET", "/api/v3/checks")[1]["route"] == "list"


def test_an_unknown_path_is_a_json_404_and_a_wrong_method_a_405(checks_app: Any) -> None:
    status, body = _call(checks_app, "GET", "/api/v3/nothing/here")
    assert (status, body) == (404, {"error": "not found"})
    status, _ = _call(checks_app, "PUT", "/api/v3/checks/abc")
    assert status == 405


def test_every_route_of_the_real_app_is_reachable_through_the_proxy() -> None:
    sys.path.insert(0, str(ROOT))
    try:
        from app import app
    finally:
        sys.path.remove(str(ROOT))
    routes = _api_entry().routes_of(app)
    for pattern in app.routes:
        path = re.sub(r"\{[^}]+\}", "x1", pattern)
        found = routes.match(path)
        assert found is not None and found[0] == pattern, (pattern, found)


def test_only_ingest_and_the_api_may_read_the_influxdb_secret_and_only_when_given(
    cfn: dict[str, Any],
) -> None:
    readers = {
        name
        for name in _of_type(cfn, "AWS::Lambda::Function")
        for s in _statements(cfn, name)
        if "secretsmanager:GetSecretValue" in _actions(s)
    }
    assert readers == {"IngestFunction", "ApiFunction"}
    for name in readers:
        role = cfn["Resources"][f"{name}Role"]["Properties"]
        (conditional,) = [p for p in role["Policies"] if "Fn::If" in p]
        condition, granted, otherwise = conditional["Fn::If"]
        assert condition == "HasInfluxSecret" and otherwise == {"Ref": "AWS::NoValue"}
        (statement,) = granted["PolicyDocument"]["Statement"]
        assert statement["Resource"] == {"Ref": "InfluxSecretArn"}
    variables = _function(cfn, "IngestFunction")["Environment"]["Variables"]
    assert variables["INFLUX_SECRET_ARN"] == {"Ref": "InfluxSecretArn"}
    assert variables["SERIES_RETENTION_DAYS"] == {"Ref": "SeriesRetentionDays"}
    assert cfn["Parameters"]["SeriesRetentionDays"]["Default"] == 400


def test_series_lag_from_the_ingest_log_is_a_metric_with_an_alarm(cfn: dict[str, Any]) -> None:
    (metric,) = _of_type(cfn, "AWS::Logs::MetricFilter").values()
    props = metric["Properties"]
    assert props["LogGroupName"] == {"Ref": "IngestFunctionLogs"}
    assert "series_lag_s" in props["FilterPattern"]
    (transformation,) = props["MetricTransformations"]
    assert transformation["MetricValue"] == "$.series_lag_s"
    alarm = cfn["Resources"]["SeriesLagAlarm"]["Properties"]
    assert alarm["MetricName"] == transformation["MetricName"]
    assert alarm["Threshold"] == 900
