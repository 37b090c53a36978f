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

from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from shop.catalog.models import Sale
from shop.catalog.selectors import sale_running_list
from shop.core.events import Each, EventType
from shop.core.metrics import WEBHOOK_BATCHES_DROPPED
from shop.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSaleState
from shop.webhooks.payloads import SaleEnded, payload_of
from shop.webhooks.selectors import delivery_batch_ids_over_cap, endpoint_ids_for
from shop.webhooks.services.dispatch import endpoint_kick

logger = logging.getLogger(__name__)
SALE_SYNC_LOCK = "tickshop:webhooks:sale-sync"
PRUNE_GATE = "tickshop:webhooks:pruned"
PRUNE_EVERY_SECONDS = 3600
BATCH_PRUNE_GATE = "tickshop:webhooks:batches-pruned"
BATCH_PRUNE_EVERY_SECONDS = 60
BATCH_DROPPED = "Dropped unsent: more than {cap} newer prices.batch deliveries waited for this endpoint."


def event_body(*, event_id: uuid.UUID, kind: str, created_at: Any, data: dict[str, Any]) -> str:
    return json.dumps(
        {"id": str(event_id), "type": kind, "created_at": created_at.isoformat(), "data": data},
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
    )


def event_record(kind: EventType, subject: Any) -> WebhookEvent | None:
    """Record ``kind`` for every active endpoint that wants it; None when none does.

    One event row holds the body, however many endpoints want it; each endpoint
    gets a small delivery row that refers to it. ``Each`` subjects are one event each (the
    last one comes back). A ``prices.batch`` also drops
    the endpoints' oldest pending batches beyond WEBHOOK_MAX_PENDING_BATCHES.
    """
    endpoint_ids = endpoint_ids_for(kind=kind)
    if not endpoint_ids:
        return None
    if isinstance(subject, Each):  # several at once: the endpoints were looked up once for all
        recorded = [_recorded(kind, one, endpoint_ids) for one in subject.subjects]
        return recorded[-1] if recorded else None
    return _recorded(kind, subject, endpoint_ids)


def _recorded(kind: EventType, subject: Any, endpoint_ids: list[int]) -> WebhookEvent:
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
        if kind == EventType.PRICES_BATCH:
            batches_cap(endpoint_ids=endpoint_ids)
        for endpoint_id in endpoint_ids:
            endpoint_kick(endpoint_id=endpoint_id)  # after commit
    return event


@transaction.atomic(savepoint=False)  # part of the recording's transaction: no savepoint per batch
def batches_cap(*, endpoint_ids: list[int]) -> int:
    """Drop the oldest pending prices.batch deliveries of these endpoints beyond
    WEBHOOK_MAX_PENDING_BATCHES each; returns how many went.

    An endpoint that takes no batches (down, failing, switched off) would
    otherwise collect every tick's prices, every tick. Dropped deliveries are
    kept in the log with status ``dropped`` and are never sent: the receiver
    sees a gap in ``seq`` and knows to read the current prices again.
    """
    cap = int(settings.WEBHOOK_MAX_PENDING_BATCHES)
    if cap <= 0:
        return 0
    over = delivery_batch_ids_over_cap(endpoint_ids=endpoint_ids, keep=cap)
    if not over:
        return 0
    dropped = WebhookDelivery.objects.filter(id__in=over, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.DROPPED,
        next_attempt_at=None,
        last_error=BATCH_DROPPED.format(cap=cap),
    )
    transaction.on_commit(lambda: WEBHOOK_BATCHES_DROPPED.inc(dropped))
    logger.info("webhooks: %d pending prices.batch deliveries dropped (cap %d)", dropped, cap)
    return dropped


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
    deleted = _events_prune(WebhookEvent.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)))
    if deleted:
        logger.info("webhooks: %d events older than %d days deleted", deleted, days)
    return deleted


def webhook_batches_prune(*, seconds: int, force: bool = False) -> int:
    """Delete prices.batch events older than ``seconds`` that nothing waits to send, with their
    delivery log: a tick records one per 5,000 goods (about 350 KB of prices each), every few
    seconds, so they are kept far shorter than the other events. At most once a minute across
    processes."""
    if not force and not cache.add(BATCH_PRUNE_GATE, 1, timeout=BATCH_PRUNE_EVERY_SECONDS):
        return 0
    cutoff = timezone.now() - timedelta(seconds=seconds)
    deleted = _events_prune(WebhookEvent.objects.filter(type=EventType.PRICES_BATCH, created_at__lt=cutoff))
    if deleted:
        logger.info("webhooks: %d prices.batch events older than %d s deleted", deleted, seconds)
    return deleted


def _events_prune(events: QuerySet[WebhookEvent]) -> int:
    # Ids only: deleting reads the rows it deletes, and a batch's body is hundreds of KB.
    settled = events.exclude(deliveries__status=WebhookDelivery.Status.PENDING).only("id")
    return int(settled.delete()[1].get(WebhookEvent._meta.label, 0))
