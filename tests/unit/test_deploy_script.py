"""infra/deploy.sh with stub commands on PATH: each missing prerequisite is named with
what to do, before anything is built or deployed; with all of them it validates, builds
and deploys. The stubs (small shell scripts) log their arguments and answer like the
real tools for the calls the script makes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "infra" / "deploy.sh"
BASICS = ("bash", "dirname", "basename", "grep", "sed", "tr", "head", "cat", "env")

AWS_STUB = """#!/bin/bash
echo "aws $*" >> "$STUB_LOG"
case "$1 $2" in
  "configure get") echo "${STUB_REGION:-}"; [ -n "${STUB_REGION:-}" ] ;;
  "sts get-caller-identity")
    [ -n "${STUB_NO_CREDENTIALS:-}" ] && { echo "Unable to locate credentials" >&2; exit 255; }
    echo 123456789012 ;;
  "sesv2 get-email-identity") echo "${STUB_SES_VERIFIED:-True}" ;;
  "lambda get-account-settings") echo "${STUB_QUOTA:-1000}" ;;
  "cloudformation describe-stacks")
    case "$*" in
      *DashboardBucketName*) echo srvpulse-dashboard-bucket ;;
      *DashboardDistributionId*) echo E2DISTRIBUTION ;;
    esac ;;
esac
"""
LOGGING_STUB = '#!/bin/bash\necho "$(basename "$0") $*" >> "$STUB_LOG"\n'


def run(
    tmp_path: Path, stubs: tuple[str, ...], *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in BASICS:
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    for stub in stubs:
        path = bin_dir / stub
        path.write_text(AWS_STUB if stub == "aws" else LOGGING_STUB)
        path.chmod(0o755)
    (tmp_path / "log").touch()
    environment = {"PATH": str(bin_dir), "STUB_LOG": str(tmp_path / "log"), "HOME": str(tmp_path)}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def calls(tmp_path: Path) -> list[str]:
    return (tmp_path / "log").read_text().splitlines()


ALL = ("sam", "make", "python3.11", "aws", "npm")
OVERRIDES = "SiteUrl=https://srvpulse.example.com SesIdentity=example.com EmailFrom=a@example.com"


def test_on_a_bare_machine_every_missing_tool_is_named_and_nothing_runs(tmp_path: Path) -> None:
    result = run(tmp_path, ())
    assert result.returncode == 2
    for what in ("SAM CLI", "make not found", "python3.11 not found", "AWS CLI", "npm not found"):
        assert what in result.stderr, what
    assert "nothing was changed" in result.stderr
    assert "infra/README.md" in result.stderr
    assert calls(tmp_path) == []


@pytest.mark.parametrize(
    ("tool", "named"),
    [
        ("sam", "SAM CLI ('sam') not found: pip install aws-sam-cli"),
        ("make", "make not found"),
        ("python3.11", "python3.11 not found on PATH"),
        ("aws", "AWS CLI ('aws') not found"),
        ("npm", "npm not found: the dashboard (frontend/) is built with Node.js"),
    ],
)
def test_each_missing_tool_alone_is_named(tmp_path: Path, tool: str, named: str) -> None:
    others = tuple(t for t in ALL if t != tool)
    result = run(tmp_path, others, AWS_REGION="eu-west-1", SAM_PARAMETER_OVERRIDES=OVERRIDES)
    assert result.returncode == 2
    (problem,) = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert problem.startswith("  - " + named)
    assert not any(c.startswith("sam ") for c in calls(tmp_path))


def test_without_a_region_or_credentials_it_says_how_to_set_them(tmp_path: Path) -> None:
    no_region = run(tmp_path, ALL)
    assert no_region.returncode == 2 and "no AWS region" in no_region.stderr
    no_keys = run(tmp_path, ALL, AWS_REGION="eu-west-1", STUB_NO_CREDENTIALS="1")
    assert no_keys.returncode == 2
    assert "no usable AWS credentials" in no_keys.stderr
    assert "Unable to locate credentials" in no_keys.stderr


def test_a_first_deploy_without_parameters_is_sent_to_the_guided_mode(tmp_path: Path) -> None:
    result = run(tmp_path, ALL, AWS_REGION="eu-west-1")
    assert result.returncode == 2
    assert "run 'infra/deploy.sh --guided' the first time" in result.stderr


def test_an_unverified_ses_identity_is_named_before_deploying(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ALL,
        AWS_REGION="eu-west-1",
        SAM_PARAMETER_OVERRIDES=OVERRIDES,
        STUB_SES_VERIFIED="False",
    )
    assert result.returncode == 2
    assert "SES identity 'example.com' is not verified for sending in eu-west-1" in result.stderr
    assert "aws sesv2 get-email-identity --email-identity example.com --region eu-west-1 " + (
        "--query VerifiedForSendingStatus --output text"
    ) in calls(tmp_path)


def test_a_new_accounts_concurrency_quota_gets_the_parameters_that_fit_it(
    tmp_path: Path,
) -> None:
    small = run(
        tmp_path, ALL, AWS_REGION="eu-west-1", SAM_PARAMETER_OVERRIDES=OVERRIDES, STUB_QUOTA="10"
    )
    assert small.returncode == 2
    assert "quota is 10, too small to reserve 51" in small.stderr
    assert "PingReservedConcurrency=0 AnalyzerReservedConcurrency=0" in small.stderr
    fitting = OVERRIDES + " PingReservedConcurrency=0 AnalyzerReservedConcurrency=0"
    ok = run(
        tmp_path, ALL, AWS_REGION="eu-west-1", SAM_PARAMETER_OVERRIDES=fitting, STUB_QUOTA="10"
    )
    assert ok.returncode == 0, ok.stderr


def test_with_everything_in_place_it_validates_builds_and_deploys(tmp_path: Path) -> None:
    result = run(tmp_path, ALL, AWS_REGION="eu-west-1", SAM_PARAMETER_OVERRIDES=OVERRIDES)
    assert result.returncode == 0, result.stderr
    sam = [c for c in calls(tmp_path) if c.startswith("sam ")]
    assert [c.split()[1] for c in sam] == ["validate", "build", "deploy", "list"]
    assert "--parameter-overrides SiteUrl=https://srvpulse.example.com" in sam[2]
    assert "--region eu-west-1" in sam[2]


def test_the_guided_first_deploy_needs_no_parameters_yet(tmp_path: Path) -> None:
    result = run(tmp_path, ALL, "--guided", AWS_REGION="eu-west-1")
    assert result.returncode == 0, result.stderr
    deploy = [c for c in calls(tmp_path) if c.startswith("sam deploy")]
    assert deploy and "--guided" in deploy[0]


def test_the_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)


def test_the_dashboard_is_built_before_and_uploaded_after_the_stack_with_its_cache_headers(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, ALL, AWS_REGION="eu-west-1", SAM_PARAMETER_OVERRIDES=OVERRIDES)
    assert result.returncode == 0, result.stderr
    log = calls(tmp_path)
    steps = [c for c in log if c.startswith(("sam ", "make ", "aws s3", "aws cloudfront"))]
    assert [" ".join(c.split()[:2]) for c in steps] == [
        "sam validate",
        "make --no-print-directory",
        "sam build",
        "sam deploy",
        "aws s3",
        "aws s3",
        "aws cloudfront",
        "sam list",
    ]
    assets, pages, invalidation = steps[4], steps[5], steps[6]
    assert "frontend/dist/assets s3://srvpulse-dashboard-bucket/assets" in assets
    assert "--cache-control public, max-age=31536000, immutable" in assets
    assert "--delete" not in assets
    assert "s3://srvpulse-dashboard-bucket " in pages + " "
    assert "--exclude assets/* --delete --cache-control no-cache" in pages
    assert "--distribution-id E2DISTRIBUTION --paths /*" in invalidation
