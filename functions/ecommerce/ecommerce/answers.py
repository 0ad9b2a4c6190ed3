"""Answer models that both the catalog's and the cart's HTTP functions show (a product's availability), here so
that neither API module imports the other (the catalog's costs the cart function cold-start time)."""

from __future__ import annotations

from typing import Literal

from gears_shared.answers import Answer, Timestamp


# As ecommerce.catalog.domain.Availability.to_dict writes it.
class ProductAvailability(Answer):
    """What inventory last said of the product's stock: `unknown`, with nulls, until it has said anything."""

    level: Literal["unknown", "in_stock", "low", "out"]
    available: int | None
    asOf: Timestamp | None
