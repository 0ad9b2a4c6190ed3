"""The HTTP API JWT authorizer, decided the way API Gateway decides it.

API Gateway takes the token from the identity source (``Authorization``, with or without ``Bearer``), finds the
signing key by ``kid`` in the issuer's JWKS, accepts only RS256, and checks ``iss`` (exactly the configured
issuer), ``aud`` — or ``client_id`` when the token has no ``aud``, as Cognito access tokens do not — against the
configured audiences, ``exp``, ``nbf`` and ``iat``, and the route's scopes if it names any. Anything else is
401, a scope mismatch 403. Cognito's issuer is its real AWS address; locally the JWKS is fetched from the local
cloud (``<endpoint>/<pool id>/.well-known/jwks.json``), so the issuer is mapped, not trusted blindly.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt.algorithms import RSAAlgorithm

CLOCK_SKEW_S = 0  # API Gateway allows none that it documents


class Denied(Exception):
    """The request is refused; ``status`` is 401 (identity) or 403 (scopes)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def cognito_jwks_url(issuer: str, endpoint: str | None) -> str:
    """Where the issuer's keys are: on AWS the issuer's own JWKS, locally the local cloud's copy."""
    if endpoint and issuer.startswith("https://cognito-idp.") and ".amazonaws.com/" in issuer:
        pool_id = issuer.rsplit("/", 1)[1]
        return f"{endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
    return issuer.rstrip("/") + "/.well-known/jwks.json"


def fetch_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 - a configured local or AWS URL
        return json.load(resp)


@dataclass
class JwtAuthorizer:
    issuer: str
    audiences: list[str]
    jwks_url: str
    fetch: Callable[[str], Any] = fetch_json
    cache_s: float = 300.0
    _keys: dict[str, Any] = field(default_factory=dict, init=False)
    _fetched_at: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _key(self, kid: str) -> Any:
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self.cache_s
            if kid not in self._keys or stale:
                try:
                    jwks = self.fetch(self.jwks_url)
                except Exception as exc:
                    raise Denied(f"JWKS unavailable: {exc}") from exc
                self._keys = {
                    k["kid"]: RSAAlgorithm.from_jwk(json.dumps(k))
                    for k in jwks.get("keys", [])
                    if k.get("kty") == "RSA"
                }
                self._fetched_at = time.monotonic()
            if kid not in self._keys:
                raise Denied("signing key not found")
            return self._keys[kid]

    def authorize(self, headers: Mapping[str, str], scopes: list[str] | None = None) -> dict[str, Any]:
        """The verified claims of the request's token, or :class:`Denied`."""
        raw = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not raw or not raw.strip():
            raise Denied("no token")
        token = raw.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Denied(f"malformed token: {exc}") from exc
        if header.get("alg") != "RS256":
            raise Denied(f"algorithm {header.get('alg')!r} not accepted")
        key = self._key(str(header.get("kid", "")))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "iss"]},
                leeway=CLOCK_SKEW_S,
            )
        except jwt.PyJWTError as exc:
            raise Denied(f"invalid token: {exc}") from exc
        if claims.get("iss") != self.issuer:
            raise Denied("issuer mismatch")
        audience = claims.get("aud")
        presented = audience if isinstance(audience, list) else [audience] if audience else [claims.get("client_id")]
        if not self.audiences or not any(a in self.audiences for a in presented if a):
            raise Denied("audience mismatch")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if not granted.intersection(scopes):
                raise Denied("insufficient scope", status=403)
        return claims
