"""Tools of the security tier: forged tokens, an operator's view of the user pool, users in a role."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import boto3
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.shop import Customer, Shop

PASSWORD = "Sup3rSecret!x"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def forge(key: Any, kid: str, claims: dict[str, Any]) -> str:
    """A token signed RS256 with ``key``, claiming to be from ``kid``."""
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def unsigned(kid: str, claims: dict[str, Any]) -> str:
    """``alg: none``: a token with no signature at all."""
    header = b64url(json.dumps({"alg": "none", "kid": kid, "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(claims).encode())}."


def hs256_with_public_key(public_key: Any, kid: str, claims: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HS256 keyed with the issuer's *public* key (which anyone can fetch), hoping
    the verifier uses the key it has for whatever algorithm the header names. Built by hand: PyJWT refuses to."""
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64url(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def now() -> int:
    return int(time.time())


def user_pool(shop: Shop, token: str) -> tuple[Any, str]:
    """The local user pool, as an operator sees it (the AWS console, locally): a client and the pool id."""
    client = boto3.client(
        "cognito-idp",
        endpoint_url=shop.endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return client, str(claims_of(token)["iss"]).rsplit("/", 1)[1]


def user_id(customer: Customer) -> str:
    return str(claims_of(customer.token)["sub"])


def with_roles(shop: Shop, *roles: str) -> Customer:
    """A new account given ``roles`` by the admin (through the API), signed in again for tokens that carry them."""
    someone = shop.new_customer(PASSWORD)
    r = shop.put(f"/admin/users/{user_id(someone)}/roles", json={"roles": list(roles)}, token=shop.admin().token)
    assert r.status_code == 200, r.text
    return Customer(someone.email, someone.password, shop.login(someone.email, someone.password))


def unique_email() -> str:
    return f"sec-{uuid.uuid4().hex[:10]}@example.com"
