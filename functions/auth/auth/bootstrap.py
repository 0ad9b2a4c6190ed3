"""Wiring: the real adapters, built once per cold start from the environment the template sets.

``auth.api`` keeps one :class:`Dependencies` at module scope; tests hand it fakes (or rebuild it with
:func:`from_env` once moto's user pool exists).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from auth.errors import ServiceMisconfigured
from auth.service import AuditLog, Clock, IdentityProvider, ProfileRepository, utc_now

# Inside the function's 10 s timeout, with room for a retry: Cognito answers in well under a second.
COGNITO_CONNECT_TIMEOUT_S = 2
COGNITO_READ_TIMEOUT_S = 4
COGNITO_MAX_ATTEMPTS = 2


@dataclass
class Dependencies:
    profiles: ProfileRepository
    identity_provider: IdentityProvider | None = None
    audit_log: AuditLog | None = None
    clock: Clock = field(default=utc_now)

    @property
    def identity(self) -> IdentityProvider:
        """The user pool; only the functions whose template entry names it (not MeFunction) can reach it."""
        if self.identity_provider is None:
            raise ServiceMisconfigured("This function is not configured for the user pool.")
        return self.identity_provider

    @property
    def audit(self) -> AuditLog:
        if self.audit_log is None:
            raise ServiceMisconfigured("This function is not configured for the audit log.")
        return self.audit_log


def cognito_from_env(env: Mapping[str, str]) -> IdentityProvider | None:
    """The Cognito identity provider when USER_POOL_ID and USER_POOL_CLIENT_ID are set (not for MeFunction)."""
    pool_id, client_id = env.get("USER_POOL_ID"), env.get("USER_POOL_CLIENT_ID")
    if not pool_id or not client_id:
        return None
    # boto3 only where the user pool is used: MeFunction reads DynamoDB through PynamoDB and skips its import.
    import boto3
    from botocore.config import Config

    from auth.cognito import CognitoIdentityProvider

    config = Config(
        connect_timeout=COGNITO_CONNECT_TIMEOUT_S,
        read_timeout=COGNITO_READ_TIMEOUT_S,
        retries={"max_attempts": COGNITO_MAX_ATTEMPTS, "mode": "standard"},
    )
    return CognitoIdentityProvider(boto3.client("cognito-idp", config=config), pool_id, client_id)


def from_env(env: Mapping[str, str] | None = None) -> Dependencies:
    from auth.store import DynamoAuditLog, DynamoProfileRepository

    env = os.environ if env is None else env
    return Dependencies(
        profiles=DynamoProfileRepository(env.get("TABLE_NAME")),
        identity_provider=cognito_from_env(env),
        audit_log=DynamoAuditLog(env.get("TABLE_NAME")),
    )
