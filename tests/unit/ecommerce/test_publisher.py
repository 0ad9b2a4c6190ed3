"""Stream records to CloudEvents, without AWS: the mapping, the ids, and the in-order partial batch failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from ecommerce.catalog.domain import Category, Money, Product, ProductDetails, ProductStatus
from ecommerce.catalog.store import CATEGORY_PK, category_model, product_model, to_item
from ecommerce.events import CART_STARTED, PRODUCT_CREATED, PRODUCT_DELETED, PRODUCT_UPDATED, SOURCE
from ecommerce.publisher import event_id, events_for_record
from gears_shared.events import CloudEvent, InMemoryPublisher, PublishError
from gears_shared.streams import StreamPublisher

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
Model = product_model("unit-test-table")


def image(product: Product | None, correlation_id: str = "") -> dict[str, Any] | None:
    return None if product is None else to_item(Model, product, correlation_id=correlation_id).serialize()


def record(name: str, old: Product | None, new: Product | None, seq: int = 1, cid: str = "cid-1") -> dict[str, Any]:
    ddb: dict[str, Any] = {"SequenceNumber": str(seq), "ApproximateCreationDateTime": 1714564800, "Keys": {}}
    if old is not None:
        ddb["OldImage"] = image(old, cid)
    if new is not None:
        ddb["NewImage"] = image(new, cid)
    return {"eventID": f"ev-{seq}", "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": ddb}


def product(status: ProductStatus = ProductStatus.ACTIVE, amount: int = 350, version: int = 1) -> Product:
    details = ProductDetails("Mug", Money(amount, "GBP"), "mugs", status=status)
    return replace(Product.new("m-1", details, NOW), version=version)


def test_insert_is_product_created_with_the_stored_correlation_id() -> None:
    [event] = events_for_record(record("INSERT", None, product(), cid="req-42"))
    assert event.type == PRODUCT_CREATED
    assert event.source == SOURCE
    assert event.correlationid == "req-42"
    assert event.subject == product().product_id
    assert event.time == "2024-05-01T12:00:00.000Z"
    assert event.data["price"] == {"amount": 350, "currency": "GBP"}


def test_event_ids_come_from_the_stream_record() -> None:
    first = events_for_record(record("INSERT", None, product(), seq=7))
    again = events_for_record(record("INSERT", None, product(), seq=7))
    other = events_for_record(record("INSERT", None, product(), seq=8))
    assert first[0].id == again[0].id == event_id("ev-7")
    assert other[0].id != first[0].id


def test_a_change_is_product_updated_with_what_changed() -> None:
    old, new = product(amount=350), product(amount=300, version=2)
    [event] = events_for_record(record("MODIFY", old, replace(new, updated_at=datetime(2024, 6, 1, tzinfo=UTC))))
    assert event.type == PRODUCT_UPDATED
    assert event.data["changedFields"] == ["price"]
    assert event.data["previous"] == {"price": {"amount": 350, "currency": "GBP"}}


def test_a_rewrite_that_changes_nothing_publishes_nothing() -> None:
    assert events_for_record(record("MODIFY", product(), product(version=2))) == []


def test_archiving_is_product_deleted() -> None:
    old = product()
    [event] = events_for_record(record("MODIFY", old, old.archive(NOW)))
    assert event.type == PRODUCT_DELETED
    assert event.data["archived"] is True


def test_removing_the_item_is_product_deleted() -> None:
    [event] = events_for_record(record("REMOVE", product(), None))
    assert (event.type, event.data["archived"]) == (PRODUCT_DELETED, False)


def test_items_that_are_not_products_publish_nothing() -> None:
    CategoryModel = category_model("unit-test-table")
    item = CategoryModel(CATEGORY_PK, "CATEGORY#mugs", category_id="mugs", name="Mugs").serialize()
    assert events_for_record({"eventID": "e", "eventName": "INSERT", "dynamodb": {"NewImage": item}}) == []
    assert Category("mugs", "Mugs")  # the domain type the item stands for


class FailingOn(InMemoryPublisher):
    def __init__(self, bad_subject_version: int) -> None:
        super().__init__()
        self.bad = bad_subject_version

    def publish(self, events: Sequence[CloudEvent]) -> None:
        """Like SNS: the entries before the refused one are accepted, and the refusal says which one it was."""
        bad = next((i for i, e in enumerate(events) if e.data.get("version") == self.bad), None)
        super().publish(events if bad is None else events[:bad])
        if bad is not None:
            raise PublishError("topic said no", first_failed=bad)


def stream_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024"
    return {"Records": [{**r, "eventSourceARN": arn, "awsRegion": "us-east-1"} for r in records]}


@pytest.mark.parametrize("bad", [2, 3])
def test_a_failed_record_and_every_later_one_are_reported_and_not_published(bad: int) -> None:
    versions = [product(amount=100 * v, version=v) for v in range(1, 5)]
    records = [record("INSERT", None, versions[0], seq=1)] + [
        record("MODIFY", versions[i - 1], versions[i], seq=i + 1) for i in range(1, 4)
    ]
    publisher = FailingOn(bad)
    result = StreamPublisher(events_for_record, publisher).handle(stream_event(records))
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [str(s) for s in range(bad, 5)]
    assert [e.data["version"] for e in publisher.events] == list(range(1, bad))


def test_a_clean_batch_reports_no_failures() -> None:
    publisher = InMemoryPublisher()
    result = StreamPublisher(events_for_record, publisher).handle(stream_event([record("INSERT", None, product())]))
    assert result == {"batchItemFailures": []}
    assert [e.type for e in publisher.events] == [PRODUCT_CREATED]


def test_product_events_carry_the_categorys_path_from_the_top() -> None:
    [created] = events_for_record(record("INSERT", None, product()))
    assert created.data["categoryPath"] == ["home", "mugs"]
    old = product()
    [deleted] = events_for_record(record("MODIFY", old, old.archive(NOW)))
    assert deleted.data["categoryPath"] == ["home", "mugs"]


def test_a_category_the_tree_does_not_know_is_its_own_path() -> None:
    details = ProductDetails("Lamp", Money(900, "GBP"), "lamps", status=ProductStatus.ACTIVE)
    [event] = events_for_record(record("INSERT", None, Product.new("l-1", details, NOW)))
    assert event.data["categoryPath"] == ["lamps"]


def cart_image(user_id: str, updated_at: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"CART#{user_id}"},
        "sk": {"S": "CART"},
        "entity": {"S": "Cart"},
        "userId": {"S": user_id},
        "lines": {"L": []},
        "version": {"N": "1"},
        "updatedAt": {"S": updated_at},
    }


def test_a_cart_inserted_is_cart_started_and_its_later_changes_publish_nothing() -> None:
    ddb = {"SequenceNumber": "9", "NewImage": cart_image("u-7", "2024-05-01T12:00:00.000Z")}
    [event] = events_for_record({"eventID": "ev-9", "eventName": "INSERT", "dynamodb": ddb})
    assert (event.type, event.subject, event.id) == (CART_STARTED, "u-7", event_id("ev-9"))
    assert event.data == {"userId": "u-7", "startedAt": "2024-05-01T12:00:00.000Z"}
    changed = {**ddb, "OldImage": ddb["NewImage"], "NewImage": cart_image("u-7", "2024-05-01T12:05:00.000Z")}
    assert events_for_record({"eventID": "ev-10", "eventName": "MODIFY", "dynamodb": changed}) == []
