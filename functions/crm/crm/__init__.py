"""Customer relationship management: profiles from events, support tickets, RFM segments, campaigns."""
