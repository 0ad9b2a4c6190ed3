"""Items in DynamoDB's JSON and as plain Python, for the stores that use the low-level client (a transaction or a
condition PynamoDB's models do not express) and for stream images.

Reading, whole numbers come back as ``int`` and others as ``float`` (DynamoDB gives ``Decimal``), sets as lists;
writing, floats go in as ``Decimal`` and ``None`` values are left out (at the top level and inside maps).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def plain_value(value: Any) -> Any:
    """A deserialised value with DynamoDB's Decimals as ``int`` (whole) or ``float``, sets and tuples as lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [plain_value(v) for v in value]
    return value


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's JSON (``{"n": {"N": "2"}}``) as plain Python (``{"n": 2}``)."""
    return {k: plain_value(_deserializer.deserialize(v)) for k, v in item.items()}


def _writable(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _writable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_writable(v) for v in value]
    return value


def dynamo_value(value: Any) -> dict[str, Any]:
    """One plain value in DynamoDB's JSON."""
    return _serializer.serialize(_writable(value))


def dynamo_item(values: dict[str, Any]) -> dict[str, Any]:
    """Plain values as an item in DynamoDB's JSON; ``None`` values are left out."""
    return {k: dynamo_value(v) for k, v in values.items() if v is not None}
