"""The payment service: charges orders through Stripe, handles Stripe's webhooks, voids and refunds."""
