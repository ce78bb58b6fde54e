"""Secrets Manager: a JSON secret, fetched once per process (Lambda container)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def fetch_json_secret(secret_id: str) -> dict[str, Any]:
    """The secret's JSON object. Raises ValueError when it is not a JSON object, and
    botocore's errors when Secrets Manager refuses (the caller's start-up fails loudly:
    a wrong ARN or a missing permission is a deployment error)."""
    import boto3

    # An ARN names its region (arn:aws:secretsmanager:<region>:...); else the default.
    parts = secret_id.split(":")
    region = parts[3] if len(parts) > 3 and parts[0] == "arn" and parts[3] else None
    client = boto3.client("secretsmanager", region_name=region)
    value = client.get_secret_value(SecretId=secret_id)
    data = json.loads(value.get("SecretString") or "{}")
    if not isinstance(data, dict):
        raise ValueError(f"secret {secret_id} must hold a JSON object")
    return data
