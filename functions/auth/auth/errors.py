"""The auth service's own errors, with the problem ``title`` and ``code`` clients see. Each is one of the shared
kinds (``class UserNotFound(NotFound)``), which says what it answers, or a plain ``GearsError`` (500) for what no
client should meet. The account rules' errors (an invalid email, a weak password) are the domain's
(:mod:`auth.domain`); the API's error table maps them."""

from __future__ import annotations

from gears_shared.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    DependencyFailed,
    Forbidden,
    GearsError,
    NotFound,
    Throttled,
    Unauthorized,
)


class InvalidCode(BadRequest):
    title = "Invalid code"
    code = "invalid-code"


class ExpiredCode(InvalidCode):
    title = "Expired code"
    code = "expired-code"


class InvalidAuthRequest(BadRequest):
    """The identity provider refused a parameter our own validation let through."""

    code = "invalid-auth-request"


class InvalidCredentials(Unauthorized):
    """Wrong password and unknown email alike: a login must not tell which emails are registered."""

    title = "Invalid credentials"
    code = "invalid-credentials"


class InvalidRefreshToken(Unauthorized):
    title = "Invalid refresh token"
    code = "invalid-refresh-token"


class SessionRevoked(Unauthorized):
    """A token that passed the API's JWT authorizer but that the user pool no longer honours: signed out, the
    user's roles changed, or the user deleted."""

    title = "Session ended"
    code = "session-revoked"


class AccountNotConfirmed(Forbidden):
    title = "Account not confirmed"
    code = "account-not-confirmed"


class ChallengeRequired(Forbidden):
    """The password was right but the user pool asks for another step (new password, MFA) not offered here."""

    title = "Further sign-in step required"
    code = "challenge-required"


class UserAlreadyExists(Conflict):
    title = "Account already exists"
    code = "user-exists"


class ConfirmationRefused(Conflict):
    """The user pool will not confirm this account (already confirmed, or disabled)."""

    title = "Account cannot be confirmed"
    code = "confirmation-refused"


class AccountAlreadyConfirmed(ConfirmationRefused):
    title = "Account already confirmed"
    code = "already-confirmed"


class ConcurrentUpdate(Conflict):
    title = "Concurrent update"
    code = "concurrent-update"


class UserNotFound(NotFound):
    title = "User not found"
    code = "user-not-found"


class ProfileNotFound(NotFound):
    """An account made outside sign-up (by an operator) has no profile to change."""

    title = "Profile not found"
    code = "profile-not-found"


class PhoneRefused(BadRequest):
    """The SMS provider will not send to this number (not a mobile, not reachable, not allowed)."""

    title = "Phone number refused"
    code = "phone-refused"


class SmsFailed(DependencyFailed):
    code = "sms-failed"


class TooManyAttempts(Throttled):
    code = "too-many-attempts"


class SmsThrottled(TooManyAttempts):
    title = "SMS sending throttled"
    code = "sms-throttled"


class SignInLockedOut(TooManyAttempts):
    """The user pool locked the account out after repeated wrong passwords (for a time that grows with each)."""

    title = "Too many failed sign-ins"
    code = "sign-in-locked"


class ResetNotStarted(GearsError):
    """The user pool sent no reset code (no such account, unconfirmed, disabled, too many requests for it).

    Never reaches a client: a forgotten-password request answers the same whatever the email, so that it cannot
    tell who has an account.
    """

    code = "reset-not-started"


class CannotRemoveOwnAdmin(BusinessRuleViolation):
    """An admin may not take the admin role from themselves: another admin must (the shop keeps an admin)."""

    title = "Cannot remove your own admin role"
    code = "own-admin-role"


class IdentityProviderFailed(DependencyFailed):
    code = "identity-provider-failed"


class ServiceMisconfigured(GearsError):
    """A function was deployed without the configuration a route needs (answers 500: an operator must act)."""

    code = "misconfigured"
