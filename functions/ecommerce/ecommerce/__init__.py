"""The e-commerce service: the catalog, the cart and discount codes, in one table.

- :mod:`ecommerce.catalog`: products, categories, listings (``domain``, ``service``, ``store``, ``api``).
- :mod:`ecommerce.cart`: the cart, checkout and the stock view it is checked against (``domain``, ``service``,
  ``store``, ``api``, ``consumers``).
- :mod:`ecommerce.discounts`: discount codes, their admin API and usage shards, and the consumer that gives an
  unpaid cancelled order's use back (``domain``, ``service``, ``store``, ``api``, ``consumers``); checkout applies
  a code in its own transaction.
- Shared by all: ``errors`` (service errors), ``events`` (event schemas), ``publisher`` (table stream to the
  topic), ``bootstrap`` (every port, built once per container), ``answers`` (answer models both APIs show),
  ``invariants`` (what ``gears check`` holds the table to).
"""
