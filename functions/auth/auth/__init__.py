"""Gears auth service: accounts, tokens and roles, with Amazon Cognito underneath.

- ``domain``: email and password rules, the profile entity (standard library only).
- ``errors``: the typed errors the service raises.
- ``service``: the use cases and the ports they take (``IdentityProvider``, ``ProfileRepository``).
- ``cognito``: the ``IdentityProvider`` over Cognito user pools, with every Cognito error mapped in one place.
- ``store``: the PynamoDB model of the auth table and the ``ProfileRepository`` over it.
- ``store``'s ``DynamoAuditLog``: the audit of role changes, beside the profiles.
- ``events``: the events the service publishes (``UserRegistered.v1``) and their schemas.
- ``publisher``: the auth table's stream, published on the auth topic (``AuthPublisherFunction``).
- ``bootstrap``: builds the real adapters once per cold start, from the environment.
- ``api``: the HTTP functions (``public_handler``, ``me_handler``, ``session_handler``, ``admin_handler``).

Who may call what, and where token revocation applies: docs/authorization.md.
"""
