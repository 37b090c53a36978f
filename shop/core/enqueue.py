"""Work a service schedules for after its transaction commits: a Celery task, or a thread.

In stack mode there is a broker (Redis) and the work is a task message for the worker; in
embedded mode (one process, no broker) the same task runs on a few threads of this process.
Which of the two an app uses is its own setting, passed as ``via`` (``EMAIL_DELIVERY``,
``WEBHOOK_DELIVERY``: both ``celery`` exactly when REDIS_URL is set, unless set otherwise).

A task is named as the broker names it: by its registered name (or the task itself). A
service whose task calls back into it (the webhook flush kicks itself again) so imports
nothing of its app's task module; the app's ``AppConfig.ready`` imports that module, which
registers the tasks in every process.

Embedded mode's threads are bounded: per task THREADS of them run, and at most QUEUE jobs
wait (delayed ones included). Past that a job is dropped and logged, not queued without end:
what it would have done must be found again by other means (webhook deliveries wait in the
database for the periodic sweep). Jobs due when the process exits are finished first, as
``concurrent.futures`` does; delayed ones are not waited for.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from smtplib import SMTPException
from typing import Any

from celery import Task, current_app
from django.db import transaction

from shop.core.db_store import db_thread_connections_close

# The Celery options of a task that sends an e-mail (account and order e-mails): a mail server
# down or refusing is retried later, with backoff, for about five minutes.
MAIL_TASK_OPTIONS: dict[str, Any] = {
    "ignore_result": True,
    "time_limit": 60,
    "soft_time_limit": 50,
    "autoretry_for": (SMTPException, OSError),
    "retry_backoff": 5,
    "max_retries": 6,
}

logger = logging.getLogger(__name__)

THREADS = 4  # per task
QUEUE = 1000  # jobs waiting per task, at most

Job = Callable[[], None]


def enqueue_after_commit(
    task: Task[Any, Any] | str, *args: Any, via: str, countdown: float = 0.0, **kwargs: Any
) -> None:
    """Run ``task(*args, **kwargs)`` once the current transaction commits (at once outside one).

    ``via="celery"`` sends it to the worker; ``via="thread"`` runs it on this process's
    threads for the task. ``countdown``: not before this many seconds. ``via`` and
    ``countdown`` are this function's; every other argument is the task's. Never raises
    for the task: a failure to send it, or of the task on a thread, is logged.
    """
    if via not in ("celery", "thread"):
        raise ValueError(f"via must be celery or thread, not {via!r}")
    send = partial(_send, task, args, kwargs, via=via, countdown=countdown)
    transaction.on_commit(send, robust=True)


def _send(
    task: Task[Any, Any] | str, args: tuple[Any, ...], kwargs: dict[str, Any], *, via: str, countdown: float
) -> None:
    name = task if isinstance(task, str) else task.name
    try:
        found: Task[Any, Any] = current_app.tasks[name] if isinstance(task, str) else task
        if via == "celery":
            found.apply_async(args=args, kwargs=kwargs, countdown=countdown)
        elif not _pool(name).submit(partial(_run, found, args, kwargs), delay=countdown):
            logger.error("%s%r dropped: %d jobs wait already", name, args, QUEUE)
    except Exception:
        logger.exception("%s%r could not be enqueued", name, args)


def _run(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """On a pool thread: the task's body, called as a function (one attempt, no Celery retries)."""
    try:
        task(*args, **kwargs)
    except Exception:
        logger.exception("%s%r failed", task.name, args)
    finally:
        db_thread_connections_close()


class _Pool:
    """THREADS threads for one task; at most QUEUE jobs wait for them, delayed ones included.

    Due jobs go to a ``ThreadPoolExecutor``; delayed ones wait in a heap, which one clock
    thread hands over when they fall due.
    """

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix=name)
        self._name = name
        self._changed = threading.Condition()
        self._waiting = 0  # submitted, not started yet
        self._delayed: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._clock: threading.Thread | None = None

    def submit(self, job: Job, *, delay: float) -> bool:
        """Queue ``job`` to start in ``delay`` seconds; False when QUEUE jobs wait already."""
        with self._changed:
            if self._waiting >= QUEUE:
                return False
            self._waiting += 1
            if delay > 0:
                heapq.heappush(self._delayed, (time.monotonic() + delay, next(self._order), job))
                if self._clock is None:
                    self._clock = threading.Thread(target=self._tick, name=f"{self._name}-clock", daemon=True)
                    self._clock.start()
                self._changed.notify()
                return True
        self._executor.submit(self._start, job)
        return True

    def _start(self, job: Job) -> None:
        with self._changed:
            self._waiting -= 1
        job()

    def _tick(self) -> None:
        while True:
            with self._changed:
                while not self._delayed or self._delayed[0][0] > time.monotonic():
                    self._changed.wait(self._delayed[0][0] - time.monotonic() if self._delayed else None)
                _, _, job = heapq.heappop(self._delayed)
            try:
                self._executor.submit(self._start, job)
            except RuntimeError:  # the interpreter is shutting down
                return


_pools: dict[str, _Pool] = {}
_pools_lock = threading.Lock()


def _pool(name: str) -> _Pool:
    with _pools_lock:
        if name not in _pools:
            _pools[name] = _Pool(name)
        return _pools[name]
