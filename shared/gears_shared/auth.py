"""Who is calling: the claims the API Gateway JWT authorizer verified, and the role and owner checks.

The authorizer has already checked the token's signature, issuer, audience and expiry before a function runs;
this module only reads what it passed on, with one check of its own that API Gateway cannot express: the token
must be an *access* token (``token_use: access``). The JWT authorizer also admits the user pool's id tokens (they
carry the app client as ``aud``), but an id token tells the client that asked for it who the user is; it is not
a grant to call the API, and the user pool cannot be asked whether it was revoked. Every authenticated route
reads its caller through :func:`caller_from_event`, so every one of them refuses an id token with 401.

On an HTTP API, array claims such as ``cognito:groups`` arrive flattened into a string like ``"[admin customer]"``;
:func:`caller_from_event` accepts that form, a JSON list and a real list alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gears_shared.errors import Forbidden, NotFound, Unauthorized

CUSTOMER = "customer"
SUPPORT = "support"
ADMIN = "admin"
ROLES = frozenset({CUSTOMER, SUPPORT, ADMIN})
STAFF = frozenset({SUPPORT, ADMIN})
ACCESS_TOKEN = "access"  # noqa: S105 - the token_use claim's value, not a secret


@dataclass(frozen=True)
class Caller:
    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    email: str | None = None
    token_use: str | None = None
    client_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        return self.has_role(*STAFF)


def parse_groups(raw: Any) -> frozenset[str]:
    """``cognito:groups`` as a set, from a list, a JSON list or API Gateway's ``"[a b]"`` flattening."""
    if raw is None or raw == "":
        return frozenset()
    if isinstance(raw, list | tuple | set | frozenset):
        return frozenset(str(g) for g in raw)
    text = str(raw).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list):
            return frozenset(str(g) for g in value)
        text = text[1:-1]
    return frozenset(part for part in text.replace(",", " ").split() if part)


def claims_from_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The verified JWT claims of an HTTP API (payload 2.0) event, or ``{}`` on a public route."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    jwt = authorizer.get("jwt") or {}
    claims = jwt.get("claims") or {}
    return dict(claims)


def caller_from_claims(claims: Mapping[str, Any]) -> Caller:
    """The caller behind verified claims; :class:`Unauthorized` without a subject or for anything but an access
    token."""
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("This route needs a signed-in user.")
    if claims.get("token_use") != ACCESS_TOKEN:
        raise Unauthorized("This route needs an access token.")
    return Caller(
        user_id=str(sub),
        roles=parse_groups(claims.get("cognito:groups")),
        email=claims.get("email"),
        token_use=claims.get("token_use"),
        client_id=claims.get("client_id") or claims.get("aud"),
    )


def caller_from_event(event: Mapping[str, Any]) -> Caller:
    """The signed-in caller; :class:`Unauthorized` where the route carried no verified token."""
    return caller_from_claims(claims_from_event(event))


def require_role(caller: Caller, *roles: str) -> None:
    """Refuse (403) a caller that holds none of ``roles``."""
    if not caller.has_role(*roles):
        raise Forbidden(f"This needs one of the roles: {', '.join(sorted(roles))}.")


def require_owner(
    caller: Caller, owner_id: str | None, *, privileged: Iterable[str] = STAFF, what: str = "resource"
) -> None:
    """Let the owner, or a caller with a privileged role, through; everyone else gets 404, never the resource."""
    if owner_id is not None and owner_id == caller.user_id:
        return
    if caller.has_role(*privileged):
        return
    raise NotFound(f"No such {what}.")
