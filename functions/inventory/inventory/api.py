"""The inventory's HTTP functions, all for administrators (the ``admin`` group; others get 403): reads
(``InventoryReadFunction``) and writes (``InventoryAdminFunction``). Each route's summary and description say what it
does (they make the OpenAPI spec); every answer carries ``x-correlation-id``, which every write stores for the
published events to carry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from gears_shared.answers import Answer, Timestamp
from gears_shared.auth import ADMIN
from gears_shared.errors import BadRequest
from gears_shared.http import (
    ErrorTable,
    create_resolver,
    current_caller,
    current_correlation_id,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    request_body,
    whole_number,
)
from inventory import bootstrap, service
from inventory.domain import MAX_QUANTITY, InvalidSku, StockRuleError
from inventory.service import StockRepository

# The domain's rule errors; the service's own errors are shared kinds (inventory.errors) and need no row.
# InsufficientStock is a StockRuleError: 422, with its sku, requested and available.
ERRORS: ErrorTable = {InvalidSku: 400, StockRuleError: 422}

MAX_CURSOR = 4096

Repository = Annotated[StockRepository, Depends(bootstrap.stock_repository)]
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

    def check(self) -> None:
        """What the schema cannot say: something to do, and a reason exactly with an adjustment."""
        if self.threshold is None and self.delta is None:
            raise BadRequest("Send a threshold, an adjustment (delta with a reason), or both.")
        if self.delta is not None and self.reason is None:
            raise BadRequest("An adjustment (delta) needs a reason.")
        if self.delta == 0:
            raise BadRequest("An adjustment (delta) is not zero.")
        if self.reason is not None and self.delta is None:
            raise BadRequest("A reason explains an adjustment: send it with a delta.")


class Restock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: StrictInt = Field(gt=0, le=MAX_QUANTITY)
    reference: Reference | None = None


class StockAnswer(Answer):
    """A SKU's figures (``StockItem.to_dict``)."""

    sku: str
    productId: str | None
    onHand: int
    reserved: int
    available: int
    threshold: int
    level: Literal["in_stock", "low", "out"]
    version: int
    updatedAt: Timestamp | None


class MovementAnswer(Answer):
    """One entry of a SKU's ledger (``Movement.to_dict``)."""

    kind: Literal["reserve", "commit", "release", "restock", "adjust"]
    onHandDelta: int
    reservedDelta: int
    onHandAfter: int
    reservedAfter: int
    availableAfter: int
    reference: str
    reason: str  # "" when the movement gave none
    actor: str | None
    at: Timestamp


class StockLedgerAnswer(StockAnswer):
    """A SKU's figures with one page of its ledger, newest first."""

    movements: list[MovementAnswer]
    nextCursor: str | None


class LowStockPage(Answer):
    items: list[StockAnswer]
    nextCursor: str | None


PAGING = {"limit": "Entries per page, 1 to 100", "cursor": "The previous page's `nextCursor`"}


def _paging(app: APIGatewayHttpResolver) -> tuple[int | None, dict[str, Any] | None]:
    """``limit`` and ``cursor`` from the query string, checked here (after the role check)."""
    raw_limit = app.current_event.get_query_string_value("limit")
    limit = None
    if raw_limit is not None:
        limit = whole_number(raw_limit.strip())
        if limit is None or limit < 1:
            raise BadRequest("limit is a whole number from 1 (at most 100 are served).")
    cursor = app.current_event.get_query_string_value("cursor")
    if cursor is not None and len(cursor) > MAX_CURSOR:
        raise BadRequest("The cursor is not valid.")
    return limit, decode_cursor(cursor)


# -- reads -----------------------------------------------------------------------------------------------------------
read_app = create_resolver(ERRORS, roles=(ADMIN,))


@read_app.get(
    "/inventory/low-stock",
    summary="SKUs at or under their low-stock threshold",
    description="Paged with `limit` (default 20, at most 100) and the previous page's `nextCursor` as `cursor`. "
    "Answers `{items, nextCursor}`.",
)
@documented(answers={200: LowStockPage}, query=PAGING)
def low_stock(repo: Repository) -> Response[str]:
    limit, position = _paging(read_app)
    page = service.list_low_stock(service.ListLowStock(limit, position), repo)
    return json_response({"items": [i.to_dict() for i in page.items], "nextCursor": encode_cursor(page.next_position)})


@read_app.get(
    "/inventory/<sku>",
    summary="A SKU's stock figures and its ledger of movements, newest first",
    description="The figures (`onHand`, `reserved`, `available`, `threshold`, `level`: `in_stock`/`low`/`out`, "
    "`version`, `updatedAt`) and one page of `movements` (kind, deltas, figures after, reference, reason, actor, "
    "time), paged with `limit` (default 20, at most 100) and `cursor` (`nextCursor`). An unknown SKU is 404.",
)
@documented(answers={200: StockLedgerAnswer}, query=PAGING)
def get_stock(sku: str, repo: Repository) -> Response[str]:
    limit, position = _paging(read_app)
    view = service.view_stock(service.ViewStock(sku, limit, position), repo)
    body = {
        **view.item.to_dict(),
        "movements": [m.to_dict() for m in view.movements],
        "nextCursor": encode_cursor(view.next_position),
    }
    return json_response(body)


# -- writes ----------------------------------------------------------------------------------------------------------
admin_app = create_resolver(ERRORS, roles=(ADMIN,))


@admin_app.put(
    "/inventory/<sku>",
    summary="Set the low-stock threshold and/or adjust the stock with a reason",
    description="Body: `{threshold?, delta?, reason?, productId?}`; a `delta` needs a `reason`; 422 if `available` "
    "would go below zero, nothing changed. A SKU's record is opened when its product is created in the catalog; a "
    "SKU with no record is 404, unless the body names its `productId`, which opens it (201; else 200).",
)
@documented(body=StockUpdate, answers={200: StockAnswer, 201: StockAnswer})
def update_stock(sku: str, repo: Repository) -> Response[str]:
    body = request_body(admin_app, StockUpdate)
    body.check()
    cmd = service.UpdateStock(
        sku,
        threshold=body.threshold,
        delta=body.delta,
        reason=body.reason,
        product_id=body.productId,
        actor=current_caller(admin_app).user_id,
        correlation_id=current_correlation_id(admin_app),
    )
    item, created = service.update_stock(cmd, repo)
    return json_response(item.to_dict(), 201 if created else 200)


@admin_app.post(
    "/inventory/<sku>/restock",
    summary="Receive stock; a reference is received once per SKU (409 the second time)",
    description="Body: `{quantity: 1..1000000, reference?}` (a delivery note's reference); an unknown SKU is 404.",
)
@documented(body=Restock, answers={200: StockAnswer})
def restock(sku: str, repo: Repository) -> Response[str]:
    body = request_body(admin_app, Restock)
    cmd = service.ReceiveStock(
        sku,
        body.quantity,
        reference=body.reference,
        actor=current_caller(admin_app).user_id,
        correlation_id=current_correlation_id(admin_app),
    )
    return json_response(service.receive_stock(cmd, repo).to_dict())


inventory_read_handler = http_handler(read_app)
inventory_admin_handler = http_handler(admin_app)
