"""The local JWT authorizer decides as API Gateway's does: every wrong token is 401, never a pass."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gears.local.authorizer import Denied, JwtAuthorizer, cognito_jwks_url

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
CLIENT = "client-123"
KID = "key-1"


def _keypair() -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, public_jwk


PRIVATE, PUBLIC_JWK = _keypair()
OTHER_PRIVATE, _ = _keypair()


def _token(private: Any = PRIVATE, *, kid: str = KID, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "iss": ISSUER,
        "client_id": CLIENT,
        "token_use": "access",
        "iat": now,
        "exp": now + 600,
        "cognito:groups": ["customer"],
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def authorizer() -> JwtAuthorizer:
    jwks = {"keys": [{**PUBLIC_JWK, "kid": KID, "alg": "RS256", "use": "sig"}]}
    return JwtAuthorizer(ISSUER, [CLIENT], "http://jwks", fetch=lambda _url: jwks)


def _auth(a: JwtAuthorizer, token: str | None) -> dict[str, Any]:
    return a.authorize({} if token is None else {"Authorization": token})


def test_a_valid_access_token_passes_with_or_without_bearer(authorizer: JwtAuthorizer) -> None:
    token = _token()
    assert _auth(authorizer, f"Bearer {token}")["sub"] == "user-1"
    assert _auth(authorizer, token)["sub"] == "user-1"


def test_an_id_token_passes_on_its_aud_claim(authorizer: JwtAuthorizer) -> None:
    assert _auth(authorizer, _token(client_id=None, aud=CLIENT, token_use="id"))["token_use"] == "id"


def _hs256_with_public_key() -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": KID}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(
        json.dumps({"sub": "x", "iss": ISSUER, "client_id": CLIENT, "exp": 9e9}).encode()
    )
    import hashlib
    import hmac

    pem = PRIVATE.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = header + b"." + payload.rstrip(b"=")
    sig = base64.urlsafe_b64encode(hmac.new(pem, signing_input, hashlib.sha256).digest()).rstrip(b"=")
    return (signing_input + b"." + sig).decode()


def _alg_none() -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": KID}).encode()).rstrip(b"=").decode()
    payload = (
        base64.urlsafe_b64encode(json.dumps({"sub": "x", "iss": ISSUER, "client_id": CLIENT, "exp": 9e9}).encode())
        .rstrip(b"=")
        .decode()
    )
    return f"{header}.{payload}."


def _tampered() -> str:
    head, payload, sig = _token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["cognito:groups"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{sig}"


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("missing", None),
        ("empty", ""),
        ("malformed", "not-a-jwt"),
        ("alg none", _alg_none()),
        ("HS256 signed with the public key", _hs256_with_public_key()),
        ("signed by another key", _token(OTHER_PRIVATE)),
        ("unknown kid", _token(kid="other")),
        ("tampered claims", _tampered()),
        ("expired", _token(exp=int(time.time()) - 5, iat=int(time.time()) - 700)),
        ("not yet valid", _token(nbf=int(time.time()) + 300)),
        ("foreign issuer", _token(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other")),
        ("wrong audience", _token(client_id="someone-else")),
        ("no expiry", _token(exp=None)),
    ],
)
def test_bad_tokens_are_denied_with_401(authorizer: JwtAuthorizer, case: str, token: str | None) -> None:
    with pytest.raises(Denied) as denied:
        _auth(authorizer, token)
    assert denied.value.status == 401, case


def test_a_missing_scope_is_403(authorizer: JwtAuthorizer) -> None:
    with pytest.raises(Denied) as denied:
        authorizer.authorize({"authorization": _token(scope="openid")}, scopes=["orders/write"])
    assert denied.value.status == 403


def test_an_unreachable_jwks_denies() -> None:
    def down(_url: str) -> Any:
        raise OSError("connection refused")

    with pytest.raises(Denied):
        JwtAuthorizer(ISSUER, [CLIENT], "http://jwks", fetch=down).authorize({"authorization": _token()})


def test_cognito_issuer_maps_to_the_local_cloud_jwks() -> None:
    assert (
        cognito_jwks_url(ISSUER, "http://127.0.0.1:4566")
        == "http://127.0.0.1:4566/us-east-1_pool/.well-known/jwks.json"
    )
    assert cognito_jwks_url(ISSUER, None) == ISSUER + "/.well-known/jwks.json"
