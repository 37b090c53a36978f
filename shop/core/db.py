import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Model
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


@contextmanager
def session_try_lock(key: int) -> Iterator[bool]:
    """Hold lock ``key``, if it was free, across the transactions run inside; yields whether it got it.

    PostgreSQL: a session-level advisory lock (the same key space as
    :func:`atomic_try_lock`), released on leaving, or by the server when the
    connection dies. Must be entered outside a transaction for the work inside
    to commit piecewise. SQLite (embedded mode, one process): a process-wide lock.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            got = bool(cursor.fetchone()[0])
        try:
            yield got
        finally:
            if got:
                _advisory_unlock(key)
        return
    lock = _local_locks.setdefault(key, threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


def _advisory_unlock(key: int) -> None:
    try:
        if connection.in_atomic_block and connection.needs_rollback:
            raise DatabaseError("the transaction is aborted")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except DatabaseError:
        # No statement can run on this connection now: closing it frees the lock.
        connection.close()


def lock_for_share(model: type[Model], pks: Iterable[Any]) -> None:
    """Lock these rows FOR SHARE, in key order, until the transaction ends.

    Writers that lock the same rows FOR UPDATE wait for us, and we wait for
    them, so a statement after this one sees their work committed or not
    started. SQLite (embedded mode) takes the database write lock at BEGIN
    (transaction_mode IMMEDIATE), which serialises everything anyway.
    """
    if connection.vendor != "postgresql":
        return
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT 1 FROM "{table}" WHERE "{pk}" = ANY(%s) ORDER BY "{pk}" FOR SHARE',  # noqa: S608 - names from the model
            [sorted(pks)],
        )
