"""GitLab CI (.gitlab-ci.yml) runs what .ci/run runs, and deploys only by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pipeline() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    return loaded


def test_the_pipeline_lints_tests_and_then_deploys() -> None:
    pipeline = _pipeline()
    assert pipeline["stages"] == ["lint", "test", "deploy"]
    assert pipeline["default"]["image"] == "python:3.11"
    assert pipeline["variables"]["CI"] == "true"  # a missing MariaDB fails, never skips


def test_the_test_job_runs_the_readme_command_against_a_mariadb_service() -> None:
    job = _pipeline()["test"]
    assert job["script"] == ["make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    (service,) = job["services"]
    assert service["name"].startswith("mariadb:")
    assert f"@{service['alias']}:3306" in job["variables"]["SRVPULSE_TEST_MYSQL"]


def test_deploying_is_manual_from_the_default_branch_through_the_deploy_script() -> None:
    job = _pipeline()["deploy"]
    assert job["when"] == "manual"
    assert job["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert job["script"][-1] == "bash infra/deploy.sh"
    assert (ROOT / "infra" / "deploy.sh").stat().st_mode & 0o111
