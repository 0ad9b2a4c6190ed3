"""Powertools Logger, Tracer and Metrics, set up the same way in every function.

Service name, log level and metrics namespace come from the environment the template sets
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``, ``POWERTOOLS_METRICS_NAMESPACE``).
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer


def setup(service: str | None = None) -> tuple[Logger, Tracer, Metrics]:
    """One Logger (JSON, correlation id), one Tracer, one Metrics (EMF) for a function module."""
    logger = Logger(service=service)
    tracer = Tracer(service=service)
    metrics = Metrics(service=service)
    return logger, tracer, metrics


# The one set every module of a function uses (Powertools' Logger, Tracer and Metrics share their state per service).
logger, tracer, metrics = setup()
