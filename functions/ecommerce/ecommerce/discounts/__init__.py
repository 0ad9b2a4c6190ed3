"""Discount codes: the admin API, their terms and usage shards (``domain``, ``service``, ``store``, ``api``);
checkout applies them (:mod:`ecommerce.cart`)."""
