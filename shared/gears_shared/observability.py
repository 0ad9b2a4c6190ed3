"""Powertools Logger, Tracer and Metrics, set up the same way in every function.

Service name, log level and metrics namespace come from the environment the template sets
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``).

**Cold start.** Importing the X-Ray SDK (which Powertools' Tracer does) builds its global recorder, whose sampler
creates a botocore X-Ray client for centralised sampling rules: loading the X-Ray service model and the endpoint
rules was about 200 ms of every function's init, more than the rest of the SDK. On Lambda that client is never
used (Lambda makes the sampling decision and hands it over in the trace header), so it is made when first used
instead (:func:`_import_xray_sdk`); everything else about tracing is as Powertools sets it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer


class _OnFirstUse:
    """Stands for an object made only when one of its attributes is first asked for."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)


def _import_xray_sdk() -> None:
    """Import the X-Ray SDK with its sampler's X-Ray client made on first use (see the module's docstring)."""
    import sys

    if "aws_xray_sdk.core" in sys.modules:
        return
    try:
        import botocore.session
    except ImportError:  # pragma: no cover - botocore is in every Lambda runtime
        return
    real = botocore.session.Session.create_client

    def create_client(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        if service_name == "xray":
            return _OnFirstUse(lambda: real(self, service_name, *args, **kwargs))
        return real(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = create_client
    try:
        import aws_xray_sdk.core  # noqa: F401 - builds the recorder, and its sampler's client, now
    except ImportError:
        pass
    finally:
        botocore.session.Session.create_client = real


def setup(service: str | None = None) -> tuple[Logger, Tracer, Metrics]:
    """One Logger (JSON, correlation id), one Tracer, one Metrics (EMF) for a function module."""
    _import_xray_sdk()
    logger = Logger(service=service)
    tracer = Tracer(service=service)
    metrics = Metrics(service=service)
    return logger, tracer, metrics


# The one set every module of a function uses (Powertools' Logger, Tracer and Metrics share their state per service).
logger, tracer, metrics = setup()
