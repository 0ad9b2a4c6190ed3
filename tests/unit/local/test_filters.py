"""Lambda event filtering as the local pollers apply it (the FilterCriteria of an event source)."""

from __future__ import annotations

import json

import pytest

from gears.local.filters import FilterError, delivered, matches, parse_filters, sqs_view


def _stream(name: str, new_entity: str | None = None, old_entity: str | None = None) -> dict:
    ddb: dict = {"Keys": {"pk": {"S": "P#1"}}}
    if new_entity is not None:
        ddb["NewImage"] = {"pk": {"S": "P#1"}, "entity": {"S": new_entity}}
    if old_entity is not None:
        ddb["OldImage"] = {"pk": {"S": "P#1"}, "entity": {"S": old_entity}}
    return {"eventName": name, "dynamodb": ddb}


PUBLISHER = parse_filters(
    {
        "Filters": [
            {"Pattern": json.dumps({"dynamodb": {"NewImage": {"entity": {"S": ["Product", "OrderPlaced"]}}}})},
            {"Pattern": json.dumps({"dynamodb": {"OldImage": {"entity": {"S": ["Product"]}}}})},
        ]
    }
)


def test_a_publisher_sees_its_entities_inserted_changed_and_removed_and_nothing_else() -> None:
    assert delivered(PUBLISHER, _stream("INSERT", "Product"))
    assert delivered(PUBLISHER, _stream("MODIFY", "Product", "Product"))
    assert delivered(PUBLISHER, _stream("REMOVE", old_entity="Product"))
    assert delivered(PUBLISHER, _stream("INSERT", "OrderPlaced"))
    assert not delivered(PUBLISHER, _stream("INSERT"))  # an inbox item: no entity
    assert not delivered(PUBLISHER, _stream("MODIFY", "Cart", "Cart"))
    assert not delivered(PUBLISHER, _stream("REMOVE", old_entity="OrderPlaced"))
    assert delivered([], _stream("INSERT"))  # no filters: everything


@pytest.mark.parametrize(
    ("matcher", "value", "expected"),
    [
        ({"prefix": "ORDER#"}, "ORDER#1", True),
        ({"prefix": "ORDER#"}, "CART#1", False),
        ({"suffix": ".v1"}, "OrderPlaced.v1", True),
        ({"equals-ignore-case": "paid"}, "PAID", True),
        ({"anything-but": ["A", "B"]}, "C", True),
        ({"anything-but": ["A", "B"]}, "A", False),
        ({"anything-but": {"prefix": "INBOX#"}}, "INBOX#x", False),
        ({"numeric": [">", 0, "<=", 5]}, 5, True),
        ({"numeric": [">", 0, "<=", 5]}, 6, False),
        ({"numeric": [">", 0]}, "7", False),
        ("7", 7, False),
        (7, 7.0, True),
        (None, None, True),
    ],
)
def test_matchers(matcher: object, value: object, expected: bool) -> None:
    assert matches({"f": [matcher]}, {"f": value}) is expected


def test_exists_and_lists() -> None:
    assert matches({"f": [{"exists": False}]}, {})
    assert not matches({"f": [{"exists": False}]}, {"f": 1})
    assert matches({"f": [{"exists": True}]}, {"f": None})
    assert matches({"tags": ["b"]}, {"tags": ["a", "b"]})
    assert not matches({"f": ["x"]}, {})


def test_an_sqs_body_is_matched_as_json_when_it_is_an_object() -> None:
    pattern = {"body": {"type": ["OrderPlaced.v1"]}}
    assert matches(pattern, sqs_view({"body": json.dumps({"type": "OrderPlaced.v1"})}))
    assert not matches(pattern, sqs_view({"body": "plain text"}))


def test_patterns_lambda_would_refuse_are_refused() -> None:
    with pytest.raises(FilterError):
        parse_filters({"Filters": [{"Pattern": "[]"}]})
    with pytest.raises(FilterError):
        matches({"f": "not a list"}, {"f": 1})


def test_the_ecommerce_publisher_is_invoked_for_the_catalog_s_writes_and_not_for_availability_alone() -> None:
    """The template's own filter: a product's availability (its consumer's UpdateItem) publishes nothing, so it
    invokes nothing; the catalog's inserts, changes and removals and a placed order do."""
    from pathlib import Path

    from gears.local.template import Template

    template = Template(Path(__file__).resolve().parents[3] / "template.yaml")
    source = next(e for e in template.functions()["EcommercePublisherFunction"].events if e.type == "DynamoDB")
    patterns = parse_filters(source.properties["FilterCriteria"])

    def product(name: str, new_by: str | None = None, old_by: str | None = None) -> dict:
        record = _stream(name, "Product" if new_by else None, "Product" if old_by else None)
        for image, by in (("NewImage", new_by), ("OldImage", old_by)):
            if by:
                record["dynamodb"][image]["writtenBy"] = {"S": by}
        return record

    assert delivered(patterns, product("INSERT", new_by="catalog"))
    assert delivered(patterns, product("MODIFY", new_by="catalog", old_by="availability"))
    assert delivered(patterns, product("REMOVE", old_by="availability"))
    assert delivered(patterns, _stream("INSERT", "OrderPlaced"))
    assert not delivered(patterns, product("MODIFY", new_by="availability", old_by="catalog"))
    assert not delivered(patterns, product("MODIFY", new_by="availability", old_by="availability"))
    assert not delivered(patterns, _stream("MODIFY", "Cart", "Cart"))
