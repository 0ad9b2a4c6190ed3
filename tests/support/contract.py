"""Every answer a functional test gets from a documented route is held to what the route documents.

``gears_shared.http.documented`` says what a route answers on success (a status and a pydantic model per answer).
While a functional test runs, :func:`checking_answers` wraps :func:`gears_shared.http.answer` so that each 2xx answer
of a documented route has a documented status and a body that validates against the model's JSON schema (the same
schema ``docs/openapi.json`` publishes): the routes' own tests keep the spec true, before schemathesis tries the
spec against the running shop.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import jsonschema
import pytest

import gears_shared.http as http_module
from gears_shared.http import OPENAPI_ATTRIBUTE


class UndocumentedAnswer(AssertionError):
    pass


def route_of(app: Any, event: dict[str, Any]) -> Any:
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "").upper()
    path = event.get("rawPath") or ""
    for route in [*app._static_routes, *app._dynamic_routes]:
        if route.method.upper() == method and route.rule.match(path):
            return route
    return None


def check_answer(app: Any, event: dict[str, Any], result: dict[str, Any]) -> None:
    route = route_of(app, event)
    spec = getattr(getattr(route, "func", None), OPENAPI_ATTRIBUTE, None)
    status = int(result.get("statusCode", 0))
    if spec is None or not 200 <= status < 300:
        return
    where = f"{route.method} {route.path}"
    if status not in spec["answers"]:
        raise UndocumentedAnswer(f"{where} answered {status}; it documents {sorted(spec['answers'])}")
    model = spec["answers"][status]
    body = result.get("body") or ""
    if model is None:
        if body:
            raise UndocumentedAnswer(f"{where} documents no body for {status} and answered {body[:200]!r}")
        return
    try:
        error = jsonschema.exceptions.best_match(_validator(model).iter_errors(json.loads(body)))
        if error is not None:
            raise error
    except jsonschema.ValidationError as exc:
        path = "/".join(str(p) for p in exc.absolute_path)
        raise UndocumentedAnswer(f"{where} {status} does not match {model.__name__} at /{path}: {exc.message}") from exc


@functools.cache
def _validator(model: Any) -> jsonschema.Draft202012Validator:
    """A model's JSON schema validator, made once per model (every documented answer of every test uses one)."""
    return jsonschema.Draft202012Validator(model.model_json_schema(by_alias=True))


@contextmanager
def checking_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """While active, every answer of a documented route is checked (a failure raises in the test)."""
    checked: list[str] = []
    original: Callable[..., dict[str, Any]] = http_module.answer

    def answer(app: Any, event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = original(app, event, context)
        check_answer(app, event, result)
        checked.append(str(result.get("statusCode")))
        return result

    monkeypatch.setattr(http_module, "answer", answer)
    yield checked
