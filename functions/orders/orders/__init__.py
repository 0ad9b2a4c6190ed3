"""Order management: the order lifecycle from checkout to delivery (functions/orders/)."""
