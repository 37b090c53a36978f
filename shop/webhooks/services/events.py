"""Recording events for delivery: one event row (its body fixed once) and one delivery per endpoint.

``event_record`` listens to shop.core.events. Inside the transaction that made
the change (orders, rates) its rows commit with the change or not at all; the
senders are kicked only after commit, so nobody is told of an order that was
rolled back.
"""

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from shop.catalog.models import Sale
from shop.catalog.selectors import sale_running_list
from shop.core.events import EventType
from shop.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSaleState
from shop.webhooks.payloads import SaleEnded, payload_of
from shop.webhooks.selectors import endpoint_ids_for
from shop.webhooks.services.dispatch import endpoint_kick

logger = logging.getLogger(__name__)
SALE_SYNC_LOCK = "tickshop:webhooks:sale-sync"
PRUNE_GATE = "tickshop:webhooks:pruned"
PRUNE_EVERY_SECONDS = 3600


def event_body(*, event_id: uuid.UUID, kind: str, created_at: Any, data: dict[str, Any]) -> str:
    return json.dumps(
        {"id": str(event_id), "type": kind, "created_at": created_at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def event_record(kind: EventType, subject: Any) -> WebhookEvent | None:
    """Record ``kind`` for every active endpoint that wants it; None when none does."""
    endpoint_ids = endpoint_ids_for(kind=kind)
    if not endpoint_ids:
        return None
    data = payload_of(kind, subject)
    now = timezone.now()
    event_id = uuid.uuid4()
    with transaction.atomic():
        event = WebhookEvent.objects.create(
            id=event_id,
            type=kind,
            created_at=now,
            body=event_body(event_id=event_id, kind=kind, created_at=now, data=data),
        )
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event=event,
                event_type=kind,
                seq=data.get("seq"),
                next_attempt_at=now,
            )
            for endpoint_id in endpoint_ids
        )
        transaction.on_commit(lambda: _kick_all(endpoint_ids))
    return event


def _kick_all(endpoint_ids: list[int]) -> None:
    for endpoint_id in endpoint_ids:
        endpoint_kick(endpoint_id=endpoint_id)


def sale_states_sync() -> tuple[list[int], list[int]]:
    """sale.started / sale.ended for the sales that started or stopped running since the last look.

    Sales start and end by the clock (their window) as much as by edits, so
    this compares what runs now with what ran at the last look, which the
    periodic sweep does every few seconds. Returns (started, ended) sale ids.
    """
    if not cache.add(SALE_SYNC_LOCK, 1, timeout=60):
        return [], []  # another sweep is at it
    try:
        with transaction.atomic():
            running = set(sale_running_list().values_list("id", flat=True))
            known = set(WebhookSaleState.objects.select_for_update().values_list("sale_id", flat=True))
            started, ended = sorted(running - known), sorted(known - running)
            now = timezone.now()
            WebhookSaleState.objects.bulk_create(
                WebhookSaleState(sale_id=sale_id, running=True, changed_at=now) for sale_id in started
            )
            WebhookSaleState.objects.filter(sale_id__in=ended).delete()
            sales = Sale.objects.in_bulk(started + ended)
            for sale_id in started:
                event_record(EventType.SALE_STARTED, sales[sale_id])
            for sale_id in ended:
                event_record(EventType.SALE_ENDED, SaleEnded(sale_id=sale_id, sale=sales.get(sale_id)))
    finally:
        cache.delete(SALE_SYNC_LOCK)
    if started or ended:
        logger.info("webhooks: sales started %s, ended %s", started, ended)
    return started, ended


def webhook_log_prune(*, days: int, force: bool = False) -> int:
    """Delete events older than ``days`` that nothing waits to send, with their delivery log.

    At most once an hour across processes (the sweep calls it every few
    seconds); returns how many events went.
    """
    if not force and not cache.add(PRUNE_GATE, 1, timeout=PRUNE_EVERY_SECONDS):
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    old = WebhookEvent.objects.filter(created_at__lt=cutoff).exclude(
        deliveries__status=WebhookDelivery.Status.PENDING
    )
    deleted = old.delete()[1].get(WebhookEvent._meta.label, 0)
    if deleted:
        logger.info("webhooks: %d events older than %d days deleted", deleted, days)
    return deleted
