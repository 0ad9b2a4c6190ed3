"""The CRM table's stream, published as CloudEvents on the CRM topic.

- a staff reply on a ticket (``TicketMessage`` by staff) and a reply written on a customer's page (``Interaction`` of
  kind reply): ``SupportReplied.v1`` (notification sends it);
- a new campaign (``Campaign``): ``CampaignCreated.v1`` (the CRM's own launcher takes it);
- a campaign batch (``CampaignBatch``): ``CampaignBatchReady.v1`` (notification renders and sends it).

Only new items publish (``INSERT``); event ids derive from the item (reply, campaign, batch id), so a retried record
publishes the same ids and consumers drop the repeats.
"""

from __future__ import annotations

import uuid
from typing import Any

from crm import bootstrap
from crm.events import CAMPAIGN_BATCH_READY, CAMPAIGN_CREATED, PUBLISHED, SOURCE, SUPPORT_REPLIED
from crm.store import BATCH, CAMPAIGN, INTERACTION, MESSAGE
from gears_shared.events import CloudEvent, new_event, stream_images
from gears_shared.streams import stream_handler

EVENT_ID_NAMESPACE = uuid.UUID("0f8e6a2c-3b1d-4c5e-9a7f-6d2b8c4e1a93")


def event_id(kind: str, key: str) -> str:
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{kind}#{key}"))


def _mapped(image: dict[str, Any]) -> tuple[str, str, dict[str, Any], str] | None:
    """(type, id key, data, time) of a new item, or ``None`` when it publishes nothing."""
    entity = image.get("entity")
    if entity == MESSAGE and image.get("author") == "staff":
        m = image["message"]
        data = {
            "replyId": m["messageId"],
            "userId": m["userId"],
            "ticketId": m["ticketId"],
            "subject": f"Re: {m['subject']}",
            "body": m["text"],
            "repliedAt": m["at"],
            "by": m["authorId"],
        }
        return SUPPORT_REPLIED, m["messageId"], data, m["at"]
    if entity == INTERACTION and image.get("kind") == "reply":
        i = image["interaction"]
        data = {
            "replyId": i["interactionId"],
            "userId": i["userId"],
            "ticketId": None,
            "subject": i.get("subject") or "",
            "body": i["text"],
            "repliedAt": i["at"],
            "by": i["by"],
        }
        return SUPPORT_REPLIED, i["interactionId"], data, i["at"]
    if entity == CAMPAIGN:
        c = image["campaign"]
        data = {
            "campaignId": c["campaignId"],
            "name": c["name"],
            "segment": c["segment"],
            "channels": c["channels"],
            "discountCode": c.get("discountCode"),
            "createdAt": c["createdAt"],
        }
        return CAMPAIGN_CREATED, c["campaignId"], data, c["createdAt"]
    if entity == BATCH:
        b = dict(image["batch"])
        b["discountCode"] = b.get("discountCode") or None
        return CAMPAIGN_BATCH_READY, b["batchId"], b, ""
    return None


def events_for_record(record: dict[str, Any]) -> list[CloudEvent]:
    """The CloudEvents one stream record stands for: one for a new item that publishes, none otherwise."""
    name, _old, new = stream_images(record)
    if name != "INSERT" or not new:
        return []
    mapped = _mapped(new)
    if mapped is None:
        return []
    type_, key, data, at = mapped
    PUBLISHED[type_].model_validate(data)  # the published contract, checked before it leaves
    subject = data.get("campaignId") or data.get("ticketId") or data.get("userId")
    return [new_event(type_, SOURCE, data, subject=subject, event_id=event_id(type_, key), time=at or None)]


handler = stream_handler(bootstrap.stream_publisher)
