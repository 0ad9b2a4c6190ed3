"""The e-commerce table's stream, published as CloudEvents on the e-commerce topic (``ProductCreated.v1``, ...).

The change and its event cannot part: the table write is the only write a request makes, and this function turns
the stream into events. A failed record is reported (``ReportBatchItemFailures``) and Lambda retries from it;
records after it are reported too, without publishing, so that a product's events leave in stream order. Event ids
come from the stream record's ``eventID``: a retry publishes the very same ids and consumers dedupe on them.
An order-placed record (written by a checkout) publishes ``OrderPlaced.v1`` when it is inserted, with an id derived
from the order id; a cart's item when inserted (a customer's first line, or the first after a checkout) publishes
``CartStarted.v1``. Other items (categories, checkout keys and receipts, a cart's later changes) publish nothing,
and so does a change of a product's availability alone. Product events carry the category's path in the catalog's
tree (read from this table, cached a minute in the container).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from ecommerce import bootstrap
from ecommerce.cart.store import CART as CART_ENTITY
from ecommerce.cart.store import ORDER_PLACED as ORDER_PLACED_ENTITY
from ecommerce.cart.store import from_image
from ecommerce.catalog.domain import Product, ProductStatus, utc_iso
from ecommerce.catalog.store import product_from_image
from ecommerce.events import (
    CART_STARTED,
    ORDER_PLACED,
    PRODUCT_CREATED,
    PRODUCT_DELETED,
    PRODUCT_UPDATED,
    SCHEMAS,
    SOURCE,
)
from gears_shared.events import CloudEvent, new_event
from gears_shared.streams import stream_handler

EVENT_ID_NAMESPACE = uuid.UUID("0c3e2f55-93a4-4c1e-8f0a-7d6b2b9f4e21")
# Bookkeeping that changes on every write: a change of these alone is not a change of the product. Availability is
# inventory's (ecommerce.cart.consumers) and is not part of the product's data (to_dict), but it is named here too so
# that no future change to to_dict makes a stock movement publish ProductUpdated.
BOOKKEEPING = frozenset({"updatedAt", "version", "availability"})


def event_id(stream_event_id: str) -> str:
    """The CloudEvent id of a stream record: the same record always gives the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, stream_event_id))


def order_event_id(order_id: str) -> str:
    """The CloudEvent id of an order's ``OrderPlaced``: one order, one id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{ORDER_PLACED}#{order_id}"))


def category_path(category_id: str) -> list[str]:
    """The ids from the top-level category down to ``category_id``; the category alone if the tree does not know it
    (a product keeps its category whatever becomes of the tree)."""
    tree = bootstrap.category_catalog().tree_with(category_id)
    return tree.path(category_id) if category_id in tree else [category_id]


def _product_data(product: Product) -> dict[str, Any]:
    return {**product.to_dict(), "categoryPath": category_path(product.details.category)}


def _changes(old: Product, new: Product) -> tuple[list[str], dict[str, Any]]:
    before, after = old.to_dict(), new.to_dict()
    changed = sorted(k for k in after if k not in BOOKKEEPING and before.get(k) != after[k])
    return changed, {k: before.get(k) for k in changed}


def _change(
    event_name: str, old: Product | None, new: Product | None, when: str
) -> tuple[str, Product, dict[str, Any]] | None:
    """The event type, the product it is about and its ``data`` for one change; ``None`` for nothing to tell."""
    if event_name == "INSERT" and new is not None:
        return PRODUCT_CREATED, new, _product_data(new)
    if event_name == "MODIFY" and old is not None and new is not None:
        if new.status is ProductStatus.ARCHIVED and old.status is not ProductStatus.ARCHIVED:
            return PRODUCT_DELETED, new, _deleted(new, archived=True, at=utc_iso(new.updated_at))
        changed, previous = _changes(old, new)
        if not changed:
            return None
        return PRODUCT_UPDATED, new, {**_product_data(new), "changedFields": changed, "previous": previous}
    if event_name == "REMOVE" and old is not None:
        return PRODUCT_DELETED, old, _deleted(old, archived=False, at=when)
    return None


def _deleted(product: Product, *, archived: bool, at: str) -> dict[str, Any]:
    return {
        "productId": product.product_id,
        "sku": product.sku,
        "category": product.details.category,
        "categoryPath": category_path(product.details.category),
        "archived": archived,
        "version": product.version,
        "deletedAt": at,
    }


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one DynamoDB stream record (the raw Lambda event record) stands for: none or one."""
    ddb = record.get("dynamodb") or {}
    inserted = (ddb.get("NewImage") or {}).get("entity", {}).get("S") if record.get("eventName") == "INSERT" else None
    if inserted == ORDER_PLACED_ENTITY:
        return [_order_placed(ddb["NewImage"])]
    if inserted == CART_ENTITY:
        return [_cart_started(ddb["NewImage"], str(record.get("eventID") or f"{ddb.get('SequenceNumber')}"))]
    old = product_from_image(ddb.get("OldImage"))
    new = product_from_image(ddb.get("NewImage"))
    created = ddb.get("ApproximateCreationDateTime")
    # The stream's own time keeps a retried record's envelope identical; "now" only if a record lacks it.
    when = utc_iso(datetime.fromtimestamp(float(created), UTC) if created is not None else datetime.now(UTC))
    change = _change(str(record.get("eventName") or ""), old[0] if old else None, new[0] if new else None, when)
    if change is None:
        return []
    type_, product, data = change
    correlation = (new or old or (None, ""))[1]
    SCHEMAS[type_].model_validate(data)  # the published contract, checked before it leaves
    stream_id = str(record.get("eventID") or f"{ddb.get('SequenceNumber')}")
    return [
        new_event(
            type_,
            SOURCE,
            data,
            correlation_id=correlation,
            subject=product.product_id,
            event_id=event_id(stream_id),
            time=when,
        )
    ]


def _order_placed(image: dict[str, Any]) -> CloudEvent:
    item = from_image(image) or {}
    data = item["order"]
    SCHEMAS[ORDER_PLACED].model_validate(data)
    return new_event(
        ORDER_PLACED,
        SOURCE,
        data,
        correlation_id=str(item.get("correlationId") or ""),
        subject=str(data["orderId"]),
        event_id=order_event_id(str(data["orderId"])),
        time=str(data["placedAt"]),
    )


def _cart_started(image: dict[str, Any], stream_id: str) -> CloudEvent:
    user_id = str(image["userId"]["S"])
    data = {"userId": user_id, "startedAt": str(image["updatedAt"]["S"])}
    SCHEMAS[CART_STARTED].model_validate(data)
    return new_event(CART_STARTED, SOURCE, data, subject=user_id, event_id=event_id(stream_id), time=data["startedAt"])


handler = stream_handler(bootstrap.stream_publisher)
