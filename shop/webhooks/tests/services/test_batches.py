"""prices.batch at catalog size: one stored body per batch, at most WEBHOOK_MAX_PENDING_BATCHES
waiting per endpoint (the oldest dropped, counted, never sent), settled ones pruned early."""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from pytest_django.fixtures import Settings

from shop.catalog.models import Goods
from shop.core.events import EventType
from shop.currency.services import rate_create
from shop.domain.price_batch import PriceBatch, PublishedBatch
from shop.tests.factories import CurrencyFactory, GoodsFactory
from shop.tests.metrics import TOKEN, sample
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shop.webhooks.selectors import delivery_pending
from shop.webhooks.services.delivery import delivery_attempt, endpoint_flush
from shop.webhooks.services.endpoints import endpoint_create
from shop.webhooks.services.events import BATCH_DROPPED, event_record, webhook_batches_prune
from shop.webhooks.tests.receiver import receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public literal address: resolving it asks no DNS


@pytest.fixture
def goods(usd: Any) -> list[Goods]:
    return [GoodsFactory(price="10.00") for _ in range(3)]


@pytest.fixture
def record(goods: list[Goods]) -> Callable[[int], WebhookEvent | None]:
    """Records the prices.batch of feed batch ``seq`` (every goods at 10.00 + seq cents)."""

    def record_batch(seq: int) -> WebhookEvent | None:
        rows = [(i, g.id, Decimal("10.00") + Decimal(seq) / 100, None) for i, g in enumerate(goods, 1)]
        batch = PriceBatch.of_rows(at=timezone.now(), source="tick", rows=rows)
        return event_record(EventType.PRICES_BATCH, PublishedBatch(seq=seq, batch=batch))

    return record_batch


def seqs(endpoint: WebhookEndpoint, status: str) -> list[int | None]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint, status=status)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def dropped_total(client: Client) -> float:
    with override_settings(METRICS_TOKEN=TOKEN):
        text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    return sample(text, "tickshop_webhook_batches_dropped_total")


def test_a_batch_is_stored_once_however_many_endpoints_want_it(
    record: Callable[[int], WebhookEvent | None],
) -> None:
    # given: three endpoints want batches, one does not
    wanting = [endpoint_create(url=PUBLIC_URL, events=["prices.batch"]) for _ in range(3)]
    endpoint_create(url=PUBLIC_URL, events=["order.created"])
    # when
    event = record(7)
    # then: one body, three small deliveries that refer to it
    assert event is not None and WebhookEvent.objects.count() == 1
    deliveries = WebhookDelivery.objects.filter(event=event)
    assert sorted(d.endpoint_id for d in deliveries) == [e.id for e in wanting]
    assert {d.seq for d in deliveries} == {7}


def test_past_the_cap_the_oldest_pending_batches_are_dropped_and_counted(
    record: Callable[[int], WebhookEvent | None],
    settings: Settings,
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: at most 3 batches wait per endpoint; two endpoints take none
    settings.WEBHOOK_MAX_PENDING_BATCHES = 3
    first, second = (endpoint_create(url=PUBLIC_URL, events=["prices.batch"]) for _ in range(2))
    before = dropped_total(client)
    # when: five batches are recorded
    with django_capture_on_commit_callbacks(execute=True):
        for seq in range(1, 6):
            record(seq)
    # then: each endpoint keeps the newest three; the two oldest are dropped, never to be sent
    for endpoint in (first, second):
        assert seqs(endpoint, "pending") == [3, 4, 5]
        assert seqs(endpoint, "dropped") == [1, 2]
    dropped = WebhookDelivery.objects.filter(status="dropped")
    assert {(d.last_error, d.next_attempt_at, d.attempts) for d in dropped} == {
        (BATCH_DROPPED.format(cap=3), None, 0)
    }
    assert dropped_total(client) == before + 4
    # when: the first endpoint takes one, and a sixth batch comes
    WebhookDelivery.objects.filter(endpoint=first, seq=3).update(status="succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        record(6)
    # then: only what waits counts
    assert seqs(first, "pending") == [4, 5, 6] and seqs(first, "dropped") == [1, 2]
    assert seqs(second, "pending") == [4, 5, 6] and seqs(second, "dropped") == [1, 2, 3]
    assert dropped_total(client) == before + 5


def test_other_events_are_never_dropped(
    record: Callable[[int], WebhookEvent | None], settings: Settings
) -> None:
    settings.WEBHOOK_MAX_PENDING_BATCHES = 1
    CurrencyFactory(code="EUR")
    endpoint = endpoint_create(url=PUBLIC_URL, events=["prices.batch", "rate.changed"])
    for i in range(3):
        rate_create(currency_code="EUR", rate=Decimal(f"0.9{i}"), source="manual")
        record(i + 1)
    pending = WebhookDelivery.objects.filter(endpoint=endpoint, status="pending")
    assert sorted(pending.values_list("event_type", flat=True)) == ["prices.batch", *["rate.changed"] * 3]
    assert seqs(endpoint, "dropped") == [1, 2]


def test_zero_is_no_cap(record: Callable[[int], WebhookEvent | None], settings: Settings) -> None:
    settings.WEBHOOK_MAX_PENDING_BATCHES = 0
    endpoint = endpoint_create(url=PUBLIC_URL, events=["prices.batch"])
    for seq in range(1, 5):
        record(seq)
    assert seqs(endpoint, "pending") == [1, 2, 3, 4]


def test_the_receiver_sees_the_gap_in_seq(
    record: Callable[[int], WebhookEvent | None], settings: Settings, local_ok: None
) -> None:
    # given: an endpoint that took batch 1, then missed 2 to 4 while it was away; at most 2 wait
    settings.WEBHOOK_MAX_PENDING_BATCHES = 2
    with receiver() as hook:
        endpoint = endpoint_create(url=hook.url, events=["prices.batch"])
        record(1)
        assert endpoint_flush(endpoint_id=endpoint.id) == 1
        for seq in range(2, 6):
            record(seq)
        # when: it is sent to again
        assert endpoint_flush(endpoint_id=endpoint.id) == 2
    # then: 2 and 3 never come; the jump in seq says so
    assert [event["data"]["seq"] for event in hook.events("prices.batch")] == [1, 4, 5]


@pytest.mark.parametrize(("answer", "settled"), [(500, "dropped"), (200, "succeeded")])
def test_a_batch_dropped_while_it_is_sent_is_not_brought_back(
    record: Callable[[int], WebhookEvent | None], local_ok: None, answer: int, settled: str
) -> None:
    # given: the sender has the batch in hand when the cap drops it
    with receiver() as hook:
        hook.script = [answer]
        endpoint = endpoint_create(url=hook.url, events=["prices.batch"])
        record(1)
        [delivery] = delivery_pending(endpoint_id=endpoint.id)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="dropped", next_attempt_at=None)
        # when: the attempt ends
        delivery_attempt(delivery=delivery)
    # then: a failed one stays dropped (no retry), a delivered one is recorded as delivered
    delivery.refresh_from_db()
    assert delivery.status == settled
    assert WebhookAttempt.objects.get(delivery=delivery).status_code == answer


def test_the_sender_loads_only_the_body_it_sends(
    record: Callable[[int], WebhookEvent | None], settings: Settings
) -> None:
    endpoint_create(url=PUBLIC_URL, events=["prices.batch"])
    for seq in range(1, 4):
        record(seq)
    pending = delivery_pending(endpoint_id=WebhookEndpoint.objects.get().id)
    assert len(pending) == 3
    assert all("body" in delivery.event.get_deferred_fields() for delivery in pending)


def test_settled_batches_are_pruned_after_their_own_retention(
    record: Callable[[int], WebhookEvent | None], usd: Any
) -> None:
    # given: old batches delivered, dropped and still waiting, and an old settled rate event
    CurrencyFactory(code="EUR")
    endpoint = endpoint_create(url=PUBLIC_URL, events=["prices.batch", "rate.changed"])
    for seq in range(1, 4):
        record(seq)
    rate_create(currency_code="EUR", rate=Decimal("0.91"), source="manual")
    WebhookDelivery.objects.filter(seq=1).update(status="succeeded")
    WebhookDelivery.objects.filter(seq=2).update(status="dropped")
    WebhookDelivery.objects.filter(event_type="rate.changed").update(status="succeeded")
    WebhookEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))
    # when
    assert webhook_batches_prune(seconds=3600, force=True) == 2
    # then: what waits, and the other event types, stay
    assert seqs(endpoint, "pending") == [3]
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == ["prices.batch", "rate.changed"]
