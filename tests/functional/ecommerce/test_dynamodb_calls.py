"""How many DynamoDB operations each route makes, counted with botocore's ``before-call`` event on every client the
functions create (PynamoDB's and boto3's alike): never a Scan, and never more calls than the route needs.

What each route needs (a warm container; the category tree is cached for a minute, so a cold one adds a Query):

==============================  ================================================================================
route                           operations
==============================  ================================================================================
GET /products                   one Query per listing partition read until the page is full
GET /products/{productId}       GetItem
GET /categories                 nothing warm (cached tree); one Query cold
GET /cart                       GetItem (cart) + BatchGetItem (its products); GetItem alone when empty
PUT /cart/items/{productId}     GetItem (cart) + BatchGetItem (its products and the new one) + PutItem
DELETE /cart/items/{productId}  GetItem + PutItem + BatchGetItem (to price what is left)
DELETE /cart                    DeleteItem
POST /checkout                  BatchGetItem (cart + key record) + BatchGetItem (products) + TransactWriteItems;
                                with a discount code, + GetItem (the code), and one TransactWriteItems per usage
                                shard tried (a shard with no use left sends the checkout to the next);
                                a replayed key: the first BatchGetItem only
GET /checkout/{orderId}         GetItem (the receipt, by customer and order id)
POST /admin/discounts           TransactWriteItems (the code and its usage shards)
GET /admin/discounts            Query (the codes' index partition) + BatchGetItem (their shards)
GET /admin/discounts/{code}     GetItem + BatchGetItem (its shards)
PUT /admin/discounts/{code}     GetItem + BatchGetItem + PutItem; TransactWriteItems instead of the PutItem when the
                                limit changes (the shards' allowances move with it)
==============================  ================================================================================
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import botocore.session
import pytest

from ecommerce import bootstrap
from ecommerce.cart import api as cart_api
from ecommerce.catalog import api as catalog_api
from ecommerce.catalog.domain import listing_partitions
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears_shared import store as shared_store
from tests.functional.ecommerce.conftest import CATEGORIES, Answer, checkout_body, claims_for


class DynamoCalls:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def hook(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.rsplit(".", 1)[-1])  # before-call.dynamodb.<Operation>

    def during(self, action: Callable[[], Answer]) -> tuple[Answer, Counter[str]]:
        self.calls.clear()
        answer = action()
        return answer, Counter(self.calls)


@pytest.fixture
def dynamo_calls(monkeypatch: pytest.MonkeyPatch, table_name: str, lambda_env: Any) -> Iterator[DynamoCalls]:
    """Counts the calls of every DynamoDB client created from now on; the functions' ports are built again (and
    their PynamoDB models re-bound) so that all of their clients are new."""
    counter = DynamoCalls()
    create_client = botocore.session.Session.create_client

    def counting_client(self: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, service_name, *args, **kwargs)
        if service_name == "dynamodb":
            client.meta.events.register("before-call.dynamodb", counter.hook)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", counting_client)
    forget_clients()
    yield counter
    forget_clients()


def forget_clients() -> None:
    """The ports and the PynamoDB models bound to the table (and so their connections) are built again on first use."""
    bootstrap.reset()
    shared_store._bound.cache_clear()


@pytest.fixture
def functions(dynamo_calls: DynamoCalls, table_name: str, lambda_env: Any) -> dict[str, ModuleType]:
    from ecommerce.catalog.store import DynamoCategorySource

    DynamoCategorySource(table_name).put_many(CATEGORIES)
    lambda_env("CartFunction")
    return {"catalog": catalog_api, "shop": cart_api}


def invoke(handler: Callable[..., dict[str, Any]], method: str, path: str, **kwargs: Any) -> Answer:
    return Answer(handler(http_api_event(method, path, **kwargs), LambdaContext("F", timeout_s=30)))


def assert_exactly(counted: Counter[str], expected: dict[str, int]) -> None:
    assert "Scan" not in counted, f"a Scan on a request path: {counted}"
    assert dict(counted) == expected


def test_catalog_routes(functions: dict[str, ModuleType], dynamo_calls: DynamoCalls) -> None:
    api = functions["catalog"]
    admin = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
    made = []
    for i in range(30):
        body = {
            "sku": f"CNT-{i:03d}",
            "title": f"T{i}",
            "price": {"amount": 100, "currency": "GBP"},
            "category": "mugs",
            "status": "active",
        }
        made.append(invoke(api.catalog_admin_handler, "POST", "/products", claims=admin, body=body).body)
    bootstrap.category_catalog().invalidate()

    cold_categories, counted = dynamo_calls.during(lambda: invoke(api.catalog_read_handler, "GET", "/categories"))
    assert cold_categories.status == 200
    assert_exactly(counted, {"Query": 1})
    _, counted = dynamo_calls.during(lambda: invoke(api.catalog_read_handler, "GET", "/categories"))
    assert_exactly(counted, {})

    pid = made[0]["productId"]
    one, counted = dynamo_calls.during(lambda: invoke(api.catalog_read_handler, "GET", f"/products/{pid}"))
    assert one.status == 200
    assert_exactly(counted, {"GetItem": 1})

    # A page reads partitions in order until it is full: exactly that many Queries.
    products = bootstrap.product_repository()
    shards = Counter(p.shard for p in (products.get(m["productId"]) for m in made) if p is not None)
    tree = bootstrap.category_catalog().tree()
    for limit, category in [(5, None), (20, None), (100, None), (100, "home"), (10, "mugs")]:
        partitions = listing_partitions(tree, category)
        needed, seen = 0, 0
        for partition in partitions:
            needed += 1
            seen += shards[partition.shard] if partition.category in (None, "mugs") else 0
            if seen >= limit:
                break
        query = {"limit": str(limit), **({"category": category} if category else {})}
        page, counted = dynamo_calls.during(
            lambda q=query: invoke(api.catalog_read_handler, "GET", "/products", query=q)  # type: ignore[misc]
        )
        assert page.status == 200
        assert_exactly(counted, {"Query": needed})
        assert needed <= len(partitions)


def test_cart_and_checkout_routes(functions: dict[str, ModuleType], dynamo_calls: DynamoCalls) -> None:
    api, shop = functions["catalog"], functions["shop"]
    admin = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
    pids = []
    for sku in ("CART-A", "CART-B"):
        body = {
            "sku": sku,
            "title": sku,
            "price": {"amount": 700, "currency": "GBP"},
            "category": "mugs",
            "status": "active",
        }
        pids.append(invoke(api.catalog_admin_handler, "POST", "/products", claims=admin, body=body).body["productId"])
    user = claims_for("counted-customer")

    def cart(method: str, path: str, **kw: Any) -> Answer:
        handler = shop.checkout_handler if path.startswith("/checkout") else shop.cart_handler
        return invoke(handler, method, path, claims=user, **kw)

    answer, counted = dynamo_calls.during(lambda: cart("GET", "/cart"))
    assert answer.status == 200
    assert_exactly(counted, {"GetItem": 1})

    for pid in pids:
        answer, counted = dynamo_calls.during(lambda p=pid: cart("PUT", f"/cart/items/{p}", body={"quantity": 2}))  # type: ignore[misc]
        assert answer.status == 200, answer
        assert_exactly(counted, {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1})

    answer, counted = dynamo_calls.during(lambda: cart("GET", "/cart"))
    assert len(answer.body["lines"]) == 2
    assert_exactly(counted, {"GetItem": 1, "BatchGetItem": 1})

    answer, counted = dynamo_calls.during(lambda: cart("DELETE", f"/cart/items/{pids[1]}"))
    assert answer.status == 200
    assert_exactly(counted, {"GetItem": 1, "PutItem": 1, "BatchGetItem": 1})

    key = {"Idempotency-Key": str(uuid.uuid4())}
    answer, counted = dynamo_calls.during(lambda: cart("POST", "/checkout", headers=key, body=checkout_body()))
    assert answer.status == 202, answer
    assert_exactly(counted, {"BatchGetItem": 2, "TransactWriteItems": 1})
    answer, counted = dynamo_calls.during(lambda: cart("POST", "/checkout", headers=key, body=checkout_body()))
    assert answer.status == 202
    assert_exactly(counted, {"BatchGetItem": 1})
    location = answer.headers["location"]
    answer, counted = dynamo_calls.during(lambda: cart("GET", location))
    assert answer.status == 200, answer
    assert_exactly(counted, {"GetItem": 1})

    answer, counted = dynamo_calls.during(lambda: cart("DELETE", "/cart"))
    assert answer.status == 204
    assert_exactly(counted, {"DeleteItem": 1})


def test_discount_routes_and_a_checkout_with_a_code(
    functions: dict[str, ModuleType], dynamo_calls: DynamoCalls, lambda_env: Any
) -> None:
    from ecommerce.discounts import api as discount_api

    api, shop = functions["catalog"], functions["shop"]
    admin = {"sub": "admin-1", "cognito:groups": ["admin"], "token_use": "access"}
    lambda_env("DiscountAdminFunction")
    discounts = discount_api.discount_admin_handler

    answer, counted = dynamo_calls.during(
        lambda: invoke(
            discounts,
            "POST",
            "/admin/discounts",
            claims=admin,
            body={"code": "CNT10", "percentOff": 10, "usageLimit": 2},
        )
    )
    assert answer.status == 201, answer
    assert_exactly(counted, {"TransactWriteItems": 1})
    answer, counted = dynamo_calls.during(lambda: invoke(discounts, "GET", "/admin/discounts", claims=admin))
    assert [d["code"] for d in answer.body["items"]] == ["CNT10"]
    assert_exactly(counted, {"Query": 1, "BatchGetItem": 1})
    answer, counted = dynamo_calls.during(lambda: invoke(discounts, "GET", "/admin/discounts/cnt10", claims=admin))
    assert answer.status == 200
    assert_exactly(counted, {"GetItem": 1, "BatchGetItem": 1})
    replaced = {"percentOff": 20, "usageLimit": 2}
    answer, counted = dynamo_calls.during(
        lambda: invoke(discounts, "PUT", "/admin/discounts/CNT10", claims=admin, body=replaced)
    )
    assert answer.status == 200, answer
    assert_exactly(counted, {"GetItem": 1, "BatchGetItem": 1, "PutItem": 1})

    body = {
        "sku": "CNT-D",
        "title": "D",
        "price": {"amount": 700, "currency": "GBP"},
        "category": "mugs",
        "status": "active",
    }
    pid = invoke(api.catalog_admin_handler, "POST", "/products", claims=admin, body=body).body["productId"]
    for n in range(3):
        user = claims_for(f"counted-{n}")
        invoke(shop.cart_handler, "PUT", f"/cart/items/{pid}", claims=user, body={"quantity": 1})
        key = {"Idempotency-Key": str(uuid.uuid4())}
        answer, counted = dynamo_calls.during(
            lambda u=user, k=key: invoke(  # type: ignore[misc]
                shop.checkout_handler,
                "POST",
                "/checkout",
                claims=u,
                headers=k,
                body=checkout_body(discountCode="cnt10"),
            )
        )
        # two shards of one use each: at most one try per shard, and never a read of a shard
        assert counted["GetItem"] == 1
        assert counted["BatchGetItem"] == 2
        assert 1 <= counted["TransactWriteItems"] <= 2
        assert set(counted) == {"GetItem", "BatchGetItem", "TransactWriteItems"}
    assert (answer.status, answer.body["type"].rsplit("/", 1)[1]) == (422, "discount-exhausted")
    assert counted["TransactWriteItems"] == 2  # the third tried both shards
