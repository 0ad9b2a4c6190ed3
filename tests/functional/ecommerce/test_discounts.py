"""Discount codes in-process against moto: the admin routes, checkout applying a code with its use in the order's
transaction, every refusal a 422 that writes nothing, OrderPlaced carrying the discount, and a limit that holds
exactly under concurrent checkouts."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from ecommerce import bootstrap, publisher
from ecommerce.cart import service as cart_service
from ecommerce.cart.domain import ShippingAddress, fingerprint
from ecommerce.cart.store import DynamoCheckoutStore, DynamoProductLookup
from ecommerce.discounts.domain import DiscountExhausted
from ecommerce.discounts.store import DynamoDiscountRepository
from gears.local.http_events import http_api_event
from gears.local.lambda_context import LambdaContext
from gears.local.provision import Stack
from tests.functional.ecommerce.conftest import ADMIN, Answer, Call, checkout_body, claims_for
from tests.support.topics import drain, stream_batch, subscribe_queue

Products = Callable[..., list[dict[str, Any]]]
NOW = datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def new_code(prefix: str = "C") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def problem_code(answer: Answer) -> str:
    return str(answer.body["type"]).rsplit("/", 1)[1]


@pytest.fixture
def discount_api(table_name: str, lambda_env: Callable[[str], dict[str, str]]) -> ModuleType:
    from ecommerce.discounts import api

    lambda_env("DiscountAdminFunction")
    return api


@pytest.fixture
def admin(discount_api: ModuleType) -> Call:
    """``admin(method, path, body=..., claims=...)``: the discount admin function (an admin by default)."""

    def call(method: str, path: str, *, claims: dict[str, Any] | None = ADMIN, **kwargs: Any) -> Answer:
        event = http_api_event(method, path, claims=claims, **kwargs)
        return Answer(discount_api.discount_admin_handler(event, LambdaContext("DiscountAdminFunction", timeout_s=30)))

    return call


@pytest.fixture
def atomic_moto() -> Iterator[None]:
    """DynamoDB applies each request atomically; moto's in-process backend does not promise that to threads (a
    TransactWrite checks, then writes, then on failure restores a copy of the table taken before). This serialises
    moto's DynamoDB operations so that the concurrency test tests our code, not moto's (as inventory's does)."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    names = ("get_item", "put_item", "update_item", "delete_item", "transact_write_items", "batch_get_item", "query")
    originals = {name: getattr(DynamoDBBackend, name) for name in names}

    def locked(original: Callable[..., Any]) -> Callable[..., Any]:
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return original(self, *args, **kwargs)

        return run

    for name, original in originals.items():
        setattr(DynamoDBBackend, name, locked(original))
    try:
        yield
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)


def create(admin: Call, **body: Any) -> dict[str, Any]:
    answer = admin("POST", "/admin/discounts", body={"code": new_code(), "percentOff": 10, **body})
    assert answer.status == 201, answer
    return dict(answer.body)


def item(table_name: str, pk: str, sk: str) -> dict[str, Any] | None:
    return boto3.client("dynamodb").get_item(TableName=table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")


def fill_cart(shop_call: Call, product: dict[str, Any], user: str = "customer-1", quantity: int = 2) -> None:
    answer = shop_call("PUT", f"/cart/items/{product['productId']}", user=user, body={"quantity": quantity})
    assert answer.status == 200, answer


def checkout(shop_call: Call, code: str | None, user: str = "customer-1", key: str | None = None) -> Answer:
    body = checkout_body(discountCode=code) if code is not None else checkout_body()
    return shop_call("POST", "/checkout", user=user, headers={"Idempotency-Key": key or str(uuid.uuid4())}, body=body)


# -- admin -----------------------------------------------------------------------------------------------------------
def test_an_admin_creates_reads_lists_changes_and_deactivates_a_code(admin: Call) -> None:
    name = new_code("SPRING")
    created = admin(
        "POST",
        "/admin/discounts",
        body={
            "code": f"  {name.lower()} ",
            "amountOff": {"amount": 500, "currency": "GBP"},
            "validUntil": iso(NOW + timedelta(days=30)),
            "usageLimit": 100,
            "minSubtotal": {"amount": 2000, "currency": "GBP"},
        },
    )
    assert created.status == 201, created
    assert created.headers["location"] == f"/admin/discounts/{name}"
    body = created.body
    assert (body["code"], body["percentOff"], body["amountOff"]["amount"]) == (name, None, 500)
    assert (body["usageLimit"], body["used"], body["remaining"], body["active"], body["version"]) == (
        100,
        0,
        100,
        True,
        1,
    )
    assert admin("GET", f"/admin/discounts/{name.lower()}").body == body  # any case

    taken = admin("POST", "/admin/discounts", body={"code": name, "percentOff": 5})
    assert (taken.status, problem_code(taken)) == (409, "discount-exists")

    changed = admin(
        "PUT",
        f"/admin/discounts/{name}",
        body={**body, "amountOff": None, "percentOff": 15, "usageLimit": 40},
    )
    assert changed.status == 200, changed
    assert (changed.body["percentOff"], changed.body["usageLimit"], changed.body["remaining"]) == (15, 40, 40)
    assert changed.body["validFrom"] == body["validFrom"]
    assert changed.body["version"] == 2
    stale = admin("PUT", f"/admin/discounts/{name}", body={**body, "amountOff": None, "percentOff": 20})
    assert (stale.status, problem_code(stale)) == (409, "stale-discount")  # body carries version 1
    renamed = admin("PUT", f"/admin/discounts/{name}", body={"code": "OTHER1", "percentOff": 20})
    assert (renamed.status, problem_code(renamed)) == (400, "bad-request")

    assert admin("DELETE", f"/admin/discounts/{name}").status == 204
    assert admin("DELETE", f"/admin/discounts/{name}").status == 204  # again: still 204
    shown = admin("GET", f"/admin/discounts/{name}").body
    assert (shown["active"], shown["percentOff"]) == (False, 15)  # deactivated, not deleted


def test_codes_are_listed_a_page_at_a_time(admin: Call) -> None:
    names = sorted(create(admin)["code"] for _ in range(3))
    first = admin("GET", "/admin/discounts", query={"limit": "2"})
    assert first.status == 200, first
    assert [d["code"] for d in first.body["items"]] == names[:2]
    rest = admin("GET", "/admin/discounts", query={"limit": "2", "cursor": first.body["nextCursor"]})
    assert ([d["code"] for d in rest.body["items"]], rest.body["nextCursor"]) == (names[2:], None)
    assert admin("GET", "/admin/discounts", query={"cursor": "bm90LW91cnM"}).status == 400
    assert admin("GET", "/admin/discounts", query={"limit": "500"}).status == 400


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"code": "BOTH10", "percentOff": 10, "amountOff": {"amount": 100, "currency": "GBP"}}, "invalid-discount"),
        ({"code": "NONE10"}, "invalid-discount"),
        ({"code": "ZERO10", "percentOff": 0}, "bad-request"),
        ({"code": "MANY10", "percentOff": 101}, "bad-request"),
        ({"code": "FREE10", "amountOff": {"amount": 0, "currency": "GBP"}}, "invalid-discount"),
        ({"code": "a b", "percentOff": 10}, "invalid-discount"),
        ({"code": "X" * 40, "percentOff": 10}, "invalid-discount"),
        ({"code": "USED10", "percentOff": 10, "used": 3}, "bad-request"),
        (
            {
                "code": "LATE10",
                "percentOff": 10,
                "validFrom": "2030-01-02T00:00:00Z",
                "validUntil": "2030-01-01T00:00:00Z",
            },
            "invalid-discount",
        ),
        ({"code": "NOTZ10", "percentOff": 10, "validFrom": "2030-01-02T00:00:00"}, "bad-request"),
        ({"code": "FAR10", "percentOff": 10, "validUntil": "9999-12-31T23:59:59-05:00"}, "bad-request"),
        ({"code": "LIM10", "percentOff": 10, "usageLimit": 0}, "bad-request"),
        (
            {
                "code": "CUR10",
                "amountOff": {"amount": 100, "currency": "GBP"},
                "minSubtotal": {"amount": 1, "currency": "EUR"},
            },
            "invalid-discount",
        ),
    ],
)
def test_bad_codes_are_refused_and_nothing_is_written(admin: Call, body: dict[str, Any], code: str) -> None:
    answer = admin("POST", "/admin/discounts", body=body)
    assert (answer.status, problem_code(answer)) == (400, code), answer
    assert admin("GET", "/admin/discounts").body["items"] == []


def test_only_admins_reach_the_codes(admin: Call) -> None:
    customer = claims_for("customer-1")
    assert admin("GET", "/admin/discounts", claims=customer).status == 403
    assert admin("POST", "/admin/discounts", claims=customer, body={"code": "HACK10", "percentOff": 90}).status == 403
    assert admin("GET", "/admin/discounts").body["items"] == []
    assert admin("GET", "/admin/discounts/NOSUCH1").status == 404
    assert admin("GET", "/admin/discounts/x").status == 404  # no code is spelled so
    assert admin("DELETE", "/admin/discounts/NOSUCH1").status == 404


# -- checkout --------------------------------------------------------------------------------------------------------
def test_checkout_applies_a_code_and_counts_its_use_in_the_same_transaction(
    admin: Call, shop_call: Call, products: Products, table_name: str
) -> None:
    code = create(admin, usageLimit=10)["code"]
    [mug] = products(1, price={"amount": 1255, "currency": "GBP"})
    fill_cart(shop_call, mug, quantity=1)
    placed = checkout(shop_call, code.lower())
    assert placed.status == 202, placed
    receipt = placed.body
    # 10% of 12.55 is 1.255: 1.26 off (halves up); shipping 4.99 on the subtotal before the discount
    assert receipt["discount"] == {"code": code, "amount": {"amount": 126, "currency": "GBP"}}
    assert (receipt["subtotal"]["amount"], receipt["total"]["amount"]) == (1255, 1255 - 126 + 499)
    assert shop_call("GET", placed.headers["location"]).body["discount"] == receipt["discount"]
    order = item(table_name, f"ORDER#{receipt['orderId']}", "ORDER")
    assert order is not None
    assert order["discountCode"]["S"] == code
    shard = order["discountShard"]["N"]
    usage = item(table_name, f"DISCOUNT#{code}#USAGE#{shard}", "USAGE")
    assert usage is not None
    assert usage["used"]["N"] == "1"
    shown = admin("GET", f"/admin/discounts/{code}").body
    assert (shown["used"], shown["remaining"]) == (1, 9)


def test_a_retried_checkout_uses_the_code_once(admin: Call, shop_call: Call, products: Products) -> None:
    code = create(admin, usageLimit=3)["code"]
    [mug] = products(1)
    fill_cart(shop_call, mug)
    key = str(uuid.uuid4())
    first = checkout(shop_call, code, key=key)
    again = checkout(shop_call, code, key=key)
    assert (first.status, again.status, again.headers.get("idempotent-replayed")) == (202, 202, "true")
    assert again.body == first.body
    assert admin("GET", f"/admin/discounts/{code}").body["used"] == 1
    other = checkout(shop_call, None, key=key)  # the same key without the code: another request
    assert (other.status, problem_code(other)) == (422, "idempotency-key-reused")


@pytest.mark.parametrize(
    ("terms", "problem"),
    [
        ({"active": False}, "discount-inactive"),
        ({"validFrom": iso(NOW + timedelta(days=1))}, "discount-not-yet-valid"),
        ({"validUntil": iso(NOW - timedelta(days=1))}, "discount-expired"),  # no start: made already expired
        ({"validFrom": iso(NOW - timedelta(days=2)), "validUntil": iso(NOW - timedelta(days=1))}, "discount-expired"),
        ({"minSubtotal": {"amount": 100_000, "currency": "GBP"}}, "discount-below-minimum"),
        ({"percentOff": None, "amountOff": {"amount": 100, "currency": "EUR"}}, "discount-currency-mismatch"),
    ],
)
def test_a_code_that_does_not_apply_is_a_422_and_nothing_is_written(
    admin: Call, shop_call: Call, products: Products, table_name: str, terms: dict[str, Any], problem: str
) -> None:
    code = create(admin, usageLimit=5, **terms)["code"]
    [mug] = products(1)
    fill_cart(shop_call, mug)
    before = shop_call("GET", "/cart").body
    refused = checkout(shop_call, code)
    assert (refused.status, problem_code(refused)) == (422, problem), refused
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.body["discountCode"] == code
    assert shop_call("GET", "/cart").body == before
    assert admin("GET", f"/admin/discounts/{code}").body["used"] == 0


def test_an_unknown_code_is_422_discount_unknown(shop_call: Call, products: Products) -> None:
    [mug] = products(1)
    fill_cart(shop_call, mug)
    for typed in ("NOSUCH99", "?!", "x" * 64):
        refused = checkout(shop_call, typed)
        assert (refused.status, problem_code(refused)) == (422, "discount-unknown"), refused
    too_long = checkout(shop_call, "x" * 65)
    assert too_long.status == 400
    assert len(shop_call("GET", "/cart").body["lines"]) == 1


def test_order_placed_carries_the_discount(
    admin: Call, shop_call: Call, products: Products, cloud: Stack, lambda_env: Any
) -> None:
    env = lambda_env("EcommercePublisherFunction")
    queue = subscribe_queue(env["TOPIC_ARN"])
    code = create(admin, percentOff=None, amountOff={"amount": 1000, "currency": "GBP"})["code"]
    [mug] = products(1, price={"amount": 600, "currency": "GBP"})
    fill_cart(shop_call, mug, quantity=1)
    receipt = checkout(shop_call, code).body
    result = publisher.handler(
        stream_batch(cloud, "EcommerceTable"), LambdaContext("EcommercePublisherFunction", timeout_s=30)
    )
    assert result == {"batchItemFailures": []}
    [placed] = [e for e in drain(queue) if e.type == "OrderPlaced.v1"]
    assert placed.subject == receipt["orderId"]
    # 10.00 off a 6.00 subtotal takes 6.00: only shipping is left to pay
    assert placed.data["discount"] == {"code": code, "amount": {"amount": 600, "currency": "GBP"}}
    assert (placed.data["subtotal"]["amount"], placed.data["shipping"]["amount"], placed.data["total"]["amount"]) == (
        600,
        499,
        499,
    )


@pytest.mark.usefixtures("atomic_moto")
def test_twenty_concurrent_checkouts_against_a_limit_of_five_discount_exactly_five(
    admin: Call, shop_call: Call, products: Products, table_name: str
) -> None:
    buyers, limit = 20, 5
    code = create(admin, usageLimit=limit)["code"]
    [mug] = products(1)
    users = [f"buyer-{n}-{uuid.uuid4().hex[:6]}" for n in range(buyers)]
    for user in users:
        fill_cart(shop_call, mug, user=user, quantity=1)
    # The checkout's own ports, as the function builds them; boto3 clients are safe to share between threads.
    client = bootstrap.dynamodb()
    store, catalog = DynamoCheckoutStore(table_name, client), DynamoProductLookup(table_name, client)
    discounts = DynamoDiscountRepository(table_name, client)
    address = ShippingAddress("Ann", "1 High St", "Leeds", "LS1 1AA", "GB")
    placed: list[dict[str, Any]] = []
    refused: list[BaseException] = []
    errors: list[BaseException] = []
    start = threading.Barrier(buyers)

    def buy(user: str) -> None:
        cmd = cart_service.Checkout(
            user, f"key-{user}", address, "pm_card_visa", fingerprint({"user": user}), discount_code=code
        )
        start.wait()
        try:
            placed.append(cart_service.checkout(cmd, store, catalog, discounts=discounts).receipt)
        except DiscountExhausted as exc:
            refused.append(exc)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=buy, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert len(placed) == limit
    assert all(r["discount"]["code"] == code for r in placed)
    assert len(refused) == buyers - limit
    shown = admin("GET", f"/admin/discounts/{code}").body
    assert (shown["used"], shown["remaining"]) == (limit, 0)
    # the uses were spread over the code's shards, each within its allowance
    for shard in range(limit):
        usage = item(table_name, f"DISCOUNT#{code}#USAGE#{shard}", "USAGE")
        assert usage is not None
        assert int(usage["used"]["N"]) <= int(usage["allowance"]["N"]) == 1
    # the refused kept their carts; one more checkout through the API is told the code is used up
    still_shopping = [u for u in users if shop_call("GET", "/cart", user=u).body["lines"]]
    assert len(still_shopping) == buyers - limit
    answer = checkout(shop_call, code, user=still_shopping[0])
    assert (answer.status, problem_code(answer)) == (422, "discount-exhausted")


# -- an order cancelled unpaid gives its use back ----------------------------------------------------------------------
def cancelled(order_id: str, *, paid: bool, event_id: str | None = None) -> dict[str, Any]:
    from gears_shared.events import new_event

    data = {
        "orderId": order_id,
        "userId": "customer-1",
        "reason": "payment_failed",
        "lines": [],
        "previousStatus": "CONFIRMED",
        "paid": paid,
    }
    envelope = new_event("OrderCancelled.v1", "gears.orders", data, subject=order_id, event_id=event_id)
    return {
        "Records": [
            {
                "messageId": f"m-{uuid.uuid4()}",
                "receiptHandle": "h",
                "body": envelope.to_json(),
                "attributes": {},
                "eventSource": "aws:sqs",
            }
        ]
    }


def test_an_order_cancelled_unpaid_gives_back_its_use_once(
    admin: Call, shop_call: Call, products: Products, table_name: str, lambda_env: Any
) -> None:
    from ecommerce.discounts import consumers

    lambda_env("EcommerceOrdersConsumerFunction")
    context = LambdaContext("EcommerceOrdersConsumerFunction", timeout_s=30)
    code = create(admin, usageLimit=1)["code"]
    [mug] = products(1)
    fill_cart(shop_call, mug)
    order_id = checkout(shop_call, code).body["orderId"]
    fill_cart(shop_call, mug, user="second-buyer")
    used_up = checkout(shop_call, code, user="second-buyer")
    assert (used_up.status, problem_code(used_up)) == (422, "discount-exhausted")

    assert consumers.orders_handler(cancelled(order_id, paid=True), context) == {"batchItemFailures": []}
    assert admin("GET", f"/admin/discounts/{code}").body["used"] == 1  # a paid order keeps its use
    event_id = str(uuid.uuid4())
    for _ in range(2):  # a redelivery, and a duplicate with another id, give back nothing more
        assert consumers.orders_handler(cancelled(order_id, paid=False, event_id=event_id), context) == {
            "batchItemFailures": []
        }
    assert consumers.orders_handler(cancelled(order_id, paid=False), context) == {"batchItemFailures": []}
    shown = admin("GET", f"/admin/discounts/{code}").body
    assert (shown["used"], shown["remaining"]) == (0, 1)
    order = item(table_name, f"ORDER#{order_id}", "ORDER")
    assert order is not None
    assert "discountReleasedAt" in order
    # the use is there to take again
    assert checkout(shop_call, code, user="second-buyer").status == 202
    # an order that used no code, or one this service never placed, changes nothing
    assert consumers.orders_handler(cancelled(str(uuid.uuid4()), paid=False), context) == {"batchItemFailures": []}
