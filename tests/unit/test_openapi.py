"""The OpenAPI spec documents every route the template serves, and the committed copy is current."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gears.openapi import MARKDOWN, SPEC, render, render_markdown


@pytest.fixture(scope="module")
def spec() -> dict:  # type: ignore[type-arg]
    # In its own process: building imports every function module with that function's environment.
    command = [sys.executable, "-m", "gears.openapi", "--stdout"]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_every_template_route_is_documented(spec: dict) -> None:  # type: ignore[type-arg]
    assert spec["x-gears-undocumented-routes"] == []


def test_public_routes_need_no_token_and_the_rest_do(spec: dict) -> None:  # type: ignore[type-arg]
    assert spec["paths"]["/products"]["get"]["security"] == []
    assert spec["paths"]["/me"]["get"]["security"] == [{"cognito": []}]


def test_the_spec_is_valid_openapi(spec: dict) -> None:  # type: ignore[type-arg]
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_the_committed_spec_is_current(spec: dict) -> None:  # type: ignore[type-arg]
    assert SPEC.read_text() == render(spec), "docs/openapi.json is out of date: run `.venv/bin/gears openapi`"


def test_the_committed_api_page_is_current(spec: dict) -> None:  # type: ignore[type-arg]
    assert MARKDOWN.read_text() == render_markdown(spec), "docs/api.md is out of date: run `make openapi`"


def test_every_service_documents_the_problems_it_answers(spec: dict) -> None:  # type: ignore[type-arg]
    services = {op["tags"][0] for ops in spec["paths"].values() for op in ops.values()}
    assert set(spec["x-gears-errors"]) == services
    for service, problems in spec["x-gears-errors"].items():
        assert problems, service
        assert all(400 <= p["status"] <= 599 and p["code"] for p in problems), service


def test_every_operation_documents_what_it_answers() -> None:
    """A route says what it answers on success (gears_shared.http.documented): no untyped answer is left for a
    client generator to guess at, and every body a route reads is in the spec."""
    spec = json.loads(SPEC.read_text())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
            assert successes, f"{where} documents no success answer"
            for status, answer in successes.items():
                schema = (answer.get("content") or {}).get("application/json", {}).get("schema", {})
                assert schema.get("title") != "Return", f"{where} {status}: an untyped answer"
            assert all(isinstance(p.get("schema"), dict) for p in operation.get("parameters", [])), where
