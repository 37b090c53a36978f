"""An attempt's wall-clock deadline and what ends it: a trickling receiver, a slow name server,
the Celery task's soft time limit. Each is logged as the attempt's outcome and retried."""

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone
from pytest_django.fixtures import Settings

from shop.currency.services import rate_create
from shop.tests.factories import CurrencyFactory
from shop.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shop.webhooks.services import delivery as delivery_service
from shop.webhooks.services.delivery import (
    ATTEMPT_DEADLINE,
    deliveries_sweep,
    delivery_attempt,
    endpoint_flush,
)
from shop.webhooks.services.endpoints import endpoint_create
from shop.webhooks.tests.receiver import Receiver, receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("send_nothing")]

DEADLINE = 1.0
SLACK = 2.0  # a loaded machine's thread scheduling, the attempt's own queries


@pytest.fixture
def hook(local_ok: None, usd: Any, settings: Settings) -> Any:
    """A receiver, an endpoint that wants rate changes, two such changes recorded; attempts end
    after DEADLINE seconds, each socket operation may take the default 5 s."""
    settings.WEBHOOK_ATTEMPT_SECONDS = DEADLINE
    assert settings.WEBHOOK_TIMEOUT_SECONDS > DEADLINE
    CurrencyFactory(code="EUR")
    with receiver() as received:
        endpoint = endpoint_create(url=received.url, events=["rate.changed"])
        rate_create(currency_code="EUR", rate=Decimal("0.92"), source="manual")
        rate_create(currency_code="EUR", rate=Decimal("0.93"), source="manual")
        yield received, endpoint


def first_delivery(endpoint: WebhookEndpoint) -> WebhookDelivery:
    return (
        WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event", "endpoint").earliest("id")
    )


def assert_failed_at_the_deadline(delivery: WebhookDelivery, elapsed: float) -> None:
    assert elapsed < DEADLINE + SLACK, f"the attempt took {elapsed:.1f} s"
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING  # retried with the backoff
    assert delivery.last_error == ATTEMPT_DEADLINE.format(seconds=DEADLINE)
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now()
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.error == delivery.last_error and attempt.status_code is None
    assert DEADLINE * 1000 - 100 <= attempt.duration_ms < (DEADLINE + SLACK) * 1000


def test_a_trickling_receiver_cannot_keep_an_attempt_alive(hook: tuple[Receiver, WebhookEndpoint]) -> None:
    # given: a receiver that answers one byte every 0.2 s, far within the socket timeout
    received, endpoint = hook
    received.trickle = 0.2
    delivery = first_delivery(endpoint)
    # when
    started = time.monotonic()
    ok = delivery_attempt(delivery=delivery)
    elapsed = time.monotonic() - started
    # then: the attempt ended at its deadline, logged as failed, and waits for its retry
    assert ok is False and len(received.received) == 1
    assert_failed_at_the_deadline(delivery, elapsed)


def test_a_receiver_that_never_answers_ends_at_the_deadline_too(
    hook: tuple[Receiver, WebhookEndpoint],
) -> None:
    received, endpoint = hook
    received.hold = True
    delivery = first_delivery(endpoint)
    started = time.monotonic()
    assert delivery_attempt(delivery=delivery) is False
    assert_failed_at_the_deadline(delivery, time.monotonic() - started)


def test_a_slow_name_server_counts_against_the_deadline(
    hook: tuple[Receiver, WebhookEndpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a look-up of the endpoint's name that takes longer than the attempt may
    received, endpoint = hook
    answered = threading.Event()
    real = delivery_service.url_target

    def slow_url_target(url: str) -> Any:
        answered.wait(DEADLINE + 3)
        return real(url)

    monkeypatch.setattr(delivery_service, "url_target", slow_url_target)
    delivery = first_delivery(endpoint)
    # when
    started = time.monotonic()
    assert delivery_attempt(delivery=delivery) is False
    elapsed = time.monotonic() - started
    answered.set()
    # then: nothing was sent, and the attempt ended at its deadline
    assert received.received == []
    assert_failed_at_the_deadline(delivery, elapsed)


def test_the_tasks_soft_time_limit_is_logged_as_the_attempts_outcome(
    hook: tuple[Receiver, WebhookEndpoint], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the Celery task's soft time limit strikes while the POST is under way
    _, endpoint = hook

    def limit_strikes(*args: Any, **kwargs: Any) -> int:
        raise SoftTimeLimitExceeded("soft time limit exceeded")

    monkeypatch.setattr(delivery_service, "_post", limit_strikes)
    delivery = first_delivery(endpoint)
    # when: it goes on up to the task (which ends)
    with pytest.raises(SoftTimeLimitExceeded):
        delivery_attempt(delivery=delivery)
    # then: the attempt is in the log as failed, and the delivery waits for its retry
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.PENDING, 1)
    assert delivery.last_error.startswith("SoftTimeLimitExceeded")
    assert delivery.next_attempt_at is not None
    assert WebhookAttempt.objects.get(delivery=delivery).error == delivery.last_error


def test_an_unanswered_attempt_ends_the_flush_and_pauses_the_endpoint(
    hook: tuple[Receiver, WebhookEndpoint],
) -> None:
    """The other due deliveries wait for the failed one's retry: a receiver that does not answer
    costs the senders one attempt per retry, and the other endpoints get their turn."""
    # given: two due deliveries to a receiver that never answers
    received, endpoint = hook
    received.hold = True
    # when
    assert endpoint_flush(endpoint_id=endpoint.id) == 1
    # then: one attempt; the endpoint waits for that delivery's retry
    failed = WebhookDelivery.objects.get(endpoint=endpoint, attempts=1)
    endpoint.refresh_from_db()
    assert endpoint.retry_at == failed.next_attempt_at
    assert WebhookDelivery.objects.filter(endpoint=endpoint, attempts=0).count() == 1
    assert endpoint_flush(endpoint_id=endpoint.id) == 0
    assert deliveries_sweep() == []
    # when: the pause is over and the receiver answers
    received.hold = False
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(retry_at=timezone.now())
    WebhookDelivery.objects.filter(pk=failed.pk).update(next_attempt_at=timezone.now())
    assert endpoint_flush(endpoint_id=endpoint.id) == 2
    # then: everything went, and the pause is gone
    endpoint.refresh_from_db()
    assert (endpoint.retry_at, endpoint.failing_since) == (None, None)


def test_an_answered_failure_neither_pauses_nor_holds_up_the_rest(
    hook: tuple[Receiver, WebhookEndpoint],
) -> None:
    """A receiver that answers is up: one event it refuses does not hold up the others."""
    received, endpoint = hook
    received.script = [503]
    assert endpoint_flush(endpoint_id=endpoint.id) == 2
    assert [r.json["data"]["rate"] for r in received.received] == ["0.92", "0.93"]
    endpoint.refresh_from_db()
    assert endpoint.retry_at is None and endpoint.failing_since is None  # the second was delivered
