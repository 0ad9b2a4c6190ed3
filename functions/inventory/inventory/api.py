"""The inventory's HTTP functions, all for administrators (the ``admin`` group; others get 403):
reads (``InventoryReadFunction``) and writes (``InventoryAdminFunction``).

- ``GET /inventory/{sku}?limit=&cursor=``: the SKU's figures (``onHand``, ``reserved``, ``available``,
  ``threshold``, ``level``: ``in_stock``/``low``/``out``, ``version``, ``updatedAt``) and one page of its ledger,
  ``movements`` newest first (kind, deltas, figures after, reference, reason, actor, time), with ``nextCursor``.
- ``GET /inventory/low-stock?limit=&cursor=``: the SKUs at or under their threshold, ``{"items", "nextCursor"}``.
- ``PUT /inventory/{sku}`` ``{"threshold"?, "delta"?, "reason"?, "productId"?}``: set the low-stock threshold
  and/or adjust the stock by a signed ``delta`` with a ``reason`` (required with a delta). Creates the SKU's record
  if it is missing (201; else 200). An adjustment that would take ``available`` below zero is 422, nothing changed.
- ``POST /inventory/{sku}/restock`` ``{"quantity": >0, "reference"?}``: receive stock (200). A ``reference`` (a
  delivery note) is received once per SKU: the same one again is 409. An unknown SKU is 404.

``limit`` defaults to 20 and is capped at 100; a malformed body, SKU, limit or cursor is 400. Every answer carries
``x-correlation-id``, which every write stores for the published events to carry.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from gears_shared.auth import ADMIN
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
    problem_response,
    request_body,
    require_roles,
)
from gears_shared.observability import setup
from inventory import service
from inventory.domain import MAX_QUANTITY, InsufficientStock, InvalidSku, StockRuleError
from inventory.errors import BadSku, InsufficientStockError, StockRuleViolation
from inventory.store import DynamoStockRepository

logger, tracer, metrics = setup()

# Wired once per container: tests reach ``repo`` to hand in another.
TABLE_NAME = os.environ.get("TABLE_NAME", "")
repo = DynamoStockRepository(TABLE_NAME)

MAX_CURSOR = 4096

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:-]*$"),
]
ProductId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class StockUpdate(BaseModel):
    """PUT /inventory/{sku}. The figures themselves are the server's: only a threshold and an adjustment."""

    model_config = ConfigDict(extra="forbid")

    threshold: StrictInt | None = Field(None, ge=0, le=MAX_QUANTITY)
    delta: StrictInt | None = Field(None, ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    reason: Reason | None = None
    productId: ProductId | None = None


class Restock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt = Field(gt=0, le=MAX_QUANTITY)
    reference: Reference | None = None


# -- shared plumbing -------------------------------------------------------------------------------------------------
def _resolver() -> APIGatewayHttpResolver:
    app = create_resolver(logger)
    app.use(middlewares=[require_roles(ADMIN)])

    @app.exception_handler(InsufficientStock)
    def _insufficient(error: InsufficientStock) -> Response[Any]:
        problem = InsufficientStockError(
            str(error), sku=error.sku, requested=error.requested, available=error.available
        )
        return problem_response(problem, app.current_event.path)

    @app.exception_handler(InvalidSku)
    def _bad_sku(error: InvalidSku) -> Response[Any]:
        return problem_response(BadSku(str(error)), app.current_event.path)

    @app.exception_handler(StockRuleError)
    def _rule_broken(error: StockRuleError) -> Response[Any]:
        return problem_response(StockRuleViolation(str(error)), app.current_event.path)

    return app


def _paging(app: APIGatewayHttpResolver) -> tuple[int | None, dict[str, Any] | None]:
    """``limit`` and ``cursor`` from the query string, checked here (after the role check)."""
    raw_limit = app.current_event.get_query_string_value("limit")
    limit = None
    if raw_limit is not None:
        if not raw_limit.strip().isdigit() or int(raw_limit) < 1:
            raise BadRequest("limit is a whole number from 1 (at most 100 are served).")
        limit = int(raw_limit)
    cursor = app.current_event.get_query_string_value("cursor")
    if cursor is not None and len(cursor) > MAX_CURSOR:
        raise BadRequest("The cursor is not valid.")
    return limit, decode_cursor(cursor)


# -- reads -----------------------------------------------------------------------------------------------------------
read_app = _resolver()


@read_app.get(
    "/inventory/low-stock",
    summary="SKUs at or under their low-stock threshold",
    description="Paged with `limit` (default 20, at most 100) and the previous page's `nextCursor` as `cursor`.",
)
def low_stock() -> Response[Any]:
    limit, position = _paging(read_app)
    page = service.list_low_stock(repo=repo, limit=limit, position=position)
    return json_response({"items": [i.to_dict() for i in page.items], "nextCursor": encode_cursor(page.next_position)})


@read_app.get(
    "/inventory/<sku>",
    summary="A SKU's stock figures and its ledger of movements, newest first",
    description="The ledger is paged with `limit` (default 20, at most 100) and `cursor` (`nextCursor`).",
)
def get_stock(sku: str) -> Response[Any]:
    limit, position = _paging(read_app)
    view = service.stock_view(sku, repo=repo, limit=limit, position=position)
    body = {
        **view.item.to_dict(),
        "movements": [m.to_dict() for m in view.movements],
        "nextCursor": encode_cursor(view.next_position),
    }
    return json_response(body)


# -- writes ----------------------------------------------------------------------------------------------------------
admin_app = _resolver()


@admin_app.put(
    "/inventory/<sku>",
    summary="Set the low-stock threshold and/or adjust the stock with a reason (creates the record: 201)",
    description="Body: `{threshold?, delta?, reason?, productId?}`; a `delta` needs a `reason`; 422 if `available` "
    "would go below zero.",
)
def update_stock(sku: str) -> Response[Any]:
    body = request_body(admin_app, StockUpdate)
    if body.threshold is None and body.delta is None:
        raise BadRequest("Send a threshold, an adjustment (delta with a reason), or both.")
    if body.delta is not None and body.reason is None:
        raise BadRequest("An adjustment (delta) needs a reason.")
    if body.delta == 0:
        raise BadRequest("An adjustment (delta) is not zero.")
    if body.reason is not None and body.delta is None:
        raise BadRequest("A reason explains an adjustment: send it with a delta.")
    item, created = service.update_stock(
        sku,
        repo=repo,
        threshold=body.threshold,
        delta=body.delta,
        reason=body.reason,
        product_id=body.productId,
        actor=current_caller(admin_app).user_id,
        correlation_id=current_correlation_id(admin_app),
    )
    return json_response(item.to_dict(), 201 if created else 200)


@admin_app.post(
    "/inventory/<sku>/restock",
    summary="Receive stock; a reference is received once per SKU (409 the second time)",
    description="Body: `{quantity: 1..1000000, reference?}`; an unknown SKU is 404.",
)
def restock(sku: str) -> Response[Any]:
    body = request_body(admin_app, Restock)
    item = service.receive_stock(
        sku,
        body.quantity,
        repo=repo,
        reference=body.reference,
        actor=current_caller(admin_app).user_id,
        correlation_id=current_correlation_id(admin_app),
    )
    return json_response(item.to_dict())


# -- handlers --------------------------------------------------------------------------------------------------------
@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def inventory_read_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(read_app, event, context)


@logger.inject_lambda_context(correlation_id_path=CORRELATION_ID_PATH)
@tracer.capture_lambda_handler
@metrics.log_metrics
def inventory_admin_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(admin_app, event, context)
