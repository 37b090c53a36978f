"""The attempt's deadline through real processes: a Celery worker of the ``webhooks`` queue with
one process, a receiver that trickles its answer, and a healthy one. No fixed waits."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from shop.catalog.models import Goods
from shop.tests.factories import GoodsFactory
from shop.tests.live import CELERY, free_port, process, service_env, wait_until
from shop.webhooks.models import WebhookAttempt
from shop.webhooks.services.delivery import ATTEMPT_DEADLINE
from shop.webhooks.tests.receiver import receiver

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEADLINE = 2.0  # WEBHOOK_ATTEMPT_SECONDS here; each socket operation keeps its default 5 s
TRICKLE = 0.5  # the slow receiver's answer: a byte every half second, forever
SLACK = 3.0  # a loaded machine: the task's queueing, the attempt's own queries
ORDERS = 4
LOCAL = {
    "WEBHOOK_ALLOW_HTTP": "true",
    "WEBHOOK_ALLOW_PRIVATE": "true",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.3",
    "WEBHOOK_DELIVERY": "celery",
    "WEBHOOK_ATTEMPT_SECONDS": str(DEADLINE),
}


@pytest.fixture
def local(settings: Settings) -> None:
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.3
    settings.WEBHOOK_DELIVERY = "celery"
    settings.WEBHOOK_ATTEMPT_SECONDS = DEADLINE


@contextmanager
def one_sender(log: Path) -> Iterator[None]:
    """A worker of the webhooks queue with a single process: an attempt that never ended would
    hold every endpoint's deliveries behind it."""
    args = [CELERY, "-A", "config", "worker", "-Q", "webhooks", "--loglevel=INFO", "--concurrency=1"]
    args += ["--without-gossip", "--without-mingle", "-n", f"webhooks-{free_port()}@%h"]
    with process(args, service_env(**LOCAL), log):
        yield


def register(staff: APIClient, url: str) -> int:
    response = staff.post("/api/webhooks/", {"url": url, "events": ["order.created"]})
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


def order(shopper: APIClient, goods: Goods) -> float:
    """Places an order; returns when its commit was answered (time.monotonic())."""
    response = shopper.post("/api/orders/", {"items": [{"goods": goods.id, "quantity": 1}]})
    assert response.status_code == 201
    return time.monotonic()


def test_a_trickling_receiver_fails_at_the_deadline_and_the_healthy_one_keeps_receiving(
    staff: APIClient, shopper: APIClient, usd: Any, local: None, tmp_path: Path
) -> None:
    goods: Goods = GoodsFactory(price="10.00")
    with receiver() as slow, receiver() as healthy, one_sender(tmp_path / "worker.log"):
        # given: the sender is up (one event went through), then a receiver that trickles its
        # answer and a healthy one; the slow one is registered first, so its sends come first
        warm_up = register(staff, healthy.url)
        order(shopper, goods)
        healthy.wait_for(1, timeout=60)
        assert staff.patch(f"/api/webhooks/{warm_up}/", {"is_active": False}).status_code == 200
        slow.trickle = TRICKLE
        register(staff, slow.url)
        register(staff, healthy.url)
        lags = []
        for n in range(2, ORDERS + 2):
            # when: a shopper orders
            placed = order(shopper, goods)
            # then: the healthy endpoint has it on time, whatever the slow one does
            healthy.wait_for(n, timeout=60)
            lags.append(healthy.received[n - 1].at - placed)
            if n == 2:
                # and the slow one's first attempt is logged as failed at its deadline
                slow.wait_for(1, timeout=60)
                wait_until(
                    lambda: WebhookAttempt.objects.filter(
                        error=ATTEMPT_DEADLINE.format(seconds=DEADLINE)
                    ).exists(),
                    timeout=DEADLINE + SLACK,
                )
        assert max(lags) < DEADLINE + SLACK, f"the healthy endpoint's delays: {lags}"
        wait_until(
            lambda: WebhookAttempt.objects.filter(delivery__endpoint__url=slow.url).count() >= 2, timeout=30
        )
    # every attempt at the slow one ended at its deadline, logged as failed and retried
    attempts = list(
        WebhookAttempt.objects.filter(delivery__endpoint__url=slow.url).select_related("delivery")
    )
    assert {a.error for a in attempts} == {ATTEMPT_DEADLINE.format(seconds=DEADLINE)}
    assert all(DEADLINE * 1000 - 100 <= a.duration_ms < (DEADLINE + SLACK) * 1000 for a in attempts)
    assert {a.delivery.status for a in attempts} == {"pending"}
    ids = [e["data"]["id"] for e in healthy.events()]
    assert len(ids) == ORDERS + 1 and ids == sorted(ids)
