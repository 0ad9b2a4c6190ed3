"""The inventory service: stock per SKU, reservations for orders, restocks and low-stock alerts.

``domain`` (rules, standard library only), ``service`` (use cases, one command each, over ports), ``store``
(DynamoDB), ``events`` (published and consumed event schemas), ``bootstrap`` (the wiring), ``api`` (admin HTTP
handlers), ``consumers`` (the order events and the catalog's new products), ``publisher`` (table stream to SNS).
"""
