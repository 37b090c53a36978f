"""``enqueue_after_commit``: after commit, to the worker or a bounded pool of threads."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import shared_task
from django.db import transaction

from shop.core import enqueue
from shop.core.enqueue import enqueue_after_commit
from shop.tests.live import wait_until

pytestmark = pytest.mark.django_db

calls: list[tuple[Any, ...]] = []
release = threading.Event()


@shared_task(name="tests.enqueue_probe", ignore_result=True)
def probe_task(*args: Any, wait: bool = False) -> None:
    if wait:
        release.wait(timeout=10)
    calls.append(args)


@pytest.fixture(autouse=True)
def fresh_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(enqueue, "_pools", {})
    calls.clear()
    release.clear()
    yield
    release.set()


class RolledBack(Exception):
    pass


@transaction.atomic
def rolled_back(n: int) -> None:
    enqueue_after_commit(probe_task, n, via="celery")
    raise RolledBack


def test_nothing_leaves_before_commit_and_nothing_after_a_rollback(
    celery_eager: None, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_after_commit(probe_task, 1, via="celery")
            assert calls == []
        with pytest.raises(RolledBack):
            rolled_back(2)
    # then
    assert calls == [(1,)]


def test_a_task_named_runs_on_a_thread(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_after_commit("tests.enqueue_probe", 1, 2, via="thread")
    wait_until(lambda: calls == [(1, 2)], timeout=5)


def test_a_countdown_delays_the_thread(django_capture_on_commit_callbacks: Any) -> None:
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_after_commit(probe_task, "late", via="thread", countdown=0.5)
        enqueue_after_commit(probe_task, "now", via="thread")
    wait_until(lambda: len(calls) == 2, timeout=5)
    assert calls == [("now",), ("late",)]
    assert time.monotonic() - started >= 0.5


def test_the_pool_is_bounded_past_it_jobs_are_dropped_and_logged(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given: two threads, at most three jobs waiting
    monkeypatch.setattr(enqueue, "THREADS", 2)
    monkeypatch.setattr(enqueue, "QUEUE", 3)
    # when: two jobs hold the threads, three wait (one of them delayed), a sixth comes
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(2):
            enqueue_after_commit(probe_task, n, via="thread", wait=True)
    wait_until(lambda: enqueue._pools["tests.enqueue_probe"]._waiting == 0, timeout=5)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_after_commit(probe_task, 2, via="thread")
        enqueue_after_commit(probe_task, 3, via="thread")
        enqueue_after_commit(probe_task, 4, via="thread", countdown=0.1)
        enqueue_after_commit(probe_task, 5, via="thread")
    # then: the sixth is dropped and logged, the others run once the threads are free
    assert "tests.enqueue_probe(5,) dropped: 3 jobs wait already" in caplog.text
    assert calls == []
    release.set()
    wait_until(lambda: len(calls) == 5, timeout=5)
    assert sorted(calls) == [(0,), (1,), (2,), (3,), (4,)]


def test_a_failing_task_or_send_is_logged_not_raised(
    django_capture_on_commit_callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_after_commit("tests.no_such_task", 1, via="celery")
        enqueue_after_commit(probe_task, 1, via="thread", unknown=True)  # a TypeError on the thread
    wait_until(lambda: "tests.enqueue_probe(1,) failed" in caplog.text, timeout=5)
    assert "tests.no_such_task(1,) could not be enqueued" in caplog.text


def test_via_is_celery_or_thread() -> None:
    with pytest.raises(ValueError, match="via must be celery or thread, not 'off'"):
        enqueue_after_commit(probe_task, via="off")
