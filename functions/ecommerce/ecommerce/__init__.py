"""The e-commerce service: the catalog (products, categories) and the events it publishes.

``domain`` (rules, standard library only), ``service`` (use cases over ports), ``store`` (DynamoDB through
PynamoDB), ``events`` (published event schemas), ``api`` (HTTP handlers), ``publisher`` (table stream to SNS).
"""
