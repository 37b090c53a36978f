"""/api/webhooks/: who may use it, the secret shown once, URL checks, the delivery log."""

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.catalog.models import Sale
from shop.core.events import EventType
from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory
from shop.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shop.webhooks.security import URL_NOT_HTTPS, URL_NOT_PUBLIC
from shop.webhooks.selectors import endpoint_ids_for
from shop.webhooks.services.events import sale_states_sync, webhook_log_prune

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public literal address: resolving it asks no DNS


def register(client: APIClient, url: str = PUBLIC_URL, events: Any = ("order.created",)) -> Any:
    return client.post("/api/webhooks/", {"url": url, "events": list(events), "description": "erp"})


@pytest.mark.parametrize(("role", "expected"), [("anon", 401), ("shopper", 403)])
def test_only_staff_use_webhooks(request: pytest.FixtureRequest, role: str, expected: int) -> None:
    client: APIClient = request.getfixturevalue(role)
    assert client.get("/api/webhooks/").status_code == expected
    assert register(client).status_code == expected


def test_secret_is_shown_once(staff: APIClient) -> None:
    # when: staff register an endpoint
    created = register(staff)
    # then: the answer has the secret, later reads never do
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
    assert body["events"] == ["order.created"] and body["is_active"] is True
    assert WebhookEndpoint.objects.get(id=body["id"]).secret == body["secret"]
    assert "secret" not in staff.get(f"/api/webhooks/{body['id']}/").json()
    assert "secret" not in staff.get("/api/webhooks/").json()["results"][0]
    changed = staff.patch(f"/api/webhooks/{body['id']}/", {"is_active": False})
    assert changed.status_code == 200 and "secret" not in changed.json()


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/hooks",
    ],
)
def test_private_addresses_are_refused_at_registration(staff: APIClient, url: str) -> None:
    response = register(staff, url=url)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "webhook_url_not_public"
    assert response.json()["detail"].startswith(URL_NOT_PUBLIC.split(":")[0])
    assert not WebhookEndpoint.objects.exists()


def test_plain_http_is_refused_unless_allowed(staff: APIClient, settings: Settings) -> None:
    response = register(staff, url="http://93.184.215.14/hooks")
    assert response.status_code == 400
    assert response.json() == {"detail": URL_NOT_HTTPS, "code": "webhook_url_not_https"}
    settings.WEBHOOK_ALLOW_HTTP = True
    assert register(staff, url="http://93.184.215.14/hooks").status_code == 201


def test_private_address_allowed_when_configured(staff: APIClient, local_ok: None) -> None:
    assert register(staff, url="http://127.0.0.1:9/hooks").status_code == 201


def test_private_address_refused_when_changing_the_url(staff: APIClient) -> None:
    endpoint = register(staff).json()
    response = staff.patch(f"/api/webhooks/{endpoint['id']}/", {"url": "https://127.0.0.1/x"})
    assert response.status_code == 400
    assert WebhookEndpoint.objects.get(id=endpoint["id"]).url == PUBLIC_URL


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": PUBLIC_URL, "events": []}, "events"),
        ({"url": PUBLIC_URL, "events": ["order.shipped"]}, "events"),
        ({"url": "not a url", "events": ["order.created"]}, "url"),
        ({"events": ["order.created"]}, "url"),
    ],
)
def test_invalid_registrations(staff: APIClient, body: dict[str, Any], field: str) -> None:
    response = staff.post("/api/webhooks/", body)
    assert response.status_code == 400
    assert field in response.json()


def test_forms_are_refused_json_only(staff: APIClient) -> None:
    response = staff.post(
        "/api/webhooks/", {"url": PUBLIC_URL, "events": "order.created"}, format="multipart"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_events_record_one_delivery_per_subscribed_endpoint(
    staff: APIClient, shopper: APIClient, usd: Any, local_ok: None
) -> None:
    # given: one endpoint for orders, one for rates and sales, one switched off
    orders = register(staff, events=["order.created"]).json()
    others = register(staff, events=["rate.changed", "sale.started", "sale.ended"]).json()
    off = register(staff, events=list(EventType)).json()
    staff.patch(f"/api/webhooks/{off['id']}/", {"is_active": False})
    goods = GoodsFactory(price="10.00")
    CurrencyFactory(code="EUR", decimals=2)
    # when: an order, a rate, a sale that starts and then ends
    order = shopper.post("/api/orders/", {"items": [{"goods": goods.id, "quantity": 2}]}).json()
    rate_create(currency_code="EUR", rate=Decimal("0.9"), source="manual")
    sale = SaleFactory(goods=[goods])
    assert sale_states_sync() == ([sale.id], [])
    Sale.objects.filter(id=sale.id).update(is_active=False)
    assert sale_states_sync() == ([], [sale.id])
    # then: each endpoint has the deliveries it asked for, the switched-off one none
    kinds = lambda endpoint: list(  # noqa: E731
        WebhookDelivery.objects.filter(endpoint_id=endpoint["id"])
        .order_by("id")
        .values_list("event_type", flat=True)
    )
    assert kinds(orders) == ["order.created"]
    assert kinds(others) == ["rate.changed", "sale.started", "sale.ended"]
    assert kinds(off) == []
    event = WebhookEvent.objects.get(type="order.created")
    body = json.loads(event.body)
    assert set(body) == {"id", "type", "created_at", "data"}
    assert body["id"] == str(event.id) and body["data"]["id"] == order["id"]
    assert body["data"] == order  # the order as the API shows it
    # and the log is readable through the API
    log = staff.get(f"/api/webhooks/{orders['id']}/deliveries/").json()
    assert log["count"] == 1
    assert log["results"][0]["status"] == "pending" and log["results"][0]["event_id"] == str(event.id)


def test_endpoints_for_a_kind_are_the_active_ones_naming_it_exactly(db: None) -> None:
    def endpoint(events: list[str], *, is_active: bool = True) -> int:
        return WebhookEndpoint.objects.create(
            url=PUBLIC_URL, events=events, is_active=is_active, secret="s"
        ).id

    both = endpoint(["rate.changed", "order.created"])
    endpoint(["order.created"], is_active=False)
    endpoint(["order"])
    endpoint(["order.created.v2", "prices.batch"])
    only = endpoint(["order.created"])
    assert endpoint_ids_for(kind="order.created") == [both, only]
    assert endpoint_ids_for(kind="sale.ended") == []


def test_no_endpoint_records_nothing(shopper: APIClient, usd: Any) -> None:
    goods = GoodsFactory(price="10.00")
    assert shopper.post("/api/orders/", {"items": [{"goods": goods.id, "quantity": 1}]}).status_code == 201
    assert not WebhookEvent.objects.exists()


def test_old_events_are_pruned_unless_still_waiting(
    staff: APIClient, shopper: APIClient, usd: Any, local_ok: None
) -> None:
    # given: three orders' events, two of them long past, one of those still waiting to be sent
    endpoint = register(staff, events=["order.created"]).json()
    goods = GoodsFactory(price="10.00")
    for _ in range(3):
        shopper.post("/api/orders/", {"items": [{"goods": goods.id, "quantity": 1}]})
    old, waiting, fresh = WebhookEvent.objects.order_by("created_at")
    WebhookEvent.objects.filter(id__in=[old.id, waiting.id]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    WebhookDelivery.objects.exclude(event=waiting).update(status="succeeded")
    # when: the log is pruned to 30 days
    assert webhook_log_prune(days=30, force=True) == 1
    # then: only the old, delivered one went, with its deliveries
    assert set(WebhookEvent.objects.values_list("id", flat=True)) == {waiting.id, fresh.id}
    assert WebhookDelivery.objects.filter(endpoint_id=endpoint["id"]).count() == 2
