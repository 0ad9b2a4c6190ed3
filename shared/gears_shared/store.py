"""What every service's PynamoDB store needs and would otherwise write again: a model bound to the table the
template names (one class, and so one connection, per table and process), and money as a stored map.

A store binds its models once::

    class OrderItem(Model): ...                       # keys and attributes; no Meta
    def order_model(table_name: str) -> type[OrderItem]:
        return bind(OrderItem, table_name)

The endpoint comes from ``AWS_ENDPOINT_URL_DYNAMODB`` or ``AWS_ENDPOINT_URL`` (the local cloud), else AWS's.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any, TypeVar

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

M = TypeVar("M", bound=Model)


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or None


def table_meta(table_name: str) -> type:
    """A PynamoDB ``Meta`` for ``table_name`` in this function's region and endpoint."""
    return type("Meta", (), {"table_name": table_name, "region": _region(), "host": _endpoint()})


@lru_cache(maxsize=64)
def _bound(model: type[Model], table_name: str) -> type[Model]:
    return type(model.__name__, (model,), {"Meta": table_meta(table_name), "__module__": model.__module__})


def bind(model: type[M], table_name: str) -> type[M]:
    """``model`` bound to ``table_name``: the same class for the same table, so its connection is reused."""
    return _bound(model, table_name)  # type: ignore[return-value]


class MoneyAttribute(MapAttribute[str, Any]):
    """An amount in minor units and its ISO 4217 currency, stored as ``{"amount": N, "currency": "GBP"}``."""

    amount = NumberAttribute()
    currency = UnicodeAttribute()


# Every service's table has the same generic key names (template.yaml): ``pk``/``sk``, and for its indexes
# ``gsi1pk``/``gsi1sk`` and ``gsi2pk``/``gsi2sk``, all attributes projected. A model declares the ones it uses:
# ``user_index = Gsi1()`` (PynamoDB gives each model its own copy).
class Gsi1(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex[Any]):
    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)
