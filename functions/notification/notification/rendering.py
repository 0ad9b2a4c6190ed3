"""Messages from templates: the shop's own (``templates/<name>/``: ``subject.txt``, ``email.txt``, ``email.html``,
``sms.txt``, ``push.txt``) and a campaign's, written by an admin.

- The shop's templates render with Jinja2, HTML autoescaped (``.html``): a customer's name, a support reply's body
  and every other value from an event are *data* handed to a template, never template source, and in HTML they are
  escaped. Text parts are not escaped (they are not markup); subjects are made one line (no header injection).
- A campaign's subject and body are an admin's template source: they render in Jinja2's
  :class:`~jinja2.sandbox.SandboxedEnvironment` with only the contract's variables (``name``, ``first_name``,
  ``discount_code``), an unknown variable an error, string and list repetition refused and the output capped; the
  HTML part is rendered again with autoescape, so a recipient's name never becomes markup. A template that fails
  for a recipient fails that recipient's message (:class:`CampaignTemplateError`), not the batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from markupsafe import Markup

from notification.domain import Channel

TEMPLATES = Path(__file__).parent / "templates"
SUBJECT_MAX = 200
SMS_MAX = 480  # three concatenated SMS segments
PUSH_MAX = 240
CAMPAIGN_OUTPUT_MAX = 100_000
CAMPAIGN_VARIABLES = ("name", "first_name", "discount_code")

CARRIERS = {
    "royal_mail": "Royal Mail",
    "dpd": "DPD",
    "dhl": "DHL",
    "ups": "UPS",
    "fedex": "FedEx",
    "evri": "Evri",
}
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(value: Any) -> str:
    """``{"amount": 1399, "currency": "GBP"}`` as ``£13.99``."""
    if value is None:
        return ""
    amount = int(value["amount"] if isinstance(value, dict) else value.amount)
    currency = str(value.get("currency", "GBP") if isinstance(value, dict) else value.currency)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 100)
    symbol = SYMBOLS.get(currency)
    figure = f"{whole:,}.{minor:02d}"
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {currency}"


def carrier_name(code: str | None) -> str:
    return CARRIERS.get(code or "", code or "the carrier")


_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


@dataclass(frozen=True)
class Rendered:
    """A message ready for its channel: ``subject`` (the email's subject; the log's summary on every channel),
    ``text`` (the email's text part, or the SMS or push text) and ``html`` (email only)."""

    subject: str
    text: str
    html: str | None = None


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """Whitespace (newlines included) folded to single spaces, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def render(template: str, channel: Channel, context: dict[str, Any]) -> Rendered:
    """The shop's template ``template`` for ``channel`` with ``context`` (data only)."""
    subject = one_line(_environment.get_template(f"{template}/subject.txt").render(context))
    full = {**context, "subject": subject}
    if channel is Channel.EMAIL:
        text = _environment.get_template(f"{template}/email.txt").render(full).strip() + "\n"
        html = _environment.get_template(f"{template}/email.html").render(full)
        return Rendered(subject, text, html)
    limit = SMS_MAX if channel is Channel.SMS else PUSH_MAX
    short = _environment.get_template(f"{template}/{channel.value}.txt").render(full)
    return Rendered(subject, one_line(short, limit))


# -- campaigns -----------------------------------------------------------------------------------------------------
class CampaignTemplateError(Exception):
    """A campaign's subject or body does not render (a syntax error, an unknown variable, a refused operation)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


class _Sandbox(SandboxedEnvironment):
    """The sandbox, also refusing ``*`` and ``**`` on strings and lists (``{{ 'x' * 10**9 }}`` would fill memory)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" or any(isinstance(v, str | list | tuple) for v in (left, right)):
            raise SecurityError(f"the operator {operator} is not allowed here")
        return super().call_binop(context, operator, left, right)


_sandbox_text = _Sandbox(undefined=StrictUndefined, autoescape=False)
_sandbox_html = _Sandbox(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class CampaignTemplate:
    """A campaign's subject and body compiled once per batch, for each recipient's rendering."""

    subject: Any
    text: Any
    html: Any


def compile_campaign(subject: str, body: str) -> CampaignTemplate:
    """The campaign's templates; :class:`CampaignTemplateError` (``template-syntax``) when they do not parse."""
    try:
        return CampaignTemplate(
            _sandbox_text.from_string(subject), _sandbox_text.from_string(body), _sandbox_html.from_string(body)
        )
    except TemplateError as exc:
        raise CampaignTemplateError("template-syntax", str(exc)[:300]) from exc


def _sandboxed(template: Any, variables: dict[str, str]) -> str:
    try:
        out = str(template.render(**variables))
    except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError) as exc:
        raise CampaignTemplateError("template-error", str(exc)[:300]) from exc
    if len(out) > CAMPAIGN_OUTPUT_MAX:
        raise CampaignTemplateError("template-output-too-large")
    return out


def campaign_variables(name: str | None, discount_code: str | None) -> dict[str, str]:
    """The only variables a campaign template sees (the contract's)."""
    name = (name or "").strip()
    return {"name": name, "first_name": name.split(" ", 1)[0] if name else "", "discount_code": discount_code or ""}


def render_campaign(
    template: CampaignTemplate, channel: Channel, variables: dict[str, str], unsubscribe_url: str | None
) -> Rendered:
    """One recipient's campaign message on ``channel``, in the shop's frame (with the unsubscribe link on email)."""
    subject = one_line(_sandboxed(template.subject, variables))
    body_text = _sandboxed(template.text, variables).strip()
    frame = {"subject": subject, "body_text": body_text, "unsubscribe_url": unsubscribe_url or ""}
    if channel is Channel.EMAIL:
        body_html = _sandboxed(template.html, variables).strip()
        # The sandbox escaped every value; line breaks become <br> on what is already safe markup.
        html_body = Markup(re.sub(r"\r?\n", "<br>\n", body_html))  # noqa: S704 - autoescaped output, above
        text = _environment.get_template("campaign/email.txt").render(frame).strip() + "\n"
        html = _environment.get_template("campaign/email.html").render({**frame, "body_html": html_body})
        return Rendered(subject, text, html)
    limit = SMS_MAX if channel is Channel.SMS else PUSH_MAX
    short = _environment.get_template(f"campaign/{channel.value}.txt").render(
        {**frame, "body_text": one_line(body_text)}
    )
    return Rendered(subject, one_line(short, limit))
