"""Messages from templates: data is never markup or template source, a campaign renders in the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from notification.domain import Channel
from notification.rendering import (
    CampaignTemplateError,
    campaign_variables,
    compile_campaign,
    money,
    render,
    render_campaign,
)

HOSTILE = "<script>alert(1)</script>{{ 7*7 }}"


def test_money_reads_as_a_customer_expects() -> None:
    assert money({"amount": 1399, "currency": "GBP"}) == "£13.99"
    assert money({"amount": 123456, "currency": "EUR"}) == "€1,234.56"
    assert money({"amount": 5, "currency": "JPY"}) == "0.05 JPY"


def test_every_shop_template_renders_on_every_channel() -> None:
    contexts: dict[str, dict[str, Any]] = {
        "order_placed": {
            "order_id": "o-1",
            "total": "£1.00",
            "lines": [{"title": "Mug", "sku": "S", "quantity": 2}],
            "discount_code": "SPRING",
            "discount": "£0.50",
        },
        "order_paid": {"order_id": "o-1", "total": "£1.00"},
        "order_shipped": {"order_id": "o-1", "carrier": "DPD", "tracking_number": "T1"},
        "order_delivered": {"order_id": "o-1"},
        "order_cancelled": {"order_id": "o-1", "reason": "you asked us to", "paid": True},
        "payment_failed": {"order_id": "o-1", "reason": "card declined"},
        "payment_refunded": {"order_id": "o-1", "amount": "£1.00", "full": True},
        "support_reply": {"ticket_subject": "Where is it?", "body": "On its way.", "ticket_id": "t-1"},
        "stock_low": {"sku": "SKU-1", "product_id": "p-1", "available": 2, "threshold": 5},
    }
    for template, context in contexts.items():
        for channel in Channel:
            out = render(template, channel, {**context, "name": "Ann", "first_name": "Ann"})
            assert out.subject, (template, channel)
            assert out.text, (template, channel)
            assert "\n" not in out.subject, (template, channel)
            assert (out.html is not None) == (channel is Channel.EMAIL)


def test_event_data_is_escaped_in_html_and_never_evaluated() -> None:
    out = render(
        "support_reply",
        Channel.EMAIL,
        {
            "ticket_subject": "Hi\r\nBcc: x@evil.test",
            "body": HOSTILE,
            "ticket_id": None,
            "name": HOSTILE,
            "first_name": HOSTILE,
        },
    )
    assert "<script>" not in (out.html or "")
    assert "&lt;script&gt;" in (out.html or "")
    assert "{{ 7*7 }}" in out.text
    assert "49" not in out.text
    assert out.subject == "Re: Hi Bcc: x@evil.test"  # one line: no header injection


def test_a_campaign_renders_its_variables_per_recipient_and_escapes_them_in_html() -> None:
    template = compile_campaign("{{ first_name }}, a treat", "Hello {{ name }}!\nUse {{ discount_code }}.")
    out = render_campaign(template, Channel.EMAIL, campaign_variables("<b>Ann</b> Lee", "SPRING"), "https://u/x")
    assert out.subject == "<b>Ann</b>, a treat"  # a subject is text, never markup
    assert "Hello &lt;b&gt;Ann&lt;/b&gt; Lee!<br>" in (out.html or "")
    assert "Use SPRING." in out.text
    assert "https://u/x" in out.text
    assert 'href="https://u/x"' in (out.html or "")
    sms = render_campaign(template, Channel.SMS, campaign_variables("Ann", None), None)
    assert sms.text.endswith("Reply STOP to opt out.")
    assert "Use ." in sms.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ name.__class__.__mro__ }}", "template-error"),
        ("{{ unknown_variable }}", "template-error"),
        ("{{ 'x' * 1000000000 }}", "template-error"),
        ("{{ 9 ** 9 ** 9 }}", "template-error"),
    ],
)
def test_a_campaign_that_reaches_beyond_the_sandbox_fails_for_the_recipient(body: str, reason: str) -> None:
    template = compile_campaign("Hi", body)
    with pytest.raises(CampaignTemplateError) as caught:
        render_campaign(template, Channel.EMAIL, campaign_variables("Ann", None), None)
    assert caught.value.reason == reason


def test_a_campaign_that_does_not_parse_is_a_syntax_error() -> None:
    with pytest.raises(CampaignTemplateError) as caught:
        compile_campaign("Hi", "{% for %}")
    assert caught.value.reason == "template-syntax"
