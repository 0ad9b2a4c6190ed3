"""Gears auth service: accounts, tokens and roles, with Amazon Cognito underneath.

- ``domain``: email and password rules, the profile entity (standard library only).
- ``errors``: the typed errors the service raises.
- ``service``: the use cases and the ports they take (``IdentityProvider``, ``ProfileRepository``).
- ``cognito``: the ``IdentityProvider`` over Cognito user pools, with every Cognito error mapped in one place.
- ``store``: the PynamoDB model of the auth table and the ``ProfileRepository`` over it.
- ``bootstrap``: builds the real adapters once per cold start, from the environment.
- ``api``: the HTTP functions (``public_handler``, ``me_handler``).
"""
