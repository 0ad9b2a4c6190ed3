"""The shared layer's reading of the caller: only an access token makes a caller (gears_shared.auth)."""

from __future__ import annotations

import pytest

from gears.local.http_events import http_api_event
from gears_shared.auth import caller_from_claims, caller_from_event, require_owner, require_role
from gears_shared.errors import Forbidden, NotFound, Unauthorized

ACCESS = {"sub": "user-1", "token_use": "access", "client_id": "web", "cognito:groups": ["customer"]}


def test_an_access_token_makes_a_caller_with_its_roles() -> None:
    caller = caller_from_event(http_api_event("GET", "/me", claims=ACCESS))
    assert (caller.user_id, caller.roles, caller.token_use) == ("user-1", {"customer"}, "access")


@pytest.mark.parametrize(
    "claims",
    [
        {**ACCESS, "token_use": "id", "aud": "web", "email": "ada@example.com"},  # an id token
        {k: v for k, v in ACCESS.items() if k != "token_use"},
        {**ACCESS, "token_use": "refresh"},
        {**ACCESS, "token_use": "ACCESS"},
        {k: v for k, v in ACCESS.items() if k != "sub"},
    ],
    ids=["id token", "no token_use", "other token_use", "token_use in another case", "no subject"],
)
def test_anything_but_an_access_token_is_401(claims: dict) -> None:
    with pytest.raises(Unauthorized):
        caller_from_event(http_api_event("GET", "/me", claims=claims))


def test_a_public_route_has_no_caller() -> None:
    with pytest.raises(Unauthorized):
        caller_from_event(http_api_event("GET", "/products"))


def test_roles_and_ownership() -> None:
    customer = caller_from_claims(ACCESS)
    support = caller_from_claims({**ACCESS, "sub": "staff-1", "cognito:groups": "[customer support]"})
    with pytest.raises(Forbidden):
        require_role(customer, "admin")
    require_role(support, "support", "admin")
    require_owner(customer, "user-1")
    require_owner(support, "user-1")  # staff may read any customer's resource
    with pytest.raises(NotFound):  # another customer's resource is not there, as far as this caller knows
        require_owner(caller_from_claims({**ACCESS, "sub": "user-2"}), "user-1")
