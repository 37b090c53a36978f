"""An endpoint that fails every attempt for WEBHOOK_DISABLE_AFTER_SECONDS is switched off with a
reason staff see (API and admin); switching it on again clears it."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory, UserFactory
from shop.tests.metrics import TOKEN, sample
from shop.webhooks.models import WebhookDelivery, WebhookEndpoint
from shop.webhooks.services.delivery import delivery_attempt
from shop.webhooks.services.endpoints import endpoint_create, endpoint_update
from shop.webhooks.tests.receiver import Receiver, receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

AFTER = 600


@pytest.fixture
def hook(local_ok: None, usd: Any, settings: Settings) -> Any:
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = AFTER
    CurrencyFactory(code="EUR")
    with receiver() as received:
        endpoint = endpoint_create(url=received.url, events=["rate.changed"])
        yield received, endpoint


def attempt_one(endpoint: WebhookEndpoint, rate: str) -> bool:
    rate_create(currency_code="EUR", rate=Decimal(rate), source="manual")
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint").filter(endpoint=endpoint).latest("id")
    )
    return delivery_attempt(delivery=delivery)


def metric_total(client: Client, name: str) -> float:
    with override_settings(METRICS_TOKEN=TOKEN):
        text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    return sample(text, name)


def test_failing_for_the_whole_period_switches_the_endpoint_off(
    hook: tuple[Receiver, WebhookEndpoint], staff: APIClient, client: Client
) -> None:
    received, endpoint = hook
    before = metric_total(client, "tickshop_webhook_endpoints_disabled_total")
    # given: a first failure starts the count
    received.script = [500, 500, 503]
    assert attempt_one(endpoint, "0.91") is False
    endpoint.refresh_from_db()
    first_failure = endpoint.failing_since
    assert first_failure is not None and endpoint.is_active
    # a failure within the period changes nothing
    assert attempt_one(endpoint, "0.92") is False
    endpoint.refresh_from_db()
    assert (endpoint.failing_since, endpoint.is_active, endpoint.disabled_reason) == (first_failure, True, "")
    # when: it still fails once the period is over
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(seconds=AFTER + 1)
    )
    assert attempt_one(endpoint, "0.93") is False
    # then: it is switched off, and says why
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_at is not None
    assert "every delivery attempt failed since" in endpoint.disabled_reason
    assert endpoint.disabled_reason.endswith("Last error: HTTP 503")
    assert metric_total(client, "tickshop_webhook_endpoints_disabled_total") == before + 1
    shown = staff.get(f"/api/webhooks/{endpoint.id}/").json()
    assert shown["is_active"] is False and shown["disabled_reason"] == endpoint.disabled_reason
    assert shown["disabled_at"] is not None and shown["failing_since"] is not None
    # and no new event is recorded for it
    rate_create(currency_code="EUR", rate=Decimal("0.94"), source="manual")
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
    # when: staff switch it on again
    changed = staff.patch(f"/api/webhooks/{endpoint.id}/", {"is_active": True}, format="json")
    # then: the reason and the failure count are cleared
    assert changed.status_code == 200
    assert (changed.json()["disabled_reason"], changed.json()["disabled_at"]) == ("", None)
    assert changed.json()["failing_since"] is None
    # the API never lets staff write them
    staff.patch(
        f"/api/webhooks/{endpoint.id}/", {"disabled_reason": "x", "failing_since": None}, format="json"
    )
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.disabled_reason, endpoint.failing_since) == (True, "", None)


def test_a_delivered_attempt_restarts_the_count(hook: tuple[Receiver, WebhookEndpoint]) -> None:
    received, endpoint = hook
    received.script = [500]
    assert attempt_one(endpoint, "0.91") is False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(seconds=AFTER - 5)
    )
    assert attempt_one(endpoint, "0.92") is True
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.is_active


def test_zero_never_switches_an_endpoint_off(
    hook: tuple[Receiver, WebhookEndpoint], settings: Settings
) -> None:
    received, endpoint = hook
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 0
    received.script = [500, 500]
    assert attempt_one(endpoint, "0.91") is False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=30))
    assert attempt_one(endpoint, "0.92") is False
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.disabled_reason == ""


def test_the_admin_shows_the_reason_and_switching_on_there_clears_it(
    hook: tuple[Receiver, WebhookEndpoint],
) -> None:
    # given: an endpoint the shop switched off
    _, endpoint = hook
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False,
        failing_since=timezone.now() - timedelta(days=1),
        disabled_at=timezone.now(),
        disabled_reason="Switched off by the shop: every delivery attempt failed",
    )
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = f"/admin/webhooks/webhookendpoint/{endpoint.id}/change/"
    # then: the list and the page show why
    assert "every delivery attempt failed" in client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "every delivery attempt failed" in client.get(url).content.decode()
    # when: staff switch it on in the admin
    response = client.post(url, {"is_active": "on", "description": "erp"})
    # then: through the service, which clears the reason
    assert response.status_code == 302, response.content.decode()[-2000:]
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.description) == (True, "erp")
    assert (endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since) == ("", None, None)


def test_switching_off_by_hand_keeps_no_reason(hook: tuple[Receiver, WebhookEndpoint]) -> None:
    _, endpoint = hook
    endpoint_update(endpoint=endpoint, data={"is_active": False})
    endpoint.refresh_from_db()
    assert endpoint.is_active is False and endpoint.disabled_reason == "" and endpoint.disabled_at is None
