"""On AWS without a custom domain, the API function finds the site URL (the dashboard's
CloudFront domain) in the SSM parameter the stack writes (template.yaml explains why it
cannot be an environment variable); moto plays SSM."""

from __future__ import annotations

import boto3
import pytest
from srvpulse import bootstrap
from srvpulse.settings import Settings


def test_the_site_url_is_read_from_its_parameter_when_the_environment_has_none(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # Lambda sets AWS_REGION
    ssm = boto3.client("ssm", region_name="eu-west-1")
    ssm.put_parameter(
        Name="/srvpulse/site-url", Value="https://d1abc.cloudfront.net/", Type="String"
    )
    env = {
        "SRVPULSE_MODE": "aws",
        "SITE_URL": "",
        "SITE_URL_PARAMETER": "/srvpulse/site-url",
    }
    runtime = bootstrap.for_aws(Settings.from_env(env))
    assert runtime.settings.site_url == "https://d1abc.cloudfront.net"


def test_a_given_site_url_is_used_as_it_is_without_asking_ssm(aws: None) -> None:
    env = {"SRVPULSE_MODE": "aws", "SITE_URL": "https://srvpulse.example.com"}
    runtime = bootstrap.for_aws(Settings.from_env(env))
    assert runtime.settings.site_url == "https://srvpulse.example.com"
