"""Gears auth service: accounts, tokens and roles, with Amazon Cognito underneath.

- ``domain``: email and password rules and their errors, the profile entity (standard library only).
- ``errors``: the service's typed errors, on the shared kinds of ``gears_shared.errors``.
- ``service``: the use cases, one command each, and the ports they take (``IdentityProvider``,
  ``ProfileRepository``, ``AuditLog``).
- ``cognito``: the ``IdentityProvider`` over Cognito user pools, with every Cognito error mapped in one place.
- ``store``: the PynamoDB model of the auth table and the ``ProfileRepository`` over it.
- ``store``'s ``DynamoAuditLog``: the audit of role changes, beside the profiles.
- ``events``: the events the service publishes (``UserRegistered.v1``) and their schemas.
- ``publisher``: the auth table's stream, published on the auth topic (``AuthPublisherFunction``).
- ``bootstrap``: builds each real adapter once per container, on first use, from the environment.
- ``api``: the HTTP functions (``public_handler``, ``me_handler``, ``session_handler``, ``admin_handler``) and the
  one table of the statuses the domain's errors answer.

Who may call what, and where token revocation applies: docs/authorization.md.
"""
