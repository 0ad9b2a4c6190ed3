"""The e-commerce service: the catalog and the cart, two capabilities in one table.

- :mod:`ecommerce.catalog`: products, categories, listings (``domain``, ``service``, ``store``, ``api``).
- :mod:`ecommerce.cart`: the cart, checkout and the stock view it is checked against (``domain``, ``service``,
  ``store``, ``api``, ``consumers``).
- Shared by both: ``errors`` (service errors), ``events`` (event schemas), ``publisher`` (table stream to the
  topic), ``bootstrap`` (every port, built once per container), ``answers`` (answer models both APIs show).
"""
