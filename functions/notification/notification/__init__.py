"""The notification service: email (SES v2), SMS and mobile push (SNS) from the shop's events."""
