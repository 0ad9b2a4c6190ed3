"""Gears auth service: accounts, tokens and roles, with Amazon Cognito underneath.

- ``domain``: email and password rules and their errors, the profile entity with its name, phone (and the phone's
  confirmation code) and locale rules (standard library only).
- ``errors``: the service's typed errors, on the shared kinds of ``gears_shared.errors``.
- ``service``: the use cases, one command each, and the ports they take (``IdentityProvider``,
  ``ProfileRepository``, ``AuditLog``, ``SmsSender``).
- ``cognito``: the ``IdentityProvider`` over Cognito user pools, with every Cognito error mapped in one place.
- ``store``: the PynamoDB model of the auth table and the ``ProfileRepository`` over it.
- ``store``'s ``DynamoAuditLog``: the audit of role changes, beside the profiles.
- ``sms``: the ``SmsSender`` over SNS (``Publish`` to a phone number): the phone's confirmation codes.
- ``events``: the events the service publishes (``UserRegistered.v1``, ``UserProfileUpdated.v1``,
  ``UserRolesChanged.v1``) and their schemas.
- ``publisher``: the auth table's stream, published on the auth topic (``AuthPublisherFunction``).
- ``bootstrap``: builds each real adapter once per container, on first use, from the environment.
- ``api``: the HTTP functions (``public_handler``, ``me_handler``, ``me_update_handler``, ``session_handler``,
  ``admin_handler``) and the one table of the statuses the domain's errors answer.
- ``invariants``: what must hold of the auth table once the shop is quiet (``gears check``).

Who may call what, and where token revocation applies: docs/authorization.md.
"""
