"""/metrics in one process: access, names, labels; the orders and throttle counters."""

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.test.utils import override_settings
from rest_framework.test import APIClient

from shop.catalog.models import Goods
from shop.core.middleware import route_label
from shop.core.views import METRICS_UNAUTHORIZED
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory
from shop.tests.metrics import TOKEN, sample, samples

pytestmark = pytest.mark.django_db

METRIC_NAMES = (
    "tickshop_http_requests_total",
    "tickshop_http_request_duration_seconds",
    "tickshop_tick_duration_seconds",
    "tickshop_tick_goods",
    "tickshop_tick_slots_skipped_total",
    "tickshop_tick_last_success_timestamp_seconds",
    "tickshop_feed_connections",
    "tickshop_feed_batch_lag_seconds",
    "tickshop_feed_dropped_total",
    "tickshop_orders_total",
    "tickshop_throttled_total",
)


def scrape(client: Client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


@pytest.fixture(autouse=True)
def _token() -> Any:
    with override_settings(METRICS_TOKEN=TOKEN):
        yield


@pytest.fixture
def goods(usd: Any) -> Goods:
    CurrencyFactory(code="EUR", rate="0.92")
    return GoodsFactory(name="Hundred", price="100.00")


@override_settings(METRICS_TOKEN="")
def test_metrics_are_404_without_a_token_configured(client: Client) -> None:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "header", [None, "", f"Bearer {TOKEN}x", f"bearer {TOKEN}", TOKEN, f"Basic {TOKEN}", "Bearer"]
)
def test_metrics_need_the_bearer_token(client: Client, header: str | None) -> None:
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response.json() == {"detail": METRICS_UNAUTHORIZED, "code": "not_authenticated"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_answer_any_host_like_the_health_probe(client: Client) -> None:
    # Prometheus scrapes replicas by address (DNS service discovery): no ALLOWED_HOSTS entry for them
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200


@override_settings(THROTTLE_LOGIN_PER_IP="1/m")
def test_every_metric_is_exposed(anon: APIClient, client: Client, goods: Goods) -> None:
    # given: a request and a refused login (labelled series appear once they have a label value)
    client.get(f"/api/goods/{goods.id}/")
    for _ in range(2):
        anon.post("/auth/jwt/create/", {"email": "a@example.com", "password": "x"}, format="json")
    # then: every documented name is exposed with its type
    text = scrape(client)
    for name in METRIC_NAMES:
        family = name.removesuffix("_total")
        assert f"# TYPE {family} " in text or f"# TYPE {name} " in text, name
        assert any(line.startswith(name) for line in text.splitlines()), name
    # outcomes and drop reasons are there from the start
    for outcome in ("created", "replayed", "order_sum_too_high", "invalid"):
        assert f'tickshop_orders_total{{outcome="{outcome}"}}' in text
    assert 'tickshop_feed_dropped_total{reason="slow_reader"}' in text


def test_route_label_is_the_url_pattern_not_the_path(client: Client, goods: Goods) -> None:
    # when
    before = sample(
        scrape(client), "tickshop_http_requests_total", method="GET", route="/api/goods/{pk}/", status="200"
    )
    assert client.get(f"/api/goods/{goods.id}/").status_code == 200
    assert client.get("/api/goods/123456789/").status_code == 404
    text = scrape(client)
    # then: counted under the pattern, with its status; no label carries an id
    after = sample(text, "tickshop_http_requests_total", method="GET", route="/api/goods/{pk}/", status="200")
    assert after == before + 1
    assert sample(text, "tickshop_http_requests_total", route="/api/goods/{pk}/", status="404") >= 1
    assert sample(text, "tickshop_http_request_duration_seconds_count", route="/api/goods/{pk}/") >= 2
    routes = {labels["route"] for labels in samples(text, "tickshop_http_requests_total")}
    assert not any("123456789" in route or str(goods.id) + "/" in route for route in routes), routes


@pytest.mark.parametrize(
    ("pattern", "label"),
    [
        ("api/goods/(?P<pk>[^/.]+)/$", "/api/goods/{pk}/"),
        ("api/sales/(?P<pk>[^/.]+)/generate-prices/$", "/api/sales/{pk}/generate-prices/"),
        ("api/cart/items/<int:goods_id>/", "/api/cart/items/{goods_id}/"),
        ("api/currency/(?P<code>[A-Z]{3})/rates/$", "/api/currency/{code}/rates/"),
        ("^activate/(?P<uid>[\\w-]+)/(?P<token>[\\w-]+)/?$", "/activate/{uid}/{token}/"),
        ("api/goods\\.(?P<format>[a-z0-9]+)/?$", "/api/goods.{format}/"),
        ("admin/catalog/goods/<path:object_id>/change/", "/admin/catalog/goods/{object_id}/change/"),
        ("", "/"),
    ],
)
def test_route_labels(pattern: str, label: str) -> None:
    assert route_label(pattern) == label


def test_unmatched_paths_share_one_label(client: Client) -> None:
    client.get("/no/such/page/42")
    routes = {labels["route"] for labels in samples(scrape(client), "tickshop_http_requests_total")}
    assert "unmatched" in routes
    assert not any("42" in route for route in routes)


def test_orders_are_counted_by_outcome(shopper: APIClient, client: Client, goods: Goods) -> None:
    def count(outcome: str) -> float:
        return sample(scrape(client), "tickshop_orders_total", outcome=outcome)

    before = {o: count(o) for o in ("created", "replayed", "order_sum_too_high", "invalid")}
    items = [{"goods": goods.id, "quantity": 1}]
    # when: one order, its replay, one over max_order_sum, two invalid ones
    headers = {"HTTP_IDEMPOTENCY_KEY": "k1"}
    assert shopper.post("/api/orders/", {"items": items}, format="json", **headers).status_code == 201
    assert shopper.post("/api/orders/", {"items": items}, format="json", **headers).status_code == 201
    body = {"currency": "EUR", "items": items, "max_order_sum": "1.00"}
    assert shopper.post("/api/orders/", body, format="json").status_code == 409
    assert shopper.post("/api/orders/", {"items": []}, format="json").status_code == 400
    assert shopper.post("/api/cart/checkout/", {}, format="json").status_code == 400  # empty cart
    # then
    assert count("created") == before["created"] + 1
    assert count("replayed") == before["replayed"] + 1
    assert count("order_sum_too_high") == before["order_sum_too_high"] + 1
    assert count("invalid") == before["invalid"] + 2


def test_a_checkout_counts_as_created(shopper: APIClient, client: Client, goods: Goods) -> None:
    before = sample(scrape(client), "tickshop_orders_total", outcome="created")
    shopper.post("/api/cart/items/", {"goods": goods.id, "quantity": 2}, format="json")
    assert shopper.post("/api/cart/checkout/", {}, format="json").status_code == 201
    assert sample(scrape(client), "tickshop_orders_total", outcome="created") == before + 1


@override_settings(THROTTLE_LOGIN_PER_IP="2/m")
def test_429s_are_counted_by_scope(anon: APIClient, client: Client) -> None:
    cache.clear()
    before = sample(scrape(client), "tickshop_throttled_total", scope="login:ip")
    answers = [
        anon.post("/auth/jwt/create/", {"email": "a@example.com", "password": "x"}, format="json").status_code
        for _ in range(4)
    ]
    assert answers == [401, 401, 429, 429]
    assert sample(scrape(client), "tickshop_throttled_total", scope="login:ip") == before + 2


def test_generate_prices_429_is_counted(staff: APIClient, client: Client, goods: Goods) -> None:
    sale = SaleFactory(goods=[goods])
    before = sample(scrape(client), "tickshop_throttled_total", scope="generate_prices")
    assert staff.put(f"/api/sales/{sale.id}/generate-prices/").status_code == 200
    assert staff.put(f"/api/sales/{sale.id}/generate-prices/").status_code == 429
    assert sample(scrape(client), "tickshop_throttled_total", scope="generate_prices") == before + 1
