"""``gears openapi``: the project's OpenAPI spec, from the code and the template, never written by hand.

Every HTTP function's Powertools resolver describes its routes, parameters and (pydantic) bodies; the template says
which routes exist, which function serves each, and which are public. This merges the two into one OpenAPI 3
document (``docs/openapi.json``): paths in the template's spelling, the Cognito JWT bearer scheme on every route
but the public ones, and problem+json error responses. A test keeps the committed file current.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gears.local.template import Template

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "docs" / "openapi.json"
MARKDOWN = ROOT / "docs" / "api.md"
PROBLEM = {
    "description": "An RFC 9457 problem",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _routes(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, shape) -> the template's route: path, function, handler, public."""
    _, api = template.http_api()
    default = (api.get("Auth") or {}).get("DefaultAuthorizer")
    out = {}
    for name, fn in template.functions().items():
        for ev in fn.events:
            if ev.type != "HttpApi":
                continue
            props = ev.properties
            method, path = str(props.get("Method", "ANY")).upper(), str(props.get("Path"))
            authorizer = (props.get("Auth") or {}).get("Authorizer", default)
            out[(method, _shape(path))] = {
                "path": path,
                "function": name,
                "handler": fn.handler,
                "code_uri": fn.code_uri,
                "environment": template.resolve(fn.environment, lambda lid, attr: f"openapi-{lid}-{attr or 'ref'}"),
                "public": authorizer in (None, "NONE"),
            }
    return out


def _resolvers(module: Any) -> list[Any]:
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

    return [v for v in vars(module).values() if isinstance(v, ApiGatewayResolver)]


def build(template_path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    """The spec. Importing the functions' modules needs their environment; it is all put back afterwards
    (environment, ``sys.path``, the imported modules), so that building the spec changes nothing in the caller."""
    saved_env, saved_path, saved_modules = dict(os.environ), list(sys.path), set(sys.modules)
    try:
        return _build(template_path)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
                delattr(sys.modules[parent], child)  # else `from pkg import child` finds the stale module


def _build(template_path: Path) -> dict[str, Any]:  # noqa: C901 - one branch per part of a route's spec
    template = Template(template_path)
    routes = _routes(template)
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION"):
        os.environ.setdefault(name, "us-east-1")
    sys.path[:0] = [str(ROOT / "shared"), *sorted({str(r["code_uri"]) for r in routes.values()})]
    for route in routes.values():  # module-level wiring reads its environment; give it harmless values
        for key, value in route["environment"].items():
            os.environ.setdefault(key, str(value))
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, "GatewayMessage": GATEWAY_MESSAGE}
    seen_modules: set[str] = set()
    errors: dict[str, dict[str, dict[str, Any]]] = {}
    for route in routes.values():
        module_name = route["handler"].rsplit(".", 1)[0]
        if module_name in seen_modules:
            continue
        seen_modules.add(module_name)
        module = importlib.import_module(module_name)
        service = module_name.split(".", 1)[0]
        errors.setdefault(service, {}).update(_errors(module, service))
        for resolver in _resolvers(module):
            doc = json.loads(resolver.get_openapi_json_schema(title="Gears", version="1"))
            schemas.update((doc.get("components") or {}).get("schemas") or {})
            declared = _declarations(resolver)
            for path, operations in (doc.get("paths") or {}).items():
                for method, operation in operations.items():
                    route_info = routes.get((method.upper(), _shape(path)))
                    if route_info is None:
                        continue  # a route the code has and the template does not serve
                    _rename_path_parameters(operation, path, route_info["path"])
                    operation["operationId"] = re.sub(
                        r"[^A-Za-z0-9]+", "_", f"{route_info['function']}_{method}{route_info['path']}"
                    ).strip("_")
                    operation["tags"] = [route_info["handler"].split(".", 1)[0]]
                    operation["security"] = [] if route_info["public"] else [{"cognito": []}]
                    if getattr(resolver, "roles", ()):
                        operation["x-gears-roles"] = sorted(resolver.roles)
                    responses = operation.setdefault("responses", {})
                    # Invalid input is a 400 problem here (never Powertools' 422 body); 422 is a business rule.
                    responses["422"] = PROBLEM
                    for status in ("400", "404", "429") + (() if route_info["public"] else ("401", "403")):
                        responses.setdefault(status, PROBLEM)
                    # Every status the service's own problems answer with (its error types, by the shared table).
                    for status in sorted({e["status"] for e in errors.get(service, {}).values()}):
                        if status != 500:  # an internal error is never part of the contract
                            responses.setdefault(str(status), PROBLEM)
                    spec = declared.get((method.upper(), _shape(path)))
                    if spec is not None:
                        _apply_declaration(operation, spec, schemas)
                    _gateway_answers(operation, public=route_info["public"])
                    paths.setdefault(route_info["path"], {})[method] = operation
    missing = sorted(f"{m} {r['path']}" for (m, _), r in routes.items() if m.lower() not in paths.get(r["path"], {}))
    schemas = _reachable(schemas, paths)
    _link(paths, schemas)
    missing_refs = sorted(
        {m for m in re.findall(r"#/components/schemas/([A-Za-z0-9_]+)", json.dumps(schemas)) if m not in schemas}
    )
    if missing_refs:
        raise ValueError(f"schemas referred to and not defined: {missing_refs}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Gears",
            "version": "1",
            "description": "The Gears public API. Generated by `make openapi` from the functions' resolvers and "
            "template.yaml; docs/api.md is the same, to read.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "cognito": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito access token (the API Gateway JWT authorizer checks it).",
                }
            },
        },
        "x-gears-undocumented-routes": missing,
        "x-gears-errors": {
            k: sorted(v.values(), key=lambda e: (e["status"], e["code"])) for k, v in sorted(errors.items())
        },
    }


GATEWAY_MESSAGE = {
    "type": "object",
    "description": "API Gateway's own answer (its JWT authorizer, throttling, size limit, or the local shop still "
    'starting), not the service\'s: `{"message": "Unauthorized"}` and the like.',
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
# Statuses API Gateway itself may answer for any route (some only for signed-in ones), besides the service's own.
GATEWAY_STATUSES = {"413": "Payload Too Large", "429": "Too Many Requests", "503": "Service Unavailable"}


REF = re.compile(r"#/components/schemas/([A-Za-z0-9_.-]+)")


def _reachable(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The schemas the paths refer to, and those they refer to in turn (and ``Problem``, always)."""
    wanted = set(REF.findall(json.dumps(paths))) | {"Problem"}
    seen: set[str] = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        wanted |= set(REF.findall(json.dumps(schemas.get(name, {}))))
    return {k: v for k, v in schemas.items() if k in seen}


def _link(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """OpenAPI links, from each success answer that carries an id to every operation whose path takes that id
    (``POST /checkout`` answers ``orderId``: ``GET /orders/{orderId}`` ...), so that a client generator and a
    stateful fuzzer can follow the API's own flows. Found by name, for every service alike."""
    takes: dict[str, list[str]] = {}
    for path, operations in paths.items():
        for operation in operations.values():
            for name in re.findall(r"\{([^}]+)\}", path):
                takes.setdefault(name, []).append(operation["operationId"])
    for operations in paths.values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                schema = ((answer.get("content") or {}).get("application/json") or {}).get("schema") or {}
                ref = REF.search(schema.get("$ref", "")) if "$ref" in schema else None
                properties = (schemas.get(ref.group(1), {}) if ref else schema).get("properties") or {}
                links = {
                    f"{target}_{name}": {"operationId": target, "parameters": {name: f"$response.body#/{name}"}}
                    for name in properties
                    for target in takes.get(name, [])
                    if target != operation["operationId"]
                }
                if links:
                    answer["links"] = dict(sorted(links.items()))


def _gateway_answers(operation: dict[str, Any], *, public: bool) -> None:
    """The gateway's ``{"message": ...}`` answers, beside (same status) or instead of the service's problems."""
    gateway = {"application/json": {"schema": {"$ref": "#/components/schemas/GatewayMessage"}}}
    responses = operation.setdefault("responses", {})
    statuses = dict(GATEWAY_STATUSES) if public else {**GATEWAY_STATUSES, "401": "Unauthorized"}
    for status, reason in statuses.items():
        existing = responses.get(status)
        if existing is None:
            responses[status] = {"description": f"{reason} (API Gateway)", "content": dict(gateway)}
        else:
            responses[status] = {**existing, "content": {**existing.get("content", {}), **gateway}}


def _declarations(resolver: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, shape) -> what a route's :func:`gears_shared.http.documented` says, for each route that says."""
    from gears_shared.http import OPENAPI_ATTRIBUTE

    out = {}
    for route in [*resolver._static_routes, *resolver._dynamic_routes]:
        spec = getattr(route.func, OPENAPI_ATTRIBUTE, None)
        if spec is not None:
            out[(route.method.upper(), _shape(route.openapi_path))] = spec
    return out


def _model_schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` to ``model``'s JSON schema (as the API reads or writes it), added to the components."""
    schema = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, definition in [*(schema.pop("$defs", None) or {}).items(), (model.__name__, schema)]:
        if schemas.setdefault(name, definition) != definition:
            # One name, two shapes (two services' models named alike): the spec would keep one without a word.
            raise ValueError(f"two different schemas are both named {name!r}: rename one of the models")
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _apply_declaration(operation: dict[str, Any], spec: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A route's declared body, success answers and headers, in place of what Powertools could infer."""
    if spec["body"] is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _model_schema(spec["body"], schemas)}},
        }
    if spec["answers"]:
        responses = operation.setdefault("responses", {})
        responses.pop("200", None)  # Powertools' guess ("Successful Response", an untyped "Return")
        for status, model in sorted(spec["answers"].items()):
            answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
            if model is not None:
                answer["content"] = {"application/json": {"schema": _model_schema(model, schemas)}}
            headers = spec["answer_headers"].get(status)
            if headers:
                answer["headers"] = {
                    name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()
                }
            responses[str(status)] = answer
    parameters = operation.setdefault("parameters", [])
    known = {(p.get("in"), p.get("name")) for p in parameters}
    for name, text in spec.get("query", {}).items():
        if ("query", name) not in known:
            parameters.append(
                {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
            )
    for name, text in spec["headers"].items():
        parameters.append(
            {
                "name": name,
                "in": "header",
                "required": name in spec["required_headers"],
                "description": text,
                "schema": {"type": "string", "minLength": 1},
            }
        )


def _errors(module: Any, service: str) -> dict[str, dict[str, Any]]:
    """The problems a service answers, by code: its resolvers' error tables and the types its errors module
    defines, each with the status the shared mapping gives it."""
    from gears_shared.errors import status_for

    kinds: set[type[BaseException]] = set()
    for resolver in _resolvers(module):
        kinds.update(getattr(resolver, "errors", {}) or {})
    try:
        errors_module = importlib.import_module(f"{service}.errors")
    except ImportError:
        errors_module = None
    if errors_module is not None:
        kinds.update(
            v
            for v in vars(errors_module).values()
            if isinstance(v, type) and issubclass(v, BaseException) and v.__module__ == errors_module.__name__
        )

    def with_subclasses(kind: type[BaseException]) -> set[type[BaseException]]:
        return {kind}.union(*(with_subclasses(k) for k in kind.__subclasses__()))

    kinds = set().union(*(with_subclasses(k) for k in kinds)) if kinds else kinds
    tables = [getattr(r, "errors", {}) or {} for r in _resolvers(module)]
    out = {}
    for kind in sorted(kinds, key=lambda k: (k.__module__, k.__qualname__)):  # one answer whatever the set's order
        code = getattr(kind, "code", None)
        if not isinstance(code, str):
            continue
        status = max(status_for(kind, t) for t in tables) if tables else status_for(kind)
        # A code may come with two statuses (an unknown category is a 400 as a filter, a 422 on a product): both.
        out[f"{code} {status}"] = {"code": code, "status": status, "title": getattr(kind, "title", "") or ""}
    return out


def _rename_path_parameters(operation: dict[str, Any], code_path: str, template_path: str) -> None:
    """The code's ``{product_id}`` becomes the template's ``{productId}`` (same position)."""
    code_names = re.findall(r"\{([^}]+)\}", code_path)
    template_names = re.findall(r"\{([^}]+)\}", template_path)
    rename = dict(zip(code_names, template_names, strict=False))
    for param in operation.get("parameters") or []:
        if param.get("in") == "path" and param.get("name") in rename:
            param["name"] = rename[param["name"]]


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=False) + "\n"


MARKDOWN_HEAD = """# The Gears API

Generated by `make openapi` from the functions' resolvers and `template.yaml` (the same as
[`openapi.json`](openapi.json), to read); a test fails when it is stale. Do not edit by hand.

- Bodies are JSON (a body is read as JSON whatever its declared type; one that is not UTF-8 is a 400). Money is an
  integer amount in minor units with an ISO 4217 currency; ids are opaque strings; lists page with `limit` and the
  previous page's `nextCursor` as `cursor`.
- "signed in" means a Cognito access token in `Authorization: Bearer ...`, checked by API Gateway's JWT authorizer.
  Roles are the user pool's groups (`customer`, `support`, `admin`); who may reach whose data is in
  [`authorization.md`](authorization.md).
- Errors are `application/problem+json` (RFC 9457): `type` ends with the problem's code (below), `title`,
  `status`, `detail`, sometimes more fields. The gateway's own answers (no or bad token 401, unknown route or
  method 404, body over 10 MB 413, throttled 429, shop still starting 503) are API Gateway's `{"message": ...}`.
- Every answer carries `x-correlation-id` (the request's, or a new one), which the events it causes carry too.
"""


def render_markdown(spec: dict[str, Any]) -> str:
    """docs/api.md: per service, its routes (who may call each, what it does) and the problems it answers."""
    by_service: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            by_service.setdefault(op["tags"][0], []).append((method.upper(), path, op))
    out = [MARKDOWN_HEAD]
    for service in sorted(by_service):
        out += [f"\n## {service}\n", "| route | who | what |", "|---|---|---|"]
        for method, path, op in by_service[service]:
            who = "public" if op["security"] == [] else "signed in"
            if op.get("x-gears-roles"):
                who += ": " + ", ".join(op["x-gears-roles"])
            what = (op.get("summary") or "").replace("|", "\\|")
            out.append(f"| `{method} {path}` | {who} | {what} |")
        problems = (spec.get("x-gears-errors") or {}).get(service) or []
        if problems:
            out += ["", f"Problems the {service} service answers:", "", "| code | status | title |", "|---|---|---|"]
            out += [f"| `{e['code']}` | {e['status']} | {e['title']} |" for e in problems]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the OpenAPI spec from the resolvers and the template")
    parser.add_argument("--out", default=str(SPEC))
    parser.add_argument("--check", action="store_true", help="fail if the committed spec is not current")
    parser.add_argument("--stdout", action="store_true", help="print the spec instead of writing it")
    args = parser.parse_args(argv)
    spec = build()
    text = render(spec)
    if args.stdout:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if args.check:
        for path, wanted in ((out, text), (MARKDOWN, render_markdown(spec))):
            if (path.read_text() if path.exists() else "") != wanted:
                print(f"{path} is out of date: run `make openapi`", file=sys.stderr)
                return 1
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    MARKDOWN.write_text(render_markdown(spec))
    print(f"wrote {out} and {MARKDOWN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
