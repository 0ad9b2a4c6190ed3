"""A failed payment told in words: the issuer's decline code for a card, what happened at PayPal for PayPal."""

from __future__ import annotations

import pytest

from notification.consumers import failure_in_words


@pytest.mark.parametrize(
    ("reason", "decline", "words"),
    [
        ("card_declined", "insufficient_funds", "insufficient funds"),
        ("expired_card", None, "expired card"),
        ("buyer_cancelled", None, "you cancelled it at PayPal"),
        ("approval_expired", None, "it was not approved at PayPal in time"),
        ("instrument_declined", None, "PayPal declined the way you chose to pay"),
        (None, None, ""),
    ],
)
def test_a_failure_reads_as_what_happened(reason: str | None, decline: str | None, words: str) -> None:
    assert failure_in_words(reason, decline) == words
