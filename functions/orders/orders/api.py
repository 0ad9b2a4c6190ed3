"""Order management's HTTP functions, one resolver per permission profile: ``OrdersReadFunction`` (the caller's
own orders; staff any), ``OrdersCancelFunction``, ``OrdersAdminReadFunction`` (support, admin),
``OrdersFulfilmentFunction`` (admin) and ``OrdersHistoryFunction`` (admin: past orders imported, :mod:`orders.history`).

Roles are checked before the request is read: a caller without the role gets 403 and learns nothing about what a
valid request looks like. Bad input is 400, a state that forbids the change 422 (``order-state``, with the
order's ``orderStatus``), and nothing is changed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from gears_shared.answers import Answer, Money, Timestamp
from gears_shared.auth import ADMIN, STAFF
from gears_shared.errors import BadRequest
from gears_shared.http import (
    create_resolver,
    current_caller,
    current_correlation_id,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    page_limit,
    query_param,
    request_body,
)
from orders import bootstrap, history, service
from orders.domain import CARRIERS, CancelReason, IllegalTransition, InvalidShipment, OrderStatus
from orders.errors import InvalidCursor
from orders.service import OrderRepository

# The order's rule errors; the service's own errors are shared kinds and carry their status already.
ERRORS: dict[type[BaseException], int] = {IllegalTransition: 422, InvalidShipment: 400}

MAX_CURSOR = 1024

Orders = Annotated[OrderRepository, Depends(bootstrap.order_repository)]
History = Annotated[history.HistoryRepository, Depends(bootstrap.history_repository)]
Carrier = Literal["royal_mail", "dpd", "dhl", "ups", "fedex", "evri"]
assert set(Carrier.__args__) == set(CARRIERS)  # type: ignore[attr-defined]


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: Carrier
    trackingNumber: str = Field(min_length=4, max_length=40)


# -- answers: what Order.to_dict() and Order.summary() write -----------------------------------------------------
Status = Literal["PENDING", "CONFIRMED", "AWAITING_PAYMENT", "PAID", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"]
assert set(Status.__args__) == set(OrderStatus)  # type: ignore[attr-defined]
CancelReasonName = Literal["out_of_stock", "payment_failed", "customer_request", "admin_request"]
assert set(CancelReasonName.__args__) == set(CancelReason)  # type: ignore[attr-defined]


class OrderLineAnswer(Answer):
    productId: str
    sku: str
    title: str
    quantity: int
    unitPrice: Money
    lineTotal: Money


class OrderStepCause(Answer):
    type: str = Field(description="The event's type (`OrderPlaced.v1`, ...), or `request`")
    id: str = Field(description="The event's id, or the user id of the caller who asked")


class OrderStep(Answer):
    seq: int = Field(description="Its place in the history, from 0 (the order placed)")
    from_: Status | None = Field(alias="from", description="null for the first step")
    to: Status
    at: Timestamp
    cause: OrderStepCause
    reason: CancelReasonName | None = None  # only on a cancellation


class OrderRefundAnswer(Answer):
    refundId: str
    amount: int = Field(description="Minor units of the payment's currency")
    at: Timestamp
    eventId: str = Field(description="The PaymentRefunded event that told of it")


class OrderPaymentAnswer(Answer):
    method: str = Field(description="The payment method checkout took; empty if none was given")
    charged: Money
    refunded: Money
    paymentIntentId: str | None
    refunds: list[OrderRefundAnswer]
    voided: bool
    failure: str | None = Field(description="Why the charge failed (the decline code, else the reason)")
    approvalUrl: str | None = Field(
        description="While AWAITING_PAYMENT: the provider's page where the buyer approves the payment (PayPal); "
        "else null"
    )
    approvalExpiresAt: Timestamp | None = Field(
        description="While AWAITING_PAYMENT: when the wait for the buyer's approval ends (the order is then "
        "cancelled unless paid); else null"
    )


class OrderShipmentAnswer(Answer):
    carrier: Carrier | None
    trackingNumber: str | None
    shippedAt: Timestamp | None
    deliveredAt: Timestamp | None


class OrderDiscountAnswer(Answer):
    code: str
    amount: Money = Field(description="What the code took off the subtotal")


class OrderAnswer(Answer):
    orderId: str
    userId: str
    status: Status
    lines: list[OrderLineAnswer]
    subtotal: Money
    shipping: Money
    discount: OrderDiscountAnswer | None = Field(description="The discount code checkout applied; null: none")
    total: Money = Field(description="subtotal - discount + shipping")
    # A map, not a model: orders keeps the address as OrderPlaced carried it (read tolerantly, never validated
    # here), so its keys are checkout's (name, line1, line2, city, postalCode, country), not a shape orders promises.
    shippingAddress: dict[str, str | None] = Field(description="As checkout placed it")
    placedAt: Timestamp
    updatedAt: Timestamp = Field(description="When the status last changed")
    cancelReason: CancelReasonName | None
    payment: OrderPaymentAnswer
    shipment: OrderShipmentAnswer
    history: list[OrderStep]
    version: int = Field(description="Goes up by one with every change")


class OrderSummary(Answer):
    orderId: str
    userId: str
    status: Status
    total: Money
    itemCount: int = Field(description="The quantities of all the lines, added up")
    placedAt: Timestamp
    updatedAt: Timestamp


class OrderPageAnswer(Answer):
    items: list[OrderSummary]
    nextCursor: str | None = Field(description="The `cursor` of the next page; null on the last")


PAGING = {"limit": "Orders per page, 1 to 100", "cursor": "The previous page's `nextCursor`"}


def _before(app: APIGatewayHttpResolver) -> str | None:
    raw = query_param(app, "cursor")
    if raw is None:
        return None
    if len(raw) > MAX_CURSOR:
        raise InvalidCursor("The cursor is not valid.")
    position = decode_cursor(raw) or {}
    before = position.get("b")
    if not isinstance(before, str) or "#" not in before or len(before) > 300:
        raise InvalidCursor("The cursor is not valid.")
    return before


def _page(page: service.OrderPage) -> Response[Any]:
    cursor = encode_cursor({"b": page.next_before}) if page.next_before else None
    return json_response({"items": [o.summary() for o in page.items], "nextCursor": cursor})


# -- the caller's orders -----------------------------------------------------------------------------------------
read_app = create_resolver(ERRORS)


@read_app.get(
    "/orders",
    summary="List my orders",
    description="The caller's orders, newest first, a page at a time (`limit`, at most 100; `cursor` from "
    "`nextCursor`): `{items: [summary], nextCursor}`.",
)
@documented(answers={200: OrderPageAnswer}, query=PAGING)
def list_my_orders(orders: Orders) -> Response[Any]:
    query = service.ListMyOrders(current_caller(read_app), limit=page_limit(read_app), before=_before(read_app))
    return _page(service.list_my_orders(query, orders))


@read_app.get(
    "/orders/<order_id>",
    summary="Get an order",
    description="The order with its lines, totals, status history, payment and shipment. While it is "
    "AWAITING_PAYMENT (the buyer approves at PayPal) its payment has `approvalUrl` and `approvalExpiresAt`. Another "
    "customer's order is 404; support and admin see any.",
)
@documented(answers={200: OrderAnswer})
def get_order(order_id: str, orders: Orders) -> Response[Any]:
    order = service.get_order(service.GetOrder(order_id, current_caller(read_app)), orders)
    return json_response(order.to_dict())


cancel_app = create_resolver(ERRORS)


@cancel_app.post(
    "/orders/<order_id>/cancel",
    summary="Cancel an order",
    description="The owner before shipping, or an admin (support may not): 200 with the order. Once shipped, 422 "
    "(`order-state`). Cancelling a cancelled order again is 200 and changes nothing.",
)
@documented(answers={200: OrderAnswer})
def cancel_order(order_id: str, orders: Orders) -> Response[Any]:
    cmd = service.CancelOrder(order_id, current_caller(cancel_app), current_correlation_id(cancel_app))
    return json_response(service.cancel_order(cmd, orders).to_dict())


# -- staff -------------------------------------------------------------------------------------------------------
admin_read_app = create_resolver(ERRORS, roles=tuple(sorted(STAFF)))


def _statuses(raw: str | None) -> tuple[OrderStatus, ...]:
    if raw is None:
        return ()
    out = []
    for part in raw.split(","):
        name = part.strip().upper()
        if name not in OrderStatus.__members__:
            raise BadRequest(f"Unknown status {part.strip()!r}; one of: {', '.join(OrderStatus)}.")
        out.append(OrderStatus(name))
    return tuple(dict.fromkeys(out))


@admin_read_app.get(
    "/admin/orders",
    summary="List orders by status and date",
    description="Orders in the statuses named (`status=PAID,SHIPPED`; every status when none is) placed in the "
    "range `from`..`to` (ISO dates or times; a date alone covers its day), newest first, paged like `/orders`. "
    "Support and admin.",
)
@documented(
    answers={200: OrderPageAnswer},
    query={
        **PAGING,
        "status": "Comma-separated statuses (PENDING, CONFIRMED, AWAITING_PAYMENT, PAID, SHIPPED, DELIVERED, "
        "CANCELLED, REFUNDED)",
        "from": "Placed at or after this ISO 8601 time",
        "to": "Placed before this ISO 8601 time",
    },
)
def list_orders(orders: Orders) -> Response[Any]:
    app = admin_read_app
    query = service.ListOrders(
        current_caller(app),
        statuses=_statuses(query_param(app, "status")),
        since=query_param(app, "from"),
        until=query_param(app, "to"),
        limit=page_limit(app),
        before=_before(app),
    )
    return _page(service.list_orders(query, orders))


fulfilment_app = create_resolver(ERRORS, roles=(ADMIN,))


@fulfilment_app.post(
    "/admin/orders/<order_id>/ship",
    summary="Ship an order",
    description="Only a PAID order ships (else 422). The carrier is one of ours and the tracking number in that "
    "carrier's format (else 400). Admin only.",
)
@documented(body=ShipmentIn, answers={200: OrderAnswer})
def ship_order(order_id: str, orders: Orders) -> Response[Any]:
    app = fulfilment_app
    body = request_body(app, ShipmentIn)
    cmd = service.ShipOrder(
        order_id, body.carrier, body.trackingNumber, current_caller(app), current_correlation_id(app)
    )
    return json_response(service.ship_order(cmd, orders).to_dict())


@fulfilment_app.post(
    "/admin/orders/<order_id>/deliver",
    summary="Mark an order delivered",
    description="Only a SHIPPED order is delivered (else 422). Admin only.",
)
@documented(answers={200: OrderAnswer})
def deliver_order(order_id: str, orders: Orders) -> Response[Any]:
    app = fulfilment_app
    cmd = service.DeliverOrder(order_id, current_caller(app), current_correlation_id(app))
    return json_response(service.deliver_order(cmd, orders).to_dict())


# -- imported history (admin) ------------------------------------------------------------------------------------
MAX_HISTORY_BODY = 1_000_000


class HistoryPriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(ge=0, le=history.MAX_UNIT_AMOUNT, description="Minor units")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217; one currency a request")


class HistoryLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    productId: str = Field(pattern=history.UUID_PATTERN.pattern, description="The product's id in the catalog")
    sku: str = Field(min_length=1, max_length=history.MAX_SKU)
    title: str = Field(default="", max_length=history.MAX_TITLE)
    quantity: int = Field(ge=1, le=history.MAX_QUANTITY, description="Units (given back, on a return)")
    unitPrice: HistoryPriceIn


class HistoryOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orderId: str = Field(pattern=history.ORDER_ID_PATTERN.pattern, description="The shop's own order reference")
    customerId: str = Field(
        default="", pattern=history.CUSTOMER_ID_PATTERN.pattern, description="The shop's own customer reference"
    )
    placedAt: str = Field(max_length=40, description="ISO 8601 with its zone; not in the future")
    country: str = Field(default="", pattern=history.COUNTRY_PATTERN.pattern, description="ISO 3166-1 alpha-2")
    kind: Literal["order", "return"] = Field(default="order", description="A return: units given back")
    lines: list[HistoryLineIn] = Field(min_length=1, max_length=history.MAX_LINES)

    def to_domain(self) -> history.HistoryOrder:
        return history.HistoryOrder(
            order_id=self.orderId,
            customer_id=self.customerId,
            placed_at=history.parse_time(self.placedAt),
            country=self.country,
            kind=self.kind,
            currency=self.lines[0].unitPrice.currency,
            lines=tuple(
                history.HistoryLine(line.productId, line.sku, line.title, line.quantity, line.unitPrice.amount)
                for line in self.lines
            ),
        )


class HistoryImportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[HistoryOrderIn] = Field(min_length=1, max_length=history.MAX_ORDERS)


class HistoryImportAnswer(Answer):
    received: int = Field(description="Orders in the request")
    imported: int = Field(description="Orders imported now (each announced in OrderHistoryImported.v1)")
    alreadyImported: list[str] = Field(description="The order ids imported before, left as they were")
    batchId: str | None = Field(description="The batch the new orders went in; null when none was new")


def _history_orders(body: HistoryImportIn) -> tuple[history.HistoryOrder, ...]:
    orders = []
    for i, order in enumerate(body.orders):
        currencies = {line.unitPrice.currency for line in order.lines}
        if len(currencies) > 1:
            raise history.InvalidHistory(f"orders[{i}].lines: one currency a request.")
        try:
            orders.append(order.to_domain())
        except history.InvalidHistory as exc:
            raise history.InvalidHistory(f"orders[{i}].{exc.detail}") from exc
    return tuple(orders)


history_app = create_resolver(ERRORS, roles=(ADMIN,))


@history_app.post(
    "/admin/orders/history",
    summary="Import past orders",
    description="Orders and returns from before Gears, as history: counted in sales figures and co-purchases, never "
    "placed, reserved, charged or notified. 1 to 50 orders, at most 500 lines in all, one currency; the service "
    "computes each total. An order id imported before is left as it was (`alreadyImported`), so the same import "
    "run twice imports nothing twice. The new ones are announced in one `OrderHistoryImported.v1`. Admin only.",
)
@documented(body=HistoryImportIn, answers={200: HistoryImportAnswer})
def import_history(repo: History) -> Response[Any]:
    app = history_app
    if len((app.current_event.body or "").encode()) > MAX_HISTORY_BODY:
        raise history.HistoryTooLarge(f"The body is over {MAX_HISTORY_BODY} bytes; send fewer orders a request.")
    orders = _history_orders(request_body(app, HistoryImportIn))
    cmd = history.ImportHistory(orders, current_correlation_id(app))
    return json_response(history.import_history(cmd, repo).to_dict())


# -- handlers ----------------------------------------------------------------------------------------------------
read_handler = http_handler(read_app)
cancel_handler = http_handler(cancel_app)
admin_read_handler = http_handler(admin_read_app)
fulfilment_handler = http_handler(fulfilment_app)
history_handler = http_handler(history_app)
