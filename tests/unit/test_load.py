"""gears.load's reading of the spec: which route a request was, and which reads a role is offered."""

from __future__ import annotations

import random

from gears.load import Deck, Spec, Values

SPEC = {
    "paths": {
        "/inventory/low-stock": {"get": {"security": [{"cognito": []}], "x-gears-roles": ["admin"]}},
        "/inventory/{sku}": {"get": {"security": [{"cognito": []}], "x-gears-roles": ["admin"]}},
        "/products/{productId}": {"get": {}, "put": {"security": [{"cognito": []}], "x-gears-roles": ["admin"]}},
        "/me": {"get": {"security": [{"cognito": []}]}},
        "/search": {
            "get": {"parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}]}
        },
    }
}


def test_each_request_is_counted_under_its_spec_route() -> None:
    spec = Spec(SPEC)
    assert spec.route("GET", "/inventory/low-stock?limit=2") == "GET /inventory/low-stock"
    assert spec.route("GET", "/inventory/ABC") == "GET /inventory/{sku}"
    assert spec.route("GET", "/products/p1/extra") == "GET (not in the spec)"
    assert spec.route("PUT", "/products/p1") == "PUT /products/{productId}"


def test_a_customer_is_offered_every_read_that_names_no_role_and_staff_those_that_name_theirs() -> None:
    spec = Spec(SPEC)
    assert sorted(o.route for o in spec.reads("customer")) == ["GET /me", "GET /products/{productId}", "GET /search"]
    assert sorted(o.route for o in spec.reads("admin")) == ["GET /inventory/low-stock", "GET /inventory/{sku}"]


def test_parameters_are_filled_from_answers_and_required_query_values_from_titles() -> None:
    spec = Spec(SPEC)
    values = Values(spec.parameter_names, random.Random(1))
    assert values.pick("productId") is None
    values.harvest({"items": [{"productId": "p-1", "sku": "ABC", "title": "Pink Polkadot Cup", "price": 3}]})
    assert values.pick("productId") == "p-1"
    assert values.pick("sku") == "ABC"
    assert values.query_value("q", {"type": "string"}) in {"Pink", "Polkadot"}
    assert values.query_value("limit", {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}) == "1"


def test_a_deck_reads_every_route_once_a_round() -> None:
    reads = Spec(SPEC).reads("customer")
    deck = Deck(reads, random.Random(3))
    first = [deck.draw() for _ in reads]
    assert sorted(o.route for o in first if o) == sorted(o.route for o in reads)
    second = [deck.draw() for _ in reads]  # a new round: everything again, in another order
    assert sorted(o.route for o in second if o) == sorted(o.route for o in reads)
