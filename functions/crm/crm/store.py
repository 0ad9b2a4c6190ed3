"""The CRM table through the low-level DynamoDB client: an event's change is one TransactWrite of items of several
kinds (its timeline entry written once, the customer and the order at the versions read, the campaigns' counters
added to), and a refused condition says, item by item, which rule it was.

Items (generic keys ``pk``/``sk``; ``gsi1``/``gsi2`` as below; ``entity`` names the kind):

=====================  =======================================  ====================================================
entity                 key                                      indexes, notes
=====================  =======================================  ====================================================
``Customer``           ``CUSTOMER#<userId>`` / ``PROFILE``      gsi1 ``CUSTOMERS#<shard>`` / ``<firstSeenAt>#<userId>``
                                                                (every customer, newest first); gsi2
                                                                ``SEGMENT#<segment>#<shard>`` / ``<userId>`` (a
                                                                segment's members; absent before a paid order)
``TimelineEntry``      ``CUSTOMER#<userId>`` / ``TIMELINE#<at>#<eventId>``   one per event applied: its key is the
                                                                event's, so a repeat is refused
``Interaction``        ``CUSTOMER#<userId>`` / ``INTERACTION#<at>#<id>``     a note or a reply
``CampaignReceipt``    ``CUSTOMER#<userId>`` / ``RECEIPT#<campaignId>``      targeted by a campaign: until when
                                                                its orders count for it
``OrderLink``          ``ORDER#<orderId>`` / ``ORDER``          whose order, its total and discount code
``Ticket``             ``TICKET#<ticketId>`` / ``TICKET``       gsi1 ``USER#<userId>#TICKETS`` / ``<createdAt>#<id>``;
                                                                gsi2 ``TICKETS#<status>#<shard>`` / ``<updatedAt>#<id>``
``TicketMessage``      ``TICKET#<ticketId>`` / ``MESSAGE#<at>#<messageId>``
``Campaign``           ``CAMPAIGN#<id>`` / ``CAMPAIGN``         status, targeted, the launcher's progress per shard
``CampaignCode``       ``CODE#<code>`` / ``CAMPAIGN#<id>``      the campaigns that gave out a discount code
``CampaignBatch``      ``CAMPAIGN#<id>#BATCH#<shard>`` / ``<seq>``   at most 50 recipients; one partition per shard
``CampaignCount``      ``CAMPAIGN#<id>#COUNT#<shard>`` / ``COUNT``   outcome and attribution counters, 10 shards
``Counted``            ``COUNTED#<eventId>`` / ``COUNTED``      a counted notification event (kept 30 days)
``RfmSummary``         ``RFM`` / ``SUMMARY``                    the last recompute: cut points, segment sizes
=====================  =======================================  ====================================================

Listings merge their shards (one Query each) by the sort key and page with it, so a page is never a Scan.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Iterator
from typing import Any

from crm.domain import (
    COUNT_SHARDS,
    LISTING_SHARDS,
    Campaign,
    CampaignBatch,
    CampaignCounts,
    CampaignStatus,
    Customer,
    Interaction,
    OrderLink,
    Receipt,
    ShardProgress,
    Ticket,
    TicketMessage,
    TicketStatus,
    TimelineEntry,
    shard_of,
)
from crm.errors import DuplicateEvent, StaleItem
from crm.rfm import Boundaries
from crm.service import Change
from gears_shared.dynamo import dynamo_item, dynamo_value, plain_item

CUSTOMER = "Customer"
TIMELINE = "TimelineEntry"
INTERACTION = "Interaction"
RECEIPT = "CampaignReceipt"
ORDER = "OrderLink"
TICKET = "Ticket"
MESSAGE = "TicketMessage"
CAMPAIGN = "Campaign"
CODE = "CampaignCode"
BATCH = "CampaignBatch"
COUNT = "CampaignCount"
COUNTED = "Counted"
SUMMARY = "RfmSummary"

MAX_ID_LENGTH = 128
COUNTED_KEEP_S = 30 * 86400
BOUNDARIES_CACHE_S = 300  # the recompute runs hourly: a payment re-scores against cut points at most 5 min old
BATCH_WRITE = 25
BATCH_GET = 100
FLOOR = ""
CEILING = "~"


# -- keys --------------------------------------------------------------------------------------------------------
def customer_key(user_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CUSTOMER#{user_id}"}, "sk": {"S": "PROFILE"}}


def order_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "ORDER"}}


def ticket_key(ticket_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"TICKET#{ticket_id}"}, "sk": {"S": "TICKET"}}


def campaign_key(campaign_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"CAMPAIGN#{campaign_id}"}, "sk": {"S": "CAMPAIGN"}}


def count_key(campaign_id: str, shard: int) -> dict[str, Any]:
    return {"pk": {"S": f"CAMPAIGN#{campaign_id}#COUNT#{shard}"}, "sk": {"S": "COUNT"}}


SUMMARY_KEY = {"pk": {"S": "RFM"}, "sk": {"S": "SUMMARY"}}


def segment_partition(segment: str, shard: int) -> str:
    return f"SEGMENT#{segment}#{shard}"


def customers_partition(shard: int) -> str:
    return f"CUSTOMERS#{shard}"


def status_partition(status: TicketStatus, shard: int) -> str:
    return f"TICKETS#{status.value}#{shard}"


# -- items -------------------------------------------------------------------------------------------------------
def customer_item(customer: Customer) -> dict[str, Any]:
    shard = shard_of(customer.user_id, LISTING_SHARDS)
    fields: dict[str, Any] = {
        "pk": f"CUSTOMER#{customer.user_id}",
        "sk": "PROFILE",
        "entity": CUSTOMER,
        "userId": customer.user_id,
        "customer": customer.to_dict(),
        "version": customer.version + 1,
        "gsi1pk": customers_partition(shard),
        "gsi1sk": f"{customer.first_seen_at}#{customer.user_id}",
    }
    if customer.segment:
        fields.update(
            segment=customer.segment, gsi2pk=segment_partition(customer.segment, shard), gsi2sk=customer.user_id
        )
    return dynamo_item(fields)


def customer_from(values: dict[str, Any]) -> Customer:
    return Customer.from_dict(values["customer"], int(values.get("version") or 0))


def timeline_item(entry: TimelineEntry) -> dict[str, Any]:
    return dynamo_item(
        {
            "pk": f"CUSTOMER#{entry.user_id}",
            "sk": f"TIMELINE#{entry.at}#{entry.event_id}",
            "entity": TIMELINE,
            "userId": entry.user_id,
            "entry": entry.to_dict(),
        }
    )


def order_item(link: OrderLink) -> dict[str, Any]:
    return dynamo_item(
        {
            "pk": f"ORDER#{link.order_id}",
            "sk": "ORDER",
            "entity": ORDER,
            "userId": link.user_id,
            "order": link.to_dict(),
            "version": link.version + 1,
        }
    )


def ticket_item(ticket: Ticket) -> dict[str, Any]:
    shard = shard_of(ticket.ticket_id, LISTING_SHARDS)
    return dynamo_item(
        {
            "pk": f"TICKET#{ticket.ticket_id}",
            "sk": "TICKET",
            "entity": TICKET,
            "userId": ticket.user_id,
            "status": ticket.status.value,
            "ticket": ticket.to_dict(),
            "version": ticket.version + 1,
            "gsi1pk": f"USER#{ticket.user_id}#TICKETS",
            "gsi1sk": f"{ticket.created_at}#{ticket.ticket_id}",
            "gsi2pk": status_partition(ticket.status, shard),
            "gsi2sk": f"{ticket.updated_at}#{ticket.ticket_id}",
        }
    )


def ticket_from(values: dict[str, Any]) -> Ticket:
    return Ticket.from_dict(values["ticket"], int(values.get("version") or 0))


def message_item(message: TicketMessage) -> dict[str, Any]:
    return dynamo_item(
        {
            "pk": f"TICKET#{message.ticket_id}",
            "sk": f"MESSAGE#{message.at}#{message.message_id}",
            "entity": MESSAGE,
            "author": message.author.value,
            "message": {
                **message.to_dict(),
                "ticketId": message.ticket_id,
                "userId": message.user_id,
                "subject": message.subject,
            },
        }
    )


def message_from(values: dict[str, Any]) -> TicketMessage:
    from crm.domain import Author

    m = values["message"]
    return TicketMessage(
        m["ticketId"], m["messageId"], m["userId"], m["subject"], Author(m["by"]), m["authorId"], m["text"], m["at"]
    )


def interaction_item(interaction: Interaction) -> dict[str, Any]:
    return dynamo_item(
        {
            "pk": f"CUSTOMER#{interaction.user_id}",
            "sk": f"INTERACTION#{interaction.at}#{interaction.interaction_id}",
            "entity": INTERACTION,
            "kind": interaction.kind.value,
            "interaction": interaction.to_dict(),
        }
    )


def interaction_from(values: dict[str, Any]) -> Interaction:
    from crm.domain import InteractionKind

    i = values["interaction"]
    return Interaction(
        i["interactionId"], i["userId"], InteractionKind(i["kind"]), i["text"], i["by"], i["at"], i.get("subject")
    )


LAUNCH_FIELDS = ("status", "targeted", "batches", "launchedAt")


def campaign_item(campaign: Campaign) -> dict[str, Any]:
    document = campaign.to_dict()
    for name in LAUNCH_FIELDS:
        document.pop(name, None)
    return dynamo_item(
        {
            "pk": f"CAMPAIGN#{campaign.campaign_id}",
            "sk": "CAMPAIGN",
            "entity": CAMPAIGN,
            "campaign": document,
            "status": campaign.status.value,
            "progress": {},
        }
    )


def campaign_from(values: dict[str, Any]) -> Campaign:
    document = dict(values["campaign"])
    for name in LAUNCH_FIELDS:
        document[name] = values.get(name)
    return Campaign.from_dict(document)


def batch_data(batch: CampaignBatch) -> dict[str, Any]:
    """The batch as CampaignBatchReady carries it."""
    c = batch.campaign
    return {
        "campaignId": c.campaign_id,
        "batchId": batch.batch_id,
        "name": c.name,
        "subject": c.subject,
        "body": c.body,
        "discountCode": c.discount_code,
        "channels": list(c.channels),
        "recipients": list(batch.recipients),
    }


def batch_item(batch: CampaignBatch) -> dict[str, Any]:
    data = batch_data(batch)
    data["discountCode"] = data["discountCode"] or ""  # kept (empty) so the published data names it
    return dynamo_item(
        {
            "pk": f"CAMPAIGN#{batch.campaign.campaign_id}#BATCH#{batch.shard}",
            "sk": f"{batch.seq:05d}",
            "entity": BATCH,
            "batch": data,
        }
    )


# -- the repository ----------------------------------------------------------------------------------------------
class DynamoCrm:
    """:class:`crm.service.CustomerStore`, :class:`~crm.service.TicketStore` and
    :class:`~crm.service.CampaignStore` over the CRM table."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("dynamodb")
        self.table = table_name
        self.client = client
        self._bounds: tuple[float, Boundaries | None] | None = None

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return plain_item(found) if found else None

    def _query(self, **kw: Any) -> Iterator[dict[str, Any]]:
        request = {"TableName": self.table, **kw}
        while True:
            answer = self.client.query(**request)
            for item in answer.get("Items", []):
                yield plain_item(item)
            start = answer.get("LastEvaluatedKey")
            if not start or "Limit" in kw:
                return
            request["ExclusiveStartKey"] = start

    def _prefix(self, pk: str, prefix: str, *, limit: int | None = None, newest_first: bool = True) -> list[dict]:
        kw: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}},
            "ScanIndexForward": not newest_first,
        }
        if limit:
            kw["Limit"] = limit
        return list(self._query(**kw))

    def _transact(self, actions: list[tuple[str, dict[str, Any]]]) -> None:
        """The actions in one TransactWrite; the first refused condition's role decides the error: the event's
        marker refused is :class:`DuplicateEvent`, anything else :class:`StaleItem` (read again, decide again)."""
        try:
            self.client.transact_write_items(TransactItems=[action for _, action in actions])
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if codes and codes[0] == "ConditionalCheckFailed" and actions[0][0] == "marker":
                raise DuplicateEvent("applied before") from exc
            raise StaleItem(f"The transaction was cancelled ({codes}).") from exc

    @staticmethod
    def _versioned(version: int) -> dict[str, Any]:
        if version == 0:
            return {"ConditionExpression": "attribute_not_exists(pk)"}
        return {
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(version)}},
        }

    def _put(self, item: dict[str, Any], version: int) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": item, **self._versioned(version)}}

    def _merge(
        self, index: str, partitions: list[str], position: str | None, limit: int, *, newest_first: bool
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` items across ``partitions`` of ``index`` in sort-key order, starting past ``position``,
        and the position of the next page (``None`` at the end)."""
        sk = f"{index}sk"
        runs = []
        more = False
        for partition in partitions:
            values: dict[str, Any] = {":p": {"S": partition}}
            condition = f"{index}pk = :p"
            if position is not None:
                condition += f" AND {sk} {'<' if newest_first else '>'} :at"
                values[":at"] = {"S": position}
            items = list(
                self._query(
                    IndexName=index,
                    KeyConditionExpression=condition,
                    ExpressionAttributeValues=values,
                    ScanIndexForward=not newest_first,
                    Limit=limit + 1,
                )
            )
            more = more or len(items) > limit
            runs.append(items[:limit])
        merged = list(heapq.merge(*runs, key=lambda item: item[sk], reverse=newest_first))
        page = merged[:limit]
        more = more or len(merged) > limit
        return page, (page[-1][sk] if page and more else None)

    # -- customers -----------------------------------------------------------------------------------------------
    def customer(self, user_id: str) -> Customer | None:
        if not user_id or len(user_id) > MAX_ID_LENGTH:
            return None
        found = self._get(customer_key(user_id))
        return customer_from(found) if found else None

    def order(self, order_id: str) -> OrderLink | None:
        found = self._get(order_key(order_id))
        return OrderLink.from_dict(found["order"], int(found.get("version") or 0)) if found else None

    def record(self, change: Change) -> None:
        actions: list[tuple[str, dict[str, Any]]] = [
            (
                "marker",
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": timeline_item(change.entry),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ),
            ("customer", self._put(customer_item(change.customer), change.customer.version)),
        ]
        if change.order is not None:
            actions.append(("order", self._put(order_item(change.order), change.order.version)))
        for a in change.attributions:
            update = {
                "TableName": self.table,
                "Key": count_key(a.campaign_id, shard_of(a.order_id, COUNT_SHARDS)),
                "UpdateExpression": "SET entity = :e, campaignId = :c ADD attributedOrders :one, "
                "attributedRevenue :amount",
                "ExpressionAttributeValues": {
                    ":e": {"S": COUNT},
                    ":c": {"S": a.campaign_id},
                    ":one": {"N": "1"},
                    ":amount": {"N": str(a.amount)},
                },
            }
            actions.append(("attribution", {"Update": update}))
        self._transact(actions)

    def receipts(self, user_id: str) -> list[Receipt]:
        return [
            Receipt(r["campaignId"], r["sentAt"], r["until"])
            for r in self._prefix(f"CUSTOMER#{user_id}", "RECEIPT#", newest_first=False)
        ]

    def coded_campaigns(self, code: str) -> list[tuple[str, str]]:
        return [(r["campaignId"], r["createdAt"]) for r in self._prefix(f"CODE#{code}", "CAMPAIGN#")]

    def boundaries(self) -> Boundaries | None:
        now = time.monotonic()
        if self._bounds is None or now - self._bounds[0] > BOUNDARIES_CACHE_S:
            summary = self.segments() or {}
            raw = summary.get("boundaries")
            self._bounds = (now, Boundaries.from_dict(raw) if raw else None)
        return self._bounds[1]

    def list_customers(
        self, *, segment: str | None, limit: int, position: str | None
    ) -> tuple[list[Customer], str | None]:
        if segment:
            partitions = [segment_partition(segment, s) for s in range(LISTING_SHARDS)]
            items, after = self._merge("gsi2", partitions, position, limit, newest_first=False)
        else:
            partitions = [customers_partition(s) for s in range(LISTING_SHARDS)]
            items, after = self._merge("gsi1", partitions, position, limit, newest_first=True)
        return [customer_from(i) for i in items], after

    def timeline(self, user_id: str, limit: int) -> list[TimelineEntry]:
        from crm.domain import TimelineKind

        out = []
        for item in self._prefix(f"CUSTOMER#{user_id}", "TIMELINE#", limit=limit):
            e = item["entry"]
            amount = (e.get("amount") or {}).get("amount")
            out.append(
                TimelineEntry(
                    user_id, e["at"], e["eventId"], TimelineKind(e["kind"]), e.get("orderId"), amount, e.get("detail")
                )
            )
        return out

    def interactions(self, user_id: str, limit: int) -> list[Interaction]:
        return [interaction_from(i) for i in self._prefix(f"CUSTOMER#{user_id}", "INTERACTION#", limit=limit)]

    def add_interaction(self, interaction: Interaction) -> None:
        self.client.put_item(
            TableName=self.table, Item=interaction_item(interaction), ConditionExpression="attribute_not_exists(pk)"
        )

    def count_outcome(self, event_id: str, campaign_id: str, shard: int, channel: str, outcome: str) -> bool:
        marker = dynamo_item(
            {
                "pk": f"COUNTED#{event_id}",
                "sk": "COUNTED",
                "entity": COUNTED,
                "campaignId": campaign_id,
                "expiresAt": int(time.time()) + COUNTED_KEEP_S,
            }
        )
        update = {
            "TableName": self.table,
            "Key": count_key(campaign_id, shard),
            "UpdateExpression": "SET entity = :e, campaignId = :c ADD #outcome :one, #per :one",
            "ExpressionAttributeNames": {"#outcome": outcome, "#per": f"{channel}#{outcome}"},
            "ExpressionAttributeValues": {":e": {"S": COUNT}, ":c": {"S": campaign_id}, ":one": {"N": "1"}},
        }
        try:
            self._transact(
                [
                    (
                        "marker",
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": marker,
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ),
                    ("count", {"Update": update}),
                ]
            )
        except DuplicateEvent:
            return False
        return True

    def all_customers(self) -> Iterator[Customer]:
        for shard in range(LISTING_SHARDS):
            for item in self._query(
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": {"S": customers_partition(shard)}},
            ):
                yield customer_from(item)

    def save_score(self, customer: Customer) -> None:
        try:
            self.client.put_item(
                TableName=self.table, Item=customer_item(customer), **self._versioned(customer.version)
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise StaleItem("The customer changed meanwhile.") from exc

    def save_segments(self, summary: dict[str, Any]) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=dynamo_item({"pk": "RFM", "sk": "SUMMARY", "entity": SUMMARY, "summary": summary}),
        )
        self._bounds = None

    def segments(self) -> dict[str, Any] | None:
        found = self._get(SUMMARY_KEY)
        return found["summary"] if found else None

    # -- tickets -------------------------------------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> Ticket | None:
        if not ticket_id or len(ticket_id) > MAX_ID_LENGTH:
            return None
        found = self._get(ticket_key(ticket_id))
        return ticket_from(found) if found else None

    def messages(self, ticket_id: str) -> list[TicketMessage]:
        return [message_from(m) for m in self._prefix(f"TICKET#{ticket_id}", "MESSAGE#", newest_first=False)]

    def save_ticket(self, ticket: Ticket, message: TicketMessage | None = None) -> Ticket:
        actions = [("ticket", self._put(ticket_item(ticket), ticket.version))]
        if message is not None:
            actions.append(
                (
                    "message",
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": message_item(message),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                )
            )
        self._transact(actions)
        return Ticket.from_dict(ticket.to_dict(), ticket.version + 1)

    def tickets_of(self, user_id: str, *, limit: int, position: str | None) -> tuple[list[Ticket], str | None]:
        items, after = self._merge("gsi1", [f"USER#{user_id}#TICKETS"], position, limit, newest_first=True)
        return [ticket_from(i) for i in items], after

    def tickets_by_status(
        self, statuses: list[TicketStatus], *, limit: int, position: str | None
    ) -> tuple[list[Ticket], str | None]:
        partitions = [status_partition(s, shard) for s in statuses for shard in range(LISTING_SHARDS)]
        items, after = self._merge("gsi2", partitions, position, limit, newest_first=True)
        return [ticket_from(i) for i in items], after

    # -- campaigns -----------------------------------------------------------------------------------------------
    def add_campaign(self, campaign: Campaign) -> None:
        actions = [("campaign", self._put(campaign_item(campaign), 0))]
        if campaign.discount_code:
            code = dynamo_item(
                {
                    "pk": f"CODE#{campaign.discount_code}",
                    "sk": f"CAMPAIGN#{campaign.campaign_id}",
                    "entity": CODE,
                    "campaignId": campaign.campaign_id,
                    "createdAt": campaign.created_at,
                }
            )
            actions.append(("code", {"Put": {"TableName": self.table, "Item": code}}))
        self._transact(actions)

    def campaign(self, campaign_id: str) -> Campaign | None:
        if not campaign_id or len(campaign_id) > MAX_ID_LENGTH:
            return None
        found = self._get(campaign_key(campaign_id))
        return campaign_from(found) if found else None

    def counts(self, campaign_id: str) -> CampaignCounts:
        counts = CampaignCounts()
        request: dict[str, Any] = {
            self.table: {"Keys": [count_key(campaign_id, s) for s in range(COUNT_SHARDS)], "ConsistentRead": True}
        }
        while request:
            answer = self.client.batch_get_item(RequestItems=request)
            for raw in answer.get("Responses", {}).get(self.table, []):
                counts.add(plain_item(raw))
            request = answer.get("UnprocessedKeys") or {}
        return counts

    def progress(self, campaign_id: str) -> dict[int, ShardProgress]:
        found = self._get(campaign_key(campaign_id)) or {}
        return {int(k): ShardProgress.from_dict(v) for k, v in (found.get("progress") or {}).items()}

    def save_progress(self, campaign_id: str, shard: int, progress: ShardProgress) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=campaign_key(campaign_id),
            UpdateExpression="SET progress.#shard = :p",
            ExpressionAttributeNames={"#shard": str(shard)},
            ExpressionAttributeValues={":p": dynamo_value(progress.to_dict())},
        )

    def members(self, segment: str, shard: int, *, after: str, limit: int) -> list[str]:
        values: dict[str, Any] = {":p": {"S": segment_partition(segment, shard)}}
        condition = "gsi2pk = :p"
        if after:
            condition += " AND gsi2sk > :after"
            values[":after"] = {"S": after}
        answer = self.client.query(
            TableName=self.table,
            IndexName="gsi2",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ProjectionExpression="gsi2sk",
            Limit=limit,
        )
        return [item["gsi2sk"]["S"] for item in answer.get("Items", [])]

    def add_batch(self, batch: CampaignBatch) -> tuple[str, ...]:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=batch_item(batch),
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            old = exc.response.get("Item")
            if not old:
                old = self.client.get_item(
                    TableName=self.table,
                    Key={"pk": batch_item(batch)["pk"], "sk": batch_item(batch)["sk"]},
                    ConsistentRead=True,
                )["Item"]
            return tuple(plain_item(old)["batch"]["recipients"])
        return batch.recipients

    def add_receipts(self, campaign: Campaign, recipients: Iterable[str], sent_at: str) -> None:
        until = campaign.until(sent_at)
        puts = [
            {
                "PutRequest": {
                    "Item": dynamo_item(
                        {
                            "pk": f"CUSTOMER#{user_id}",
                            "sk": f"RECEIPT#{campaign.campaign_id}",
                            "entity": RECEIPT,
                            "campaignId": campaign.campaign_id,
                            "sentAt": sent_at,
                            "until": until,
                        }
                    )
                }
            }
            for user_id in dict.fromkeys(recipients)
        ]
        for start in range(0, len(puts), BATCH_WRITE):
            pending: dict[str, Any] = {self.table: puts[start : start + BATCH_WRITE]}
            for attempt in range(6):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            if pending:
                raise RuntimeError("campaign receipts left unprocessed")

    def finish(self, campaign_id: str, *, targeted: int, batches: int, at: str) -> None:
        """Mark the campaign launched (once: a second launcher finding it launched changes nothing)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=campaign_key(campaign_id),
                UpdateExpression="SET #status = :launched, targeted = :t, batches = :b, launchedAt = :at",
                ConditionExpression="#status = :launching",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":launched": {"S": CampaignStatus.LAUNCHED.value},
                    ":launching": {"S": CampaignStatus.LAUNCHING.value},
                    ":t": {"N": str(targeted)},
                    ":b": {"N": str(batches)},
                    ":at": {"S": at},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return
