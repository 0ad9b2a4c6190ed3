"""What the API answers, as pydantic models, for its spec (``docs/openapi.json``) and the tests that hold the routes
to it: a route names its answer models in :func:`gears_shared.http.documented`; each service's models derive from
:class:`Answer` (no field the model does not name: an answer that grows a field must say so here first).

Field names are the wire's (``orderId``), so the models read as the JSON they describe. A field that is always
present but may be ``null`` is typed ``X | None`` with no default (required, nullable); one that may be absent has a
default.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Money(Answer):
    """An amount in minor units of an ISO 4217 currency."""

    amount: int
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


# ISO 8601 in UTC, as every answer writes times.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
