"""Security tier: attacks on the running local shop (fixtures in tests/support/shop.py)."""

from tests.support.shop import moto_signing_key, shop

__all__ = ["moto_signing_key", "shop"]
