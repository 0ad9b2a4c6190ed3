"""API Gateway HTTP API (payload format 2.0) events, as the local gateway and the tests build them."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode


def flatten_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as an HTTP API JWT authorizer passes them on: every value a string, arrays as ``"[a b]"``."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, list | tuple):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def http_api_event(  # noqa: C901 - one optional field of the 2.0 payload per branch
    method: str,
    path: str,
    *,
    route_key: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: str | Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
    claims: Mapping[str, Any] | None = None,
    scopes: list[str] | None = None,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    api_id: str = "local",
    account_id: str = "123456789012",
) -> dict[str, Any]:
    """A payload 2.0 event. ``claims`` are the verified JWT claims (flattened the way API Gateway does)."""
    raw_query = query if isinstance(query, str) else urlencode(query or {})
    hdrs: dict[str, str] = {}
    for k, v in (headers or {}).items():
        key = k.lower()
        hdrs[key] = f"{hdrs[key]},{v}" if key in hdrs else str(v)
    is_b64 = False
    text: str | None
    if body is None:
        text = None
    elif isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode(), True
    elif isinstance(body, str):
        text = body
    else:
        text = json.dumps(body)
        hdrs.setdefault("content-type", "application/json")
    if text is not None:
        hdrs.setdefault("content-length", str(len(text.encode())))
    qsp: dict[str, str] = {}
    for k, v in parse_qsl(raw_query, keep_blank_values=True):
        qsp[k] = f"{qsp[k]},{v}" if k in qsp else v
    now = datetime.now(UTC)
    rid = request_id or uuid.uuid4().hex[:20]
    cookies = [c.strip() for c in hdrs.pop("cookie", "").split(";") if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": f"{api_id}.execute-api.localhost",
            "domainPrefix": api_id,
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": hdrs.get("user-agent", ""),
            },
            "requestId": rid,
            "routeKey": route_key or f"{method.upper()} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": is_b64,
    }
    if cookies:
        event["cookies"] = cookies
    if qsp:
        event["queryStringParameters"] = qsp
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if text is not None:
        event["body"] = text
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": flatten_claims(claims), "scopes": scopes}}
    return event
