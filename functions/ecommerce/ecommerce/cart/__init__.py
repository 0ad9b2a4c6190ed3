"""The cart and checkout: a customer's lines priced from the catalog, checked against the stock inventory last
announced, and turned into an order once per idempotency key."""
