"""Wiring, in one place: every port the e-commerce functions use, each built once per container on first use.

Routes receive them with ``Depends(bootstrap.product_repository)``; tests swap them through the resolver's
``dependency_overrides``. The availability consumer and the stream publisher take theirs from here too. The
adapters are imported in the function that builds them, so a function loads only the storage code it uses (the
catalog's never loads boto3). :func:`reset` forgets them all, for a process whose environment changes (tests,
tools).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from ecommerce.cart.service import AvailabilityStore, CartRepository, CheckoutStore, ProductLookup
from ecommerce.catalog.service import CategoryCatalog, ProductRepository
from ecommerce.discounts.service import DiscountRepository, UsageReleases
from gears_shared.observability import logger, metrics
from gears_shared.streams import StreamPublisher, stream_publisher_from_env


def _table_name() -> str:
    return os.environ.get("TABLE_NAME", "")


@cache
def dynamodb() -> Any:
    """The low-level client of the cart, checkout and availability stores (transactions, batch reads)."""
    import boto3

    return boto3.client("dynamodb")


# -- catalog ---------------------------------------------------------------------------------------------------------
@cache
def product_repository() -> ProductRepository:
    from ecommerce.catalog.store import DynamoProductRepository

    return DynamoProductRepository(_table_name())


@cache
def category_catalog() -> CategoryCatalog:
    """The category tree, cached in the container for a minute (see :class:`CategoryCatalog`)."""
    from ecommerce.catalog.store import DynamoCategorySource

    return CategoryCatalog(DynamoCategorySource(_table_name()))


# -- cart and checkout -----------------------------------------------------------------------------------------------
@cache
def cart_repository() -> CartRepository:
    from ecommerce.cart.store import DynamoCartRepository

    return DynamoCartRepository(_table_name(), dynamodb())


@cache
def product_lookup() -> ProductLookup:
    from ecommerce.cart.store import DynamoProductLookup

    return DynamoProductLookup(_table_name(), dynamodb())


@cache
def checkout_store() -> CheckoutStore:
    from ecommerce.cart.store import DynamoCheckoutStore

    return DynamoCheckoutStore(_table_name(), dynamodb())


# -- discount codes --------------------------------------------------------------------------------------------------
@cache
def discount_repository() -> DiscountRepository:
    """Discount codes and their usage shards (the admin API's, and the checkout's look-up of a code)."""
    from ecommerce.discounts.store import DynamoDiscountRepository

    return DynamoDiscountRepository(_table_name(), dynamodb())


@cache
def usage_releases() -> UsageReleases:
    """Gives back the use of an order cancelled unpaid (the orders consumer's)."""
    from ecommerce.discounts.store import DynamoUsageReleases

    return DynamoUsageReleases(_table_name(), dynamodb())


# -- the availability consumer ---------------------------------------------------------------------------------------
@cache
def availability_store() -> AvailabilityStore:
    from ecommerce.cart.store import DynamoAvailability

    return DynamoAvailability(_table_name(), dynamodb())


# -- the stream publisher --------------------------------------------------------------------------------------------
@cache
def stream_publisher() -> StreamPublisher:
    """The table stream's publisher, to the e-commerce topic (``TOPIC_ARN``)."""
    from ecommerce.publisher import events_for_record  # here: the publisher module's handler calls this one

    return stream_publisher_from_env(events_for_record, logger=logger, metrics=metrics)


PORTS = (
    dynamodb,
    product_repository,
    category_catalog,
    cart_repository,
    product_lookup,
    checkout_store,
    discount_repository,
    usage_releases,
    availability_store,
    stream_publisher,
)


def public_api_url() -> str:
    """The API's public address (a PayPal buyer's approval link is under it)."""
    return os.environ.get("PUBLIC_API_URL", "")


def reset() -> None:
    """Forget every port built, so that the next use builds it from the environment as it is now."""
    for port in PORTS:
        port.cache_clear()
