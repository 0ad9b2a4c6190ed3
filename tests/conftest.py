"""Test-wide settings: no test ever talks to a real AWS account."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"

# Fake credentials and a fixed region for every tier; a test that forgot to mock fails instead of reaching AWS.
for key, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "GearsTest",
    "POWERTOOLS_DEV": "false",
}.items():
    os.environ[key] = value
os.environ.pop("AWS_PROFILE", None)
