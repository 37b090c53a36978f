"""shop.webhooks.services.dispatch: a kick has the endpoint's due deliveries sent, or leaves them to the sweep."""

from decimal import Decimal
from typing import Any

import pytest

from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory
from shop.tests.live import wait_until
from shop.webhooks.models import WebhookDelivery
from shop.webhooks.services import dispatch
from shop.webhooks.services.dispatch import endpoint_kick
from shop.webhooks.services.endpoints import endpoint_create
from shop.webhooks.tasks import webhook_endpoint_flush_task
from shop.webhooks.tests.receiver import receiver

# The thread sends on its own connection: the rows must be committed for it to see them.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("send_nothing")]


@pytest.mark.parametrize("delivery", ["thread", "celery"])
def test_a_kick_sends_the_due_deliveries(
    local_ok: None, usd: Any, settings: Any, celery_eager: None, delivery: str
) -> None:
    CurrencyFactory(code="EUR")
    with receiver() as received:
        endpoint = endpoint_create(url=received.url, events=["rate.changed"])
        rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
        settings.WEBHOOK_DELIVERY = delivery
        endpoint_kick(endpoint_id=endpoint.id)
        [event] = received.wait_for(1, timeout=10)
    assert event["type"] == "rate.changed"
    wait_until(lambda: WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED, timeout=10)


@pytest.mark.parametrize("delivery", ["thread", "celery"])
def test_a_far_off_kick_is_left_to_the_sweep(
    local_ok: None, usd: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, delivery: str
) -> None:
    scheduled: list[Any] = []
    monkeypatch.setattr(dispatch, "enqueue_after_commit", lambda *args, **kwargs: scheduled.append(args))
    monkeypatch.setattr(
        webhook_endpoint_flush_task, "apply_async", lambda *args, **kwargs: scheduled.append(kwargs)
    )
    CurrencyFactory(code="EUR")
    with receiver() as received:
        endpoint = endpoint_create(url=received.url, events=["rate.changed"])
        rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
        settings.WEBHOOK_DELIVERY = delivery
        endpoint_kick(endpoint_id=endpoint.id, delay=settings.WEBHOOK_KICK_MAX_DELAY_SECONDS + 1)
        assert scheduled == []
        assert received.received == []
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING
