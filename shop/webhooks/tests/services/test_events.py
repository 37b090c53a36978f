"""shop.webhooks.services.events: one event row and one delivery per endpoint that wants it."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from shop.catalog.models import Sale
from shop.core.events import EventType
from shop.currency.models import ExchangeRate
from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory
from shop.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSaleState
from shop.webhooks.services.endpoints import endpoint_create
from shop.webhooks.services.events import event_record, sale_states_sync, webhook_log_prune

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public literal address: resolving it asks no DNS


@pytest.fixture
def eur(usd: Any) -> Any:
    return CurrencyFactory(code="EUR")


def test_nothing_is_recorded_when_no_endpoint_wants_the_event(eur: Any) -> None:
    endpoint_create(url=PUBLIC_URL, events=["order.created"])
    endpoint_create(url=PUBLIC_URL, events=["rate.changed"], is_active=False)
    rate = ExchangeRate.objects.create(currency=eur, rate=Decimal("0.9"))
    assert event_record(EventType.RATE_CHANGED, rate) is None
    assert not WebhookEvent.objects.exists()


def test_one_event_and_a_delivery_per_endpoint_that_wants_it(eur: Any) -> None:
    # given: two endpoints want rate changes, one does not
    wanting = [endpoint_create(url=PUBLIC_URL, events=["rate.changed"]) for _ in range(2)]
    endpoint_create(url=PUBLIC_URL, events=["order.created"])
    # when: a rate is appended (the service emits rate.changed)
    rate = rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
    # then: one event, its body fixed once; one pending delivery per wanting endpoint
    event = WebhookEvent.objects.get()
    body = json.loads(event.body)
    assert (body["id"], body["type"], body["data"]["id"]) == (str(event.id), "rate.changed", rate.id)
    assert body["data"]["rate"] == "0.92" and body["data"]["base"] == "USD"
    deliveries = WebhookDelivery.objects.filter(event=event)
    assert sorted(d.endpoint_id for d in deliveries) == [e.id for e in wanting]
    assert {d.status for d in deliveries} == {WebhookDelivery.Status.PENDING}


def test_sale_states_sync_tells_starts_and_ends_once() -> None:
    endpoint_create(url=PUBLIC_URL, events=["sale.started", "sale.ended"])
    sale = SaleFactory(goods=[GoodsFactory()])
    assert sale_states_sync() == ([sale.id], [])
    assert sale_states_sync() == ([], [])  # nothing new since the last look
    Sale.objects.filter(pk=sale.pk).update(ends_at=timezone.now())
    assert sale_states_sync() == ([], [sale.id])
    assert not WebhookSaleState.objects.exists()
    assert list(WebhookEvent.objects.order_by("created_at").values_list("type", flat=True)) == [
        "sale.started",
        "sale.ended",
    ]


def test_webhook_log_prune_keeps_what_waits_to_be_sent(eur: Any) -> None:
    endpoint_create(url=PUBLIC_URL, events=["rate.changed"])
    rate_create(currency_code="EUR", rate=Decimal("0.91"), source="manual")
    rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
    old, waiting = WebhookEvent.objects.order_by("created_at")
    WebhookEvent.objects.update(created_at=timezone.now() - timedelta(days=40))
    WebhookDelivery.objects.filter(event=old).update(status=WebhookDelivery.Status.SUCCEEDED)
    assert webhook_log_prune(days=30, force=True) == 1
    assert list(WebhookEvent.objects.values_list("id", flat=True)) == [waiting.id]
    assert webhook_log_prune(days=30) == 0  # at most once an hour


def test_a_fired_alert_is_recorded_as_price_alert(eur: Any) -> None:
    # given: an endpoint that wants price alerts, and a shopper's alert below 9.00 EUR
    from shop.catalog.services.prices import prices_record
    from shop.pricewatch.services.matching import prices_match
    from shop.pricewatch.services.watches import alert_create
    from shop.tests.factories import UserFactory

    rate_create(currency_code="EUR", rate=Decimal("0.5"), source="manual")
    endpoint_create(url=PUBLIC_URL, events=["price.alert"])
    goods = GoodsFactory(price="20.00")
    shopper = UserFactory()
    alert = alert_create(
        user=shopper, goods_id=goods.id, currency_code="EUR", direction="below", price=Decimal("9")
    )
    # when: a price of 8.50 EUR is committed and matched
    batch = prices_record(amounts={goods.id: Decimal("17.00")}, source="manual")
    prices_match(at=batch.at, first=batch.ids[0], last=batch.ids[0])
    # then: one price.alert event, recorded with the alert, carrying what fired it
    event = WebhookEvent.objects.get(type="price.alert")
    data = json.loads(event.body)["data"]
    assert data == {
        "alert": alert.id, "user": shopper.id, "goods": goods.id, "currency": "EUR", "direction": "below",
        "price": "9.00", "value": "8.50", "price_id": batch.ids[0], "triggered_at": data["triggered_at"],
    }  # fmt: skip
    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_subjects_announced_together_are_one_event_each(eur: Any) -> None:
    from shop.core.events import Each, event_emit

    endpoint_create(url=PUBLIC_URL, events=["rate.changed"])
    rates = [ExchangeRate.objects.create(currency=eur, rate=Decimal(r)) for r in ("0.9", "0.8")]
    event_emit(kind=EventType.RATE_CHANGED, subject=Each(tuple(rates)))
    bodies = [json.loads(e.body)["data"]["rate"] for e in WebhookEvent.objects.order_by("created_at")]
    assert sorted(bodies) == ["0.8", "0.9"]
    assert WebhookDelivery.objects.count() == 2
