"""Order management's HTTP functions, split by permission profile.

``OrdersReadFunction`` (read-only; the caller's own orders, staff any):

- ``GET /orders?limit=&cursor=``: the caller's orders, newest first: ``{"items": [summary], "nextCursor"}``.
- ``GET /orders/{orderId}``: the order with its lines, totals, status history, payment and shipment. Another
  customer's order is 404; support and admin see any.

``OrdersCancelFunction``: ``POST /orders/{orderId}/cancel``: the owner before shipping, or an admin (support may
not). 200 with the order; once shipped 422 (``order-state``). Cancelling a cancelled order again is 200.

``OrdersAdminReadFunction`` (support, admin; read-only):
``GET /admin/orders?status=PAID,SHIPPED&from=&to=&limit=&cursor=``: orders by status (every status when none is
named) placed in the date range (ISO dates or times; a date alone covers its day), newest first, paged.

``OrdersFulfilmentFunction`` (admin): ``POST /admin/orders/{orderId}/ship`` ``{"carrier", "trackingNumber"}``
(only a PAID order; the carrier one of :data:`orders.domain.CARRIERS`, the tracking number in that carrier's
format) and ``POST /admin/orders/{orderId}/deliver`` (only a SHIPPED order).

Roles are checked before the request is read: a caller without the role gets 403 and learns nothing about what a
valid request looks like. Bad input is 400, a state that forbids the change 422, and nothing is changed.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from gears_shared.auth import ADMIN, STAFF
from gears_shared.errors import BadRequest
from gears_shared.http import (
    CORRELATION_ID_PATH,
    answer,
    create_resolver,
    current_caller,
    current_correlation_id,
    decode_cursor,
    encode_cursor,
    json_response,
    request_body,
    require_roles,
)
from gears_shared.observability import setup
from orders import service
from orders.domain import CARRIERS, OrderStatus
from orders.errors import InvalidCursor
from orders.store import DynamoOrderRepository

logger, tracer, metrics = setup()

# Wired once per container: tests reach this to hand in fakes.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
orders = DynamoOrderRepository(TABLE_NAME)

MAX_CURSOR = 1024

Carrier = Literal["royal_mail", "dpd", "dhl", "ups", "fedex", "evri"]
assert set(Carrier.__args__) == set(CARRIERS)  # type: ignore[attr-defined]


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: Carrier
    trackingNumber: str = Field(min_length=4, max_length=40)


def _query(app: APIGatewayHttpResolver, name: str) -> str | None:
    value = app.current_event.get_query_string_value(name)
    return value if value not in (None, "") else None


def _limit(app: APIGatewayHttpResolver) -> int | None:
    raw = _query(app, "limit")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise BadRequest("limit is a positive whole number.")
    return int(raw)


def _before(app: APIGatewayHttpResolver) -> str | None:
    raw = _query(app, "cursor")
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
read_app = create_resolver(logger)


@read_app.get("/orders")
def list_my_orders() -> Response[Any]:
    caller = current_caller(read_app)
    page = service.list_my_orders(caller, orders, limit=_limit(read_app), before=_before(read_app))
    return _page(page)


@read_app.get("/orders/<order_id>")
def get_order(order_id: str) -> Response[Any]:
    order = service.get_order(order_id, current_caller(read_app), orders)
    return json_response(order.to_dict())


cancel_app = create_resolver(logger)


@cancel_app.post("/orders/<order_id>/cancel")
def cancel_order(order_id: str) -> Response[Any]:
    order = service.cancel_order(
        order_id, current_caller(cancel_app), orders, correlation_id=current_correlation_id(cancel_app)
    )
    return json_response(order.to_dict())


# -- staff -------------------------------------------------------------------------------------------------------
admin_read_app = create_resolver(logger)
admin_read_app.use(middlewares=[require_roles(*STAFF)])


def _statuses(raw: str | None) -> list[OrderStatus]:
    if raw is None:
        return []
    out = []
    for part in raw.split(","):
        name = part.strip().upper()
        if name not in OrderStatus.__members__:
            raise BadRequest(f"Unknown status {part.strip()!r}; one of: {', '.join(OrderStatus)}.")
        out.append(OrderStatus(name))
    return list(dict.fromkeys(out))


@admin_read_app.get("/admin/orders")
def list_orders() -> Response[Any]:
    app = admin_read_app
    page = service.list_orders(
        current_caller(app),
        orders,
        statuses=_statuses(_query(app, "status")),
        since=_query(app, "from"),
        until=_query(app, "to"),
        limit=_limit(app),
        before=_before(app),
    )
    return _page(page)


fulfilment_app = create_resolver(logger)
fulfilment_app.use(middlewares=[require_roles(ADMIN)])


@fulfilment_app.post("/admin/orders/<order_id>/ship")
def ship_order(order_id: str) -> Response[Any]:
    body = request_body(fulfilment_app, ShipmentIn)
    order = service.ship_order(
        order_id,
        body.carrier,
        body.trackingNumber,
        current_caller(fulfilment_app),
        orders,
        correlation_id=current_correlation_id(fulfilment_app),
    )
    return json_response(order.to_dict())


@fulfilment_app.post("/admin/orders/<order_id>/deliver")
def deliver_order(order_id: str) -> Response[Any]:
    order = service.deliver_order(
        order_id, current_caller(fulfilment_app), orders, correlation_id=current_correlation_id(fulfilment_app)
    )
    return json_response(order.to_dict())


# -- handlers ----------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def read_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(read_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def cancel_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(cancel_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def admin_read_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(admin_read_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def fulfilment_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(fulfilment_app, event, context)
