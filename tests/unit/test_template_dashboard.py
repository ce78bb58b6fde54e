"""The dashboard's hosting in template.yaml (after samtranslator, like test_template.py):
a private bucket readable only by the distribution through origin access control, one
distribution for the SPA and /api/*, history-mode routing that leaves the API's JSON
404s alone, the local mode's page headers, and SITE_URL = the distribution's domain."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from srvpulse.local.spa import PAGE_HEADERS

from tests.unit.test_template import _function, _statements, cfn, sam  # noqa: F401

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5e84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _props(cfn: dict[str, Any], name: str) -> dict[str, Any]:  # noqa: F811
    props: dict[str, Any] = cfn["Resources"][name]["Properties"]
    return props


def _distribution(cfn: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    config: dict[str, Any] = _props(cfn, "DashboardDistribution")["DistributionConfig"]
    return config


def test_the_bucket_is_private_and_only_the_distribution_may_read_it(
    cfn: dict[str, Any],  # noqa: F811
) -> None:
    bucket = _props(cfn, "DashboardBucket")
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    statements = _props(cfn, "DashboardBucketPolicy")["PolicyDocument"]["Statement"]
    allow = [s for s in statements if s["Effect"] == "Allow"]
    (read,) = allow
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert set(read["Action"]) == {"s3:GetObject", "s3:ListBucket"}
    source = read["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert "${DashboardDistribution}" in json.dumps(source)
    oac = _props(cfn, "DashboardOriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")
    (s3_origin,) = [o for o in _distribution(cfn)["Origins"] if o["Id"] == "dashboard"]
    assert s3_origin["OriginAccessControlId"] == {
        "Fn::GetAtt": ["DashboardOriginAccessControl", "Id"]
    }
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_api_paths_go_to_the_rest_api_through_the_same_distribution_uncached(
    cfn: dict[str, Any],  # noqa: F811
) -> None:
    config = _distribution(cfn)
    (api,) = [o for o in config["Origins"] if o["Id"] == "api"]
    assert "${ManagementApi}.execute-api" in api["DomainName"]["Fn::Sub"]
    assert api["OriginPath"] == {"Fn::Sub": "/${Stage}"}
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    # The API, and Healthchecks' public badge and metrics URLs, which the API serves.
    assert set(behaviours) == {"/api/*", "/badge/*", "/b/*", "/projects/*/metrics*"}
    for public in ("/badge/*", "/b/*", "/projects/*/metrics*"):
        assert behaviours[public]["TargetOriginId"] == "api"
        assert behaviours[public]["CachePolicyId"] == CACHING_DISABLED
        assert "FunctionAssociations" not in behaviours[public]
    behaviour = behaviours["/api/*"]
    assert behaviour["TargetOriginId"] == "api"
    assert set(behaviour["AllowedMethods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "PATCH",
        "POST",
        "DELETE",
    }
    assert behaviour["CachePolicyId"] == CACHING_DISABLED
    assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
    assert "FunctionAssociations" not in behaviour
    # No distribution-wide error pages: they would turn the API's JSON 404s into HTML.
    assert "CustomErrorResponses" not in config
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "dashboard"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"


def _route(code: str, uri: str) -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run the CloudFront function (the dashboard needs it too)")
    script = code + f"\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);"
    return subprocess.run(
        [node, "-e", script], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_deep_links_are_rewritten_to_index_html_and_files_are_not(
    cfn: dict[str, Any],  # noqa: F811
) -> None:
    function = _props(cfn, "DashboardRouting")
    assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    (association,) = _distribution(cfn)["DefaultCacheBehavior"]["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    code = function["FunctionCode"]
    for uri in ("/", "/checks/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278", "/reset-password"):
        assert _route(code, uri) == "/index.html", uri
    for uri in ("/assets/index-B1a2C3d4.js", "/favicon.ico", "/index.html"):
        assert _route(code, uri) == uri


def test_pages_get_the_same_security_headers_as_in_the_local_mode(
    cfn: dict[str, Any],  # noqa: F811
) -> None:
    policy = _props(cfn, "DashboardHeaders")["ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert csp == PAGE_HEADERS["Content-Security-Policy"]
    assert headers["FrameOptions"]["FrameOption"] == PAGE_HEADERS["X-Frame-Options"]
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == PAGE_HEADERS["Referrer-Policy"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    default = _distribution(cfn)["DefaultCacheBehavior"]
    assert default["ResponseHeadersPolicyId"] == {"Ref": "DashboardHeaders"}


def test_without_a_custom_domain_the_site_url_is_the_distributions_domain(
    cfn: dict[str, Any],  # noqa: F811
) -> None:
    from_distribution = {"Fn::Sub": "https://${DashboardDistribution.DomainName}"}
    expected = {"Fn::If": ["SiteUrlGiven", {"Ref": "SiteUrl"}, from_distribution]}
    for function in ("AnalyzerFunction", "EmailAlerterFunction", "WebAlerterFunction"):
        assert _function(cfn, function)["Environment"]["Variables"]["SITE_URL"] == expected, (
            function
        )
    # The API function is behind the distribution: it reads the same value from SSM.
    api = _function(cfn, "ApiFunction")["Environment"]["Variables"]
    name = {"Fn::Sub": "/${AWS::StackName}/site-url"}
    assert api["SITE_URL_PARAMETER"] == {"Fn::If": ["SiteUrlGiven", "", name]}
    parameter = _props(cfn, "SiteUrlParameter")
    assert parameter["Name"] == name and parameter["Value"] == expected
    (read,) = [s for s in _statements(cfn, "ApiFunction") if s.get("Sid") == "ReadTheSiteUrl"]
    assert read["Action"] == "ssm:GetParameter"
    assert "parameter/${AWS::StackName}/site-url" in read["Resource"]["Fn::Sub"]
    assert cfn["Parameters"]["SiteUrl"]["Default"] == ""
    outputs = cfn["Outputs"]
    assert outputs["DashboardUrl"]["Value"] == from_distribution
    assert {"DashboardBucketName", "DashboardDistributionId"} <= set(outputs)
