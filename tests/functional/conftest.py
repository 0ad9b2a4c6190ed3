"""Functional tier: handlers run in-process against moto, with every resource built from ``template.yaml``.

``cloud`` is a moto-backed stack provisioned from the real template; ``lambda_env("CatalogReadFunction")`` puts
that function's resolved environment in ``os.environ``, as Lambda would, before its module is imported.
Table names are stable (``gears-local-<LogicalId>``), so a module wired at import keeps working across tests
while each test gets fresh, empty resources.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from gears.local.provision import Stack, provision
from gears.local.template import Template
from tests.conftest import TEMPLATE


@pytest.fixture(scope="session")
def template() -> Template:
    return Template(TEMPLATE)


@pytest.fixture(scope="session")
def aws_session() -> boto3.Session:
    """One session for every test's provisioning: a new one loads every service's model from JSON again (half of
    what provisioning the template cost); its clients reach each test's own moto all the same."""
    from gears.local import moto_fast

    moto_fast.share_cognito_signing_key()  # a user pool per test: the same key, imported once
    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def cloud(template: Template, aws_session: boto3.Session) -> Iterator[Stack]:
    with mock_aws():
        yield provision(template, aws_session)


@pytest.fixture
def lambda_env(cloud: Stack, template: Template, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, str]]:
    functions = template.functions()

    def apply(function_logical_id: str) -> dict[str, str]:
        env = cloud.function_environment(functions[function_logical_id])
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_logical_id)
        return env

    return apply


@pytest.fixture(autouse=True)
def documented_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every answer of a documented route, in every functional test, matches what the route documents
    (tests/support/contract.py)."""
    from tests.support.contract import checking_answers

    with checking_answers(monkeypatch):
        yield


@pytest.fixture
def context_for() -> Callable[[str], object]:
    from gears.local.lambda_context import LambdaContext

    return lambda name: LambdaContext(name, timeout_s=30)


__all__ = ["os"]
