"""GitLab CI (.gitlab-ci.yml): stages that gate, the README's test command on MariaDB,
the SQL tests on MySQL 8.4, the dashboard's npm scripts, and a deploy only by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pipeline() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    return loaded


def _jobs() -> dict[str, dict[str, Any]]:
    return {
        name: job
        for name, job in _pipeline().items()
        if isinstance(job, dict) and not name.startswith(".") and "script" in job
    }


def _job(name: str) -> dict[str, Any]:
    """A job with what it `extends` merged in (one level, as this file uses it)."""
    pipeline = _pipeline()
    job = dict(pipeline[name])
    base = job.pop("extends", None)
    return {**pipeline[base], **job} if base else job


def test_the_stages_gate_lint_then_test_then_deploy() -> None:
    pipeline = _pipeline()
    assert pipeline["stages"] == ["lint", "test", "deploy"]
    assert pipeline["default"]["image"] == "python:3.11"
    assert pipeline["variables"]["CI"] == "true"  # a missing MariaDB fails, never skips
    for name, job in _jobs().items():
        # `needs` would let a job start before the stage before it passed.
        assert "needs" not in job, name
        assert job.get("stage") in pipeline["stages"], name


def test_the_test_job_runs_the_readme_command_against_a_mariadb_service() -> None:
    job = _job("test")
    assert job["stage"] == "test"
    assert job["script"] == ["make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "`make test`" in (ROOT / "README.md").read_text()
    (service,) = job["services"]
    assert service["name"].startswith("mariadb:")
    assert f"@{service['alias']}:3306" in job["variables"]["SRVPULSE_TEST_MYSQL"]


def test_make_test_in_the_test_job_skips_only_what_other_jobs_ran() -> None:
    assert _job("lint")["script"] == ["make lint typecheck"]
    assert _job("test")["variables"]["SRVPULSE_LINTED"] == "true"
    makefile = (ROOT / "Makefile").read_text()
    checks = re.search(
        r"^ifeq \(\$\(SRVPULSE_LINTED\),true\)\nCHECKS :=\nDASHBOARD :=\nelse\n"
        r"CHECKS := (.*)\nDASHBOARD := (.*)\nendif$",
        makefile,
        re.M,
    )
    assert checks is not None
    assert checks.group(1).split() == [
        "lint",
        "typecheck",
        "frontend-lint",
        "frontend-typecheck",
        "frontend-test",
    ]
    assert checks.group(2) == "frontend-build"
    assert re.search(r"^test: \$\(CHECKS\) unit$", makefile, re.M)
    assert re.search(r"^unit: setup \$\(DASHBOARD\)$", makefile, re.M)
    # ... and those jobs exist: the static checks and the build in the lint stage.
    assert _job("frontend-lint")["artifacts"]["paths"] == ["frontend/dist/"]
    assert "npm run build" in _job("frontend-lint")["script"]
    assert any("chromium" in line for line in _job("test")["before_script"][1:])


def test_the_sql_tests_run_again_on_mysql_8_4_with_a_password_like_rds() -> None:
    job = _job("test-mysql")
    assert job["stage"] == "test"
    (service,) = job["services"]
    assert service["name"] == "mysql:8.4"
    password = service["variables"]["MYSQL_ROOT_PASSWORD"]
    assert job["variables"]["SRVPULSE_TEST_MYSQL"] == (
        f"mysql+pymysql://root:{password}@{service['alias']}:3306"
    )
    assert job["script"][-1] == ".venv/bin/pytest -m mysql"
    # caching_sha2_password's full authentication without TLS needs it, on AWS too.
    for requirements in ("requirements.txt", "layers/core/requirements.txt"):
        assert re.search(r"^cryptography==", (ROOT / requirements).read_text(), re.M)


def test_the_dashboard_jobs_run_its_npm_scripts_once_it_exists() -> None:
    lint, test = _job("frontend-lint"), _job("frontend-test")
    assert (lint["stage"], test["stage"]) == ("lint", "test")
    assert lint["image"] == test["image"] == "node:20"
    assert lint["rules"] == [{"exists": ["frontend/package.json"]}]
    assert lint["script"] == ["npm run lint", "npm run typecheck", "npm run build"]
    assert test["script"] == ["npm run test"]
    package = ROOT / "frontend" / "package.json"
    if package.exists():  # the jobs call scripts that must be there
        scripts = json.loads(package.read_text()).get("scripts", {})
        assert {"lint", "typecheck", "test", "build"} <= set(scripts)


def test_deploying_is_manual_from_the_default_branch_through_the_deploy_script() -> None:
    job = _job("deploy")
    assert job["stage"] == "deploy"
    assert job["when"] == "manual"
    assert job["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert job["script"][-1] == "bash infra/deploy.sh"
    assert (ROOT / "infra" / "deploy.sh").stat().st_mode & 0o111
