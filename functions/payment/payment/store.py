"""Payments in the payment table: PynamoDB models and the repository that maps them to the domain.

Items (one partition per order, so an order's payment and its refunds are one Query):

==========  ======================  ======================  ===============================================
item        pk                      sk                      what
==========  ======================  ======================  ===============================================
payment     ``PAYMENT#<orderId>``   ``PAYMENT``             status, amounts, intent, failure; ``version``
refund      ``PAYMENT#<orderId>``   ``REFUND#<refundId>``   one per refund, written with the payment's new total
inbox       ``INBOX#<consumer>#..``  ``INBOX``               :class:`gears_shared.consumers.DynamoInbox`
==========  ======================  ======================  ===============================================

PynamoDB models bound with :func:`gears_shared.store.bind`, and a PynamoDB ``TransactWrite`` for a refund (below); the
payment with its refunds is read by one low-level Query, since the two item types share the partition.

``version`` is a ``VersionAttribute``: every save is conditional on the version the writer read, and a refund is a
TransactWrite of "the refund does not exist yet" and "the payment is still at that version", so two refunds can
never both count against the same remaining amount. ``correlationId`` is the request or event that made the last
change, for the stream publisher to carry on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from gears_shared.store import MoneyAttribute, bind
from payment.domain import STRIPE, Failure, Money, Payment, PaymentStatus, Refund, RefundKind, utc_iso
from payment.errors import PaymentExists, RefundRecorded, StalePayment

PAYMENT = "Payment"
REFUND = "Refund"
PAYMENT_PREFIX = "PAYMENT#"
PAYMENT_SK = "PAYMENT"
REFUND_PREFIX = "REFUND#"
MAX_ID_LENGTH = 128


def payment_key(order_id: str) -> tuple[str, str]:
    return PAYMENT_PREFIX + order_id, PAYMENT_SK


class PaymentItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=PAYMENT)
    order_id = UnicodeAttribute(attr_name="orderId")
    user_id = UnicodeAttribute(attr_name="userId", null=True)
    amount = MoneyAttribute()
    payment_method = UnicodeAttribute(attr_name="paymentMethod", null=True)
    status = UnicodeAttribute()
    payment_intent_id = UnicodeAttribute(attr_name="paymentIntentId", null=True)
    charged = NumberAttribute(default=0)
    refunded_total = NumberAttribute(attr_name="refundedTotal", default=0)
    refund_count = NumberAttribute(attr_name="refundCount", default=0)
    failure_reason = UnicodeAttribute(attr_name="failureReason", null=True)
    decline_code = UnicodeAttribute(attr_name="declineCode", null=True)
    failure_message = UnicodeAttribute(attr_name="failureMessage", null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    updated_at = UnicodeAttribute(attr_name="updatedAt")
    version = VersionAttribute()
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    provider = UnicodeAttribute(null=True)  # absent on payments from before PayPal: Stripe
    capture_id = UnicodeAttribute(attr_name="captureId", null=True)
    approval_url = UnicodeAttribute(attr_name="approvalUrl", null=True)
    approval_expires_at = UnicodeAttribute(attr_name="approvalExpiresAt", null=True)


class RefundItem(Model):
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    entity = UnicodeAttribute(default=REFUND)
    refund_id = UnicodeAttribute(attr_name="refundId")
    order_id = UnicodeAttribute(attr_name="orderId")
    user_id = UnicodeAttribute(attr_name="userId", null=True)  # the payment's, for the published event
    provider = UnicodeAttribute(null=True)  # the payment's, for the published event (absent before PayPal: Stripe)
    amount = MoneyAttribute()
    refunded_total = MoneyAttribute(attr_name="refundedTotal")
    full = UnicodeAttribute()  # "true"/"false": readable in the stream image as is
    kind = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(attr_name="paymentIntentId", null=True)
    created_at = UnicodeAttribute(attr_name="createdAt")
    correlation_id = UnicodeAttribute(attr_name="correlationId", null=True)
    request_key = UnicodeAttribute(attr_name="requestKey", null=True)


# -- mapping ---------------------------------------------------------------------------------------------------------
def _money(value: Any) -> Money:
    return Money(int(value.amount), str(value.currency))


def to_payment(item: PaymentItem) -> Payment:
    failure = Failure(item.failure_reason, item.decline_code, item.failure_message) if item.failure_reason else None
    return Payment(
        order_id=item.order_id,
        user_id=item.user_id,
        amount=_money(item.amount),
        payment_method=item.payment_method,
        status=PaymentStatus(item.status),
        created_at=datetime.fromisoformat(item.created_at),
        updated_at=datetime.fromisoformat(item.updated_at),
        payment_intent_id=item.payment_intent_id,
        charged=int(item.charged or 0),
        refunded_total=int(item.refunded_total or 0),
        refund_count=int(item.refund_count or 0),
        failure=failure,
        version=int(item.version or 0),
        provider=item.provider or STRIPE,
        capture_id=item.capture_id,
        approval_url=item.approval_url,
        approval_expires_at=datetime.fromisoformat(item.approval_expires_at) if item.approval_expires_at else None,
    )


def to_payment_item(model: type[PaymentItem], p: Payment, *, version: int, correlation_id: str) -> PaymentItem:
    pk, sk = payment_key(p.order_id)
    item = model(
        pk,
        sk,
        order_id=p.order_id,
        user_id=p.user_id,
        amount=MoneyAttribute(**p.amount.to_dict()),
        payment_method=p.payment_method,
        status=p.status.value,
        payment_intent_id=p.payment_intent_id,
        charged=p.charged,
        refunded_total=p.refunded_total,
        refund_count=p.refund_count,
        failure_reason=p.failure.reason if p.failure else None,
        decline_code=p.failure.decline_code if p.failure else None,
        failure_message=(p.failure.message or "")[:1000] or None if p.failure else None,
        created_at=utc_iso(p.created_at),
        updated_at=utc_iso(p.updated_at),
        correlation_id=correlation_id or None,
        provider=p.provider,
        capture_id=p.capture_id,
        approval_url=p.approval_url,
        approval_expires_at=utc_iso(p.approval_expires_at) if p.approval_expires_at else None,
    )
    if version:
        item.version = version
    return item


def to_refund(item: RefundItem) -> Refund:
    return Refund(
        refund_id=item.refund_id,
        order_id=item.order_id,
        amount=_money(item.amount),
        refunded_total=_money(item.refunded_total),
        full=item.full == "true",
        kind=RefundKind(item.kind),
        created_at=datetime.fromisoformat(item.created_at),
        payment_intent_id=item.payment_intent_id,
        reason=item.reason,
        request_key=item.request_key,
    )


def to_refund_item(model: type[RefundItem], r: Refund, *, correlation_id: str) -> RefundItem:
    return model(
        PAYMENT_PREFIX + r.order_id,
        REFUND_PREFIX + r.refund_id,
        refund_id=r.refund_id,
        order_id=r.order_id,
        amount=MoneyAttribute(**r.amount.to_dict()),
        refunded_total=MoneyAttribute(**r.refunded_total.to_dict()),
        full="true" if r.full else "false",
        kind=r.kind.value,
        reason=r.reason,
        payment_intent_id=r.payment_intent_id,
        created_at=utc_iso(r.created_at),
        correlation_id=correlation_id or None,
        request_key=r.request_key,
    )


def payment_from_image(image: dict[str, Any] | None) -> tuple[Payment, str] | None:
    """A payment and the correlation id of its last change from a stream image (DynamoDB JSON)."""
    if not image or image.get("entity", {}).get("S") != PAYMENT:
        return None
    item = PaymentItem.from_raw_data(image)
    return to_payment(item), item.correlation_id or ""


def refund_from_image(image: dict[str, Any] | None) -> tuple[Refund, str] | None:
    if not image or image.get("entity", {}).get("S") != REFUND:
        return None
    item = RefundItem.from_raw_data(image)
    return to_refund(item), item.correlation_id or ""


# -- repository ------------------------------------------------------------------------------------------------------
class DynamoPaymentRepository:
    """:class:`payment.service.PaymentRepository` over the payment table."""

    def __init__(self, table_name: str) -> None:
        self.payments = bind(PaymentItem, table_name)
        self.refunds = bind(RefundItem, table_name)
        meta = self.payments.Meta
        self.connection = Connection(region=meta.region, host=meta.host)  # the refunds' transactions

    def get(self, order_id: str) -> Payment | None:
        if not order_id or len(order_id) > MAX_ID_LENGTH:
            return None
        try:
            return to_payment(self.payments.get(*payment_key(order_id), consistent_read=True))
        except self.payments.DoesNotExist:
            return None

    def get_with_refunds(self, order_id: str) -> tuple[Payment | None, list[Refund]]:
        if not order_id or len(order_id) > MAX_ID_LENGTH:
            return None, []
        payment: Payment | None = None
        refunds: list[Refund] = []
        conn = self.payments._get_connection()
        pages = conn.query(
            PAYMENT_PREFIX + order_id, consistent_read=True
        )  # one partition: the payment and its refunds
        for raw in pages.get("Items", []):
            entity = raw.get("entity", {}).get("S")
            if entity == PAYMENT:
                payment = to_payment(self.payments.from_raw_data(raw))
            elif entity == REFUND:
                refunds.append(to_refund(self.refunds.from_raw_data(raw)))
        refunds.sort(key=lambda r: r.created_at)
        return payment, refunds

    def add(self, payment: Payment, *, correlation_id: str = "") -> Payment:
        item = to_payment_item(self.payments, payment, version=0, correlation_id=correlation_id)
        try:
            item.save(condition=self.payments.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise PaymentExists(payment.order_id) from exc
            raise
        return to_payment(item)

    def save(self, payment: Payment, *, expected_version: int, correlation_id: str = "") -> Payment:
        item = to_payment_item(self.payments, payment, version=expected_version, correlation_id=correlation_id)
        try:
            item.save()  # conditional on version == expected_version (VersionAttribute)
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise StalePayment(payment.order_id) from exc
            raise
        return to_payment(item)

    def add_refund(
        self, payment: Payment, refund: Refund, *, expected_version: int, correlation_id: str = ""
    ) -> Payment:
        payment_item = to_payment_item(self.payments, payment, version=expected_version, correlation_id=correlation_id)
        refund_item = to_refund_item(self.refunds, refund, correlation_id=correlation_id)
        refund_item.user_id = payment.user_id
        refund_item.provider = payment.provider
        try:
            with TransactWrite(connection=self.connection) as transaction:
                transaction.save(refund_item, condition=self.refunds.pk.does_not_exist())
                transaction.save(payment_item)  # conditional on the version (VersionAttribute)
        except TransactWriteError as exc:
            reasons = [getattr(r, "code", None) if r else None for r in (exc.cancellation_reasons or [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise RefundRecorded(refund.refund_id) from exc
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise StalePayment(payment.order_id) from exc
            raise
        return to_payment(payment_item)

    def has_refund(self, order_id: str, refund_id: str) -> Refund | None:
        try:
            return to_refund(
                self.refunds.get(PAYMENT_PREFIX + order_id, REFUND_PREFIX + refund_id, consistent_read=True)
            )
        except self.refunds.DoesNotExist:
            return None
