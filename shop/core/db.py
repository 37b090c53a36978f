import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone


def db_now() -> datetime:
    """The database server's wall clock at this instant.

    PostgreSQL's ``now()`` is the start of the transaction; ``clock_timestamp()``
    is the moment of the call, which is what the order/price ordering in
    shop.catalog.services.prices relies on. SQLite (embedded mode) serialises
    writers, so the process clock serves there.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            now: datetime = cursor.fetchone()[0]
            return now
    return timezone.now()


_local_locks: dict[int, threading.Lock] = {}


@contextmanager
def atomic_try_lock(key: int) -> Iterator[bool]:
    """A transaction that holds lock ``key`` if it was free; yields whether it got it.

    PostgreSQL: a transaction-level advisory lock, so it is shared by every
    process and released by commit, rollback or a dead connection. SQLite
    (embedded mode, one process): a process-wide lock.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
            yield bool(cursor.fetchone()[0])
        return
    lock = _local_locks.setdefault(key, threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        with transaction.atomic():
            yield got
    finally:
        if got:
            lock.release()
