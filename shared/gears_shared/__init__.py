"""Gears shared Lambda layer: what every service needs and nothing service-specific.

- ``errors``: the typed error hierarchy and its RFC 9457 problem+json form.
- ``http``: the HTTP resolver factory that maps those errors once, body/paging helpers.
- ``auth``: the caller's claims, role and owner checks.
- ``events``: the CloudEvents 1.0 envelope and the SNS publisher.
- ``observability``: Powertools Logger, Tracer and Metrics set up the same way everywhere.
- ``fast_json``: AWS JSON answers read without botocore's shape walk where it would change nothing; put in place
  for the whole process when this package is first imported (every function imports it before its first call).
"""

from gears_shared import fast_json as _fast_json

_fast_json.install()
