"""What the functional tiers share to call a service's handlers in-process: the claims API Gateway's JWT authorizer
passes on, an answer read back, a module imported as a cold start imports it, and a container's ports cleared."""

from __future__ import annotations

import importlib
import json
from types import ModuleType
from typing import Any


def claims(sub: str, *groups: str) -> dict[str, Any]:
    """An access token's claims as the authorizer passes them on (``customer`` when no group is named)."""
    return {"sub": sub, "cognito:groups": list(groups) or ["customer"], "token_use": "access"}


ADMIN = claims("admin-1", "admin", "customer")
SUPPORT = claims("support-1", "support")


class Answer:
    """A handler's HTTP answer: status, headers (lower-case names) and the JSON body."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.status: int = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        text = raw.get("body") or ""
        self.body: Any = json.loads(text) if text else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.body}>"


def cold(name: str) -> ModuleType:
    """The module imported afresh, as a new Lambda container imports it (module-scope wiring runs again)."""
    return importlib.reload(importlib.import_module(name))


def clear_container(bootstrap: ModuleType) -> None:
    """Every cached port of a service's ``bootstrap`` forgotten: the next call wires a new container's."""
    for port in vars(bootstrap).values():
        if callable(getattr(port, "cache_clear", None)):
            port.cache_clear()
