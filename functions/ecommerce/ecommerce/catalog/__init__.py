"""The catalog: products, their prices and life cycle, the category tree, and the sharded listings."""
