"""The inventory service: stock per SKU, reservations for orders, restocks and low-stock alerts.

``domain`` (rules, standard library only), ``service`` (use cases over ports), ``store`` (DynamoDB), ``events``
(published and consumed event schemas), ``api`` (admin HTTP handlers), ``consumers`` (the order events),
``publisher`` (table stream to SNS).
"""
