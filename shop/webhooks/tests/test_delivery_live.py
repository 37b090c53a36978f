"""Deliveries through real processes: a Celery worker of the ``webhooks`` queue, a real
receiver on a loopback port, the ASGI server and its feed. No fixed waits: every wait
has a deadline, and retries are shrunk through WEBHOOK_RETRY_BASE_SECONDS."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websockets
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from shop.catalog.models import Goods, Tick
from shop.core.schedules import schedules_ensure
from shop.tests.factories import CurrencyFactory, GoodsFactory, SaleFactory, UserFactory
from shop.tests.live import (
    CELERY,
    asgi_server,
    call,
    celery,
    free_port,
    next_of,
    process,
    run_async,
    service_env,
    wait_until,
)
from shop.webhooks.models import WebhookDelivery
from shop.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_verify
from shop.webhooks.tests.receiver import Receiver, receiver

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# What the processes started here need: loopback receivers allowed, retries within a second.
LOCAL = {
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE": "true",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
    "WEBHOOK_DELIVERY": "celery",
}


@pytest.fixture
def local(settings: Settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.3
    settings.WEBHOOK_DELIVERY = "celery"


@pytest.fixture
def embedded(local: None, settings: Settings) -> None:
    """Embedded mode's sender: a thread of this process, no broker, no worker."""
    settings.WEBHOOK_DELIVERY = "thread"


@contextmanager
def webhooks_worker(log: Path) -> Iterator[None]:
    """A worker of the webhooks queue only, as Procfile's "webhooks" runs it."""
    args = [CELERY, "-A", "config", "worker", "-Q", "webhooks", "--loglevel=INFO", "--concurrency=2"]
    args += ["--without-gossip", "--without-mingle", "-n", f"webhooks-{free_port()}@%h"]
    with process(args, service_env(**LOCAL), log):
        yield


@pytest.fixture
def goods(usd: Any) -> Goods:
    """Goods at 10.00 USD, for the orders these tests place."""
    return GoodsFactory(price="10.00")


def register(staff: APIClient, url: str, events: list[str]) -> dict[str, Any]:
    response = staff.post("/api/webhooks/", {"url": url, "events": events})
    assert response.status_code == 201, response.json()
    return dict(response.json())


def order(shopper: APIClient, goods_id: int) -> dict[str, Any]:
    response = shopper.post("/api/orders/", {"items": [{"goods": goods_id, "quantity": 1}]})
    assert response.status_code == 201, response.json()
    return dict(response.json())


def assert_signed(hook: Receiver, secret: str) -> None:
    for request in hook.received:
        assert signature_verify(secret=secret, body=request.body, header=request.headers[SIGNATURE_HEADER])
        assert request.headers[EVENT_ID_HEADER] == request.json["id"]
        assert request.headers["Content-Type"] == "application/json"


def test_order_created_arrives_signed(
    staff: APIClient, shopper: APIClient, goods: Goods, local: None, tmp_path: Path
) -> None:
    # given: an endpoint for orders and rates, a worker and a receiver
    CurrencyFactory(code="EUR", decimals=2)
    with receiver() as hook, webhooks_worker(tmp_path / "worker.log"):
        endpoint = register(staff, hook.url, ["order.created", "rate.changed"])
        # when: a shopper orders, then staff post a rate
        placed = order(shopper, goods.id)
        assert staff.post("/api/currency/EUR/rates/", {"rate": "0.91"}).status_code == 201
        # then: one order.created and one rate.changed, each signed with the endpoint's secret
        hook.wait_for(1, "rate.changed")
        hook.wait_for(1, "order.created")
    assert_signed(hook, endpoint["secret"])
    [created] = hook.events("order.created")
    assert set(created) == {"id", "type", "created_at", "data"}
    assert created["data"] == placed
    [rate] = hook.events("rate.changed")
    assert rate["data"]["currency"] == "EUR" and rate["data"]["rate"] == "0.91"
    assert rate["data"]["base"] == "USD"
    assert hook.received[0].path == "/hooks"
    # a wrong secret or a changed body does not verify
    first = hook.received[0]
    assert not signature_verify(secret="whsec_other", body=first.body, header=first.headers[SIGNATURE_HEADER])
    assert not signature_verify(
        secret=endpoint["secret"], body=first.body + b" ", header=first.headers[SIGNATURE_HEADER]
    )


def test_failed_attempts_are_retried_and_logged(
    staff: APIClient, shopper: APIClient, goods: Goods, local: None, tmp_path: Path
) -> None:
    # given: a receiver that answers 500 twice, then 200
    with receiver() as hook, webhooks_worker(tmp_path / "worker.log"):
        hook.script = [500, 500]
        endpoint = register(staff, hook.url, ["order.created"])
        # when: an order is placed
        order(shopper, goods.id)
        # then: three attempts, the last one delivered
        wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), timeout=60)
    assert len(hook.received) == 3
    assert len({r.body for r in hook.received}) == 1  # the same event each time
    assert_signed(hook, endpoint["secret"])
    log = staff.get(f"/api/webhooks/{endpoint['id']}/deliveries/").json()
    [delivery] = log["results"]
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert [a["status_code"] for a in delivery["attempt_log"]] == [500, 500, 200]
    assert [a["error"] for a in delivery["attempt_log"]] == ["HTTP 500", "HTTP 500", ""]
    assert delivery["next_attempt_at"] is None and delivery["delivered_at"] is not None
    # the waits grew: about 0.3 s, then about 0.9 s (±20 %)
    at = [a["at"] for a in delivery["attempt_log"]]
    from datetime import datetime

    t = [datetime.fromisoformat(x.replace("Z", "+00:00")) for x in at]
    first_wait, second_wait = (t[1] - t[0]).total_seconds(), (t[2] - t[1]).total_seconds()
    assert first_wait >= 0.2 and second_wait >= 0.7 and second_wait > first_wait


def test_prices_batch_carries_the_feed_seq_in_order(
    staff: APIClient, usd: Any, local: None, tmp_path: Path
) -> None:
    # given: goods, a server with its feed, a worker, an endpoint for prices.batch whose
    # receiver fails the first batch once
    goods = [GoodsFactory(price="10.00") for _ in range(3)]
    token = str(RefreshToken.for_user(UserFactory(is_staff=True)).access_token)
    env = service_env(PRICE_TICKER="off", **LOCAL)
    with (
        receiver() as hook,
        asgi_server(env, tmp_path / "web.log") as base,
        webhooks_worker(tmp_path / "worker.log"),
    ):
        hook.script = [500]
        endpoint = register(staff, hook.url, ["prices.batch"])

        async def scenario() -> list[dict[str, Any]]:
            async with websockets.connect(base.replace("http", "ws", 1) + "/ws/price_updates/") as ws:
                await next_of(ws, "snapshot")
                # when: staff set three manual prices, one batch each
                for i, g in enumerate(goods):
                    body = {"goods": g.id, "amount": f"{20 + i}.50"}
                    status, _ = await asyncio.to_thread(call, f"{base}/api/prices/", "POST", token, body)
                    assert status == 201
                return [await next_of(ws, "prices") for _ in goods]

        feed = run_async(scenario())
        batches = hook.wait_for(3 + 1, "prices.batch")  # the failed first one, sent again
    assert_signed(hook, endpoint["secret"])
    # then: the webhook batches are the feed's: same seq, at and prices, in the base currency
    delivered = [b["data"] for b in batches]
    assert [d["seq"] for d in delivered] == [feed[0]["seq"], *[m["seq"] for m in feed]]
    for data, message in zip(delivered[1:], feed, strict=True):
        assert data["at"] == message["at"] and data["prices"] == message["prices"]
        assert data["currency"] == message["currency"] == "USD"
    assert [d["prices"][0]["price"] for d in delivered[1:]] == ["20.50", "21.50", "22.50"]


def test_a_stopped_worker_delays_but_loses_nothing(
    staff: APIClient, shopper: APIClient, goods: Goods, local: None, tmp_path: Path
) -> None:
    with receiver() as hook:
        register(staff, hook.url, ["order.created"])
        with webhooks_worker(tmp_path / "worker1.log"):
            order(shopper, goods.id)
            hook.wait_for(1)
            # The receiver has the event before the worker records the attempt; stopping the
            # worker in between is allowed to leave it pending (at least once: it would be sent
            # again), so wait for the record this test counts on.
            wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 1)
        # when: orders are placed while no worker runs
        later = [order(shopper, goods.id)["id"] for _ in range(3)]
        # then: they wait
        assert WebhookDelivery.objects.filter(status="pending").count() == 3
        assert len(hook.received) == 1
        # and all arrive once a worker is back
        with webhooks_worker(tmp_path / "worker2.log"):
            hook.wait_for(4)
            wait_until(lambda: not WebhookDelivery.objects.filter(status="pending").exists())
    received = [e["data"]["id"] for e in hook.events("order.created")]
    assert sorted(set(received[1:])) == sorted(later)
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 4


def test_embedded_mode_delivers_from_a_thread(
    staff: APIClient, shopper: APIClient, goods: Goods, embedded: None
) -> None:
    # given: embedded mode's sender (no broker, no worker)
    with receiver() as hook:
        hook.script = [503]
        endpoint = register(staff, hook.url, ["order.created"])
        # when: an order is placed
        placed = order(shopper, goods.id)
        # then: it arrives, after one retry
        [event] = hook.wait_for(1, timeout=30)[-1:]
        wait_until(lambda: len(hook.received) == 2, timeout=30)
    assert event["data"]["id"] == placed["id"]
    assert_signed(hook, endpoint["secret"])
    wait_until(lambda: WebhookDelivery.objects.filter(status="succeeded", attempts=2).exists(), timeout=10)


def test_a_private_address_is_refused_at_delivery_too(
    staff: APIClient, shopper: APIClient, goods: Goods, embedded: None, settings: Settings
) -> None:
    # given: embedded mode, an endpoint registered while loopback was allowed, then no longer allowed
    with receiver() as hook:
        register(staff, hook.url, ["order.created"])
        settings.WEBHOOK_ALLOW_PRIVATE = False
        order(shopper, goods.id)
        # then: the attempt is refused before any connection, logged and rescheduled
        wait_until(lambda: WebhookDelivery.objects.filter(attempts__gte=1).exists(), timeout=30)
    delivery = WebhookDelivery.objects.get()
    assert "not public" in delivery.last_error and delivery.last_status_code is None
    assert delivery.status == "pending" and hook.received == []


def test_a_stuck_endpoint_never_delays_ticks(staff: APIClient, usd: Any, local: None, tmp_path: Path) -> None:
    # given: a running sale ticked by the usual worker and beat, and an endpoint for every
    # batch whose server accepts connections and never answers
    goods = [GoodsFactory(price="1.00") for _ in range(3)]
    SaleFactory(goods=goods, min_price=Decimal("10.00"), max_price=Decimal("11.00"))
    schedules_ensure()
    env = service_env(**LOCAL)
    with receiver() as hook:
        hook.hold = True
        for _ in range(3):  # more stuck senders than the ticking worker has processes
            register(staff, hook.url, ["prices.batch"])
        with (
            webhooks_worker(tmp_path / "webhooks.log"),
            celery("worker", env, tmp_path / "worker.log"),
            celery("beat", env, tmp_path / "beat.log"),
        ):
            # when: a delivery is stuck at the endpoint
            hook.wait_for(1, timeout=60)
            stuck_at = Tick.objects.count()
            # then: ticks go on, slot after slot, while it is stuck
            wait_until(lambda: Tick.objects.count() >= stuck_at + 3, timeout=60)
            assert not WebhookDelivery.objects.filter(status="succeeded").exists()
    slots = sorted(Tick.objects.values_list("slot", flat=True))
    assert slots == list(range(slots[0], slots[0] + len(slots))), f"skipped slots: {slots}"
    # and the batches waited in seq order behind the stuck one
    seqs = [e["data"]["seq"] for e in hook.events("prices.batch")]
    assert seqs == sorted(seqs)
