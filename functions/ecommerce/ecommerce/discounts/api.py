"""The discount codes' admin HTTP function (``DiscountAdminFunction``, the ``admin`` group only): create, list,
read, replace and deactivate codes. Checkout applies them (``POST /checkout``'s ``discountCode``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from ecommerce import bootstrap
from ecommerce.catalog.domain import Money
from ecommerce.discounts import service
from ecommerce.discounts.domain import (
    CODE_PATTERN,
    CODE_RULE,
    MAX_AMOUNT,
    MAX_USAGE_LIMIT,
    MAX_USAGE_SHARDS,
    DiscountRuleError,
    InvalidDiscount,
    normalise_code,
)
from ecommerce.discounts.service import CountedDiscount, DiscountFields, DiscountRepository
from ecommerce.errors import DiscountNotFound, InvalidCursor
from gears_shared.answers import Answer, Timestamp
from gears_shared.answers import Money as MoneyAnswer
from gears_shared.auth import ADMIN
from gears_shared.errors import BadRequest
from gears_shared.http import (
    ErrorTable,
    create_resolver,
    decode_cursor,
    documented,
    encode_cursor,
    http_handler,
    json_response,
    request_body,
)

# The codes' rule errors carry their own title and code (``invalid-discount``, ``discount-expired``, ...).
ERRORS: ErrorTable = {InvalidDiscount: 400, DiscountRuleError: 422}
NO_STORE = {"Cache-Control": "no-store"}

Discounts = Annotated[DiscountRepository, Depends(bootstrap.discount_repository)]


# -- request bodies (validated at the edge; unknown fields are refused) ----------------------------------------------
def _utc(value: datetime) -> datetime:
    try:
        moment = value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("a time between the years 1 and 9999 in UTC") from exc
    if not 2000 <= moment.year <= 9998:
        raise ValueError("a time between the years 2000 and 9998")
    return moment


Time = Annotated[AwareDatetime, AfterValidator(_utc)]


class MoneyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: StrictInt = Field(ge=0, le=MAX_AMOUNT, description="Minor units (pence, cents)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")

    def domain(self) -> Money:
        return Money(self.amount, self.currency)


class _DiscountTerms(BaseModel):
    model_config = ConfigDict(extra="forbid")

    percentOff: StrictInt | None = Field(None, ge=1, le=100, description="1-100; or amountOff, not both")
    amountOff: MoneyIn | None = Field(None, description="At least 1 minor unit; or percentOff, not both")
    validFrom: Time | None = Field(None, description="ISO 8601 with a time zone; null: no start")
    validUntil: Time | None = Field(None, description="ISO 8601 with a time zone; null: no end")
    usageLimit: StrictInt | None = Field(None, ge=1, le=MAX_USAGE_LIMIT, description="null: no limit")
    minSubtotal: MoneyIn | None = Field(None, description="The subtotal a cart needs for the code to apply")
    active: StrictBool = True

    def fields(self) -> DiscountFields:
        return DiscountFields(
            percent_off=self.percentOff,
            amount_off=self.amountOff.domain() if self.amountOff else None,
            valid_from=self.validFrom,
            valid_from_sent="validFrom" in self.model_fields_set,
            valid_until=self.validUntil,
            usage_limit=self.usageLimit,
            min_subtotal=self.minSubtotal.domain() if self.minSubtotal else None,
            active=self.active,
        )


class NewDiscount(_DiscountTerms):
    """POST /admin/discounts. ``used``, ``remaining``, ``createdAt``, ``updatedAt`` and ``version`` are the
    server's: refused."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        description=CODE_RULE
    )


class DiscountReplacement(_DiscountTerms):
    """PUT /admin/discounts/{code}: the code as read, changed. Server fields may come back; they are ignored."""

    code: str | None = Field(None, max_length=64, description="As read; it cannot change")
    version: StrictInt | None = Field(None, ge=1, description="The version read: a stale one is 409")
    used: int | None = None
    remaining: int | None = None
    createdAt: str | None = None
    updatedAt: str | None = None


# -- answers ---------------------------------------------------------------------------------------------------------
class DiscountAnswer(Answer):
    code: str
    percentOff: int | None
    amountOff: MoneyAnswer | None
    validFrom: Timestamp | None = Field(description="null: no start")
    validUntil: Timestamp | None = Field(description="null: no end")
    usageLimit: int | None = Field(description="null: no limit")
    minSubtotal: MoneyAnswer | None
    active: bool
    used: int = Field(description="Orders placed with the code (the sum of its usage shards)")
    remaining: int | None = Field(description="Uses left under the limit; null: no limit")
    createdAt: Timestamp
    updatedAt: Timestamp
    version: int = Field(description="Goes up by one with every change")


class DiscountPageAnswer(Answer):
    items: list[DiscountAnswer]
    nextCursor: str | None  # null on the last page


def _path_code(code: str) -> str:
    """The code a path names, normalised; a name no code could have is not found."""
    normalised = normalise_code(code)
    if normalised is None:
        raise DiscountNotFound("There is no such discount code.")
    return normalised


def _answer(counted: CountedDiscount, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return json_response(counted.to_dict(), status, {**NO_STORE, **(headers or {})})


def _after(cursor: str | None) -> str | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    after = position.get("after")
    if set(position) != {"after"} or not isinstance(after, str) or not CODE_PATTERN.match(after):
        raise InvalidCursor("The cursor is not valid.")
    return after


admin_app = create_resolver(ERRORS, roles=(ADMIN,))

TERMS = (
    "A code: `code` (3-32 of `A-Z 0-9 _ -`, any case, kept upper case), `percentOff` (1-100) or `amountOff` "
    "(money) but not both, `validFrom` (null: no start), `validUntil` (null: no end), `usageLimit` (null: no limit), "
    "`minSubtotal` (optional), `active`. A percentage is rounded to the nearest minor unit, halves up; the discount "
    "never exceeds the subtotal. `used` counts the orders placed with the code, `remaining` the uses left."
)


@admin_app.post(
    "/admin/discounts",
    summary="Create a discount code (201, Location); a code already taken is 409",
    description=TERMS + " Server fields (`used`, `remaining`, `createdAt`, `updatedAt`, `version`) are refused (400).",
)
@documented(
    body=NewDiscount,
    answers={201: DiscountAnswer},
    answer_headers={201: {"Location": "The code's URL: `/admin/discounts/{code}`"}},
)
def create_discount(discounts: Discounts) -> Response[str]:
    body = request_body(admin_app, NewDiscount)
    code = normalise_code(body.code)
    if code is None:
        raise InvalidDiscount(CODE_RULE)
    counted = service.create_discount(service.CreateDiscount(code, body.fields()), discounts)
    return _answer(counted, 201, {"Location": f"/admin/discounts/{code}"})


@admin_app.get(
    "/admin/discounts",
    summary="Discount codes in code order, a page at a time, each with its uses",
    description="`{items, nextCursor}`. `limit` defaults to 20 and is capped at 50; `cursor` is the previous "
    "page's `nextCursor`, opaque (a foreign one is 400).",
)
@documented(answers={200: DiscountPageAnswer})
def list_discounts(
    discounts: Discounts,
    limit: Annotated[int | None, Query(ge=1, le=service.MAX_PAGE)] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response[str]:
    page = service.list_discounts(service.ListDiscounts(limit, _after(cursor)), discounts)
    following = encode_cursor({"after": page.next_after} if page.next_after else None)
    return json_response({"items": [c.to_dict() for c in page.items], "nextCursor": following}, headers=NO_STORE)


@admin_app.get(
    "/admin/discounts/<code>",
    summary="One discount code with its uses (any case; unknown is 404)",
)
@documented(answers={200: DiscountAnswer})
def get_discount(code: str, discounts: Discounts) -> Response[str]:
    return _answer(service.show_discount(service.ShowDiscount(_path_code(code)), discounts))


@admin_app.put(
    "/admin/discounts/<code>",
    summary="Replace a discount code's terms (the code itself cannot change)",
    description=TERMS + " The body is the code as read, changed: `code`, `used`, `remaining`, `createdAt` and "
    "`updatedAt` may come back and are ignored (`code` must be this one); `version`, when sent, must be the stored "
    "one (409 otherwise); `validFrom` left out stays as it was. A new `usageLimit` counts the uses already made: "
    "one below them is 422 `limit-below-uses` (deactivate the code to stop it). Its uses are counted on up to "
    f"{MAX_USAGE_SHARDS} shards.",
)
@documented(body=DiscountReplacement, answers={200: DiscountAnswer})
def replace_discount(code: str, discounts: Discounts) -> Response[str]:
    name = _path_code(code)
    body = request_body(admin_app, DiscountReplacement)
    if body.code is not None and normalise_code(body.code) != name:
        raise BadRequest("The body's code is not the code of this URL; a code cannot be renamed.")
    cmd = service.ReplaceDiscount(name, body.fields(), body.version)
    return _answer(service.replace_discount(cmd, discounts))


@admin_app.delete(
    "/admin/discounts/<code>",
    summary="Deactivate a discount code (204): checkouts refuse it from now on; orders that used it keep it",
    description="Deactivating an inactive code succeeds, so DELETE can be retried; PUT with `active: true` "
    "reactivates it. Unknown: 404.",
)
@documented(answers={204: None})
def deactivate_discount(code: str, discounts: Discounts) -> Response[None]:
    service.deactivate_discount(service.DeactivateDiscount(_path_code(code)), discounts)
    return Response(status_code=204)


discount_admin_handler = http_handler(admin_app)
