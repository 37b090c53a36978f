import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from django.db import DatabaseError, connection, connections
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


def db_thread_connections_close() -> None:
    """Close this thread's database connections (a worker thread's, after its job): back to the
    pool on PostgreSQL, closed on SQLite."""
    connections.close_all()


def db_ping() -> None:
    """One trivial statement: raises whatever the driver raises when the database does not answer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


_local_locks: dict[int, threading.Lock] = {}


@contextmanager
def session_try_lock(key: int) -> Iterator[bool]:
    """Hold lock ``key``, if it was free, across the transactions run inside; yields whether it got it.

    PostgreSQL: a session-level advisory lock, released on leaving, or by the
    server when the connection dies. Must be entered outside a transaction for the work inside
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


def statement_timeout_set(*, seconds: float) -> None:
    """For the rest of this transaction, each statement may run ``seconds`` (0: no limit) instead
    of the connection's ``DB_STATEMENT_TIMEOUT_SECONDS``: the work of ticks and of the price
    history's upkeep, bigger than any web request's. PostgreSQL only (SQLite has no such limit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(seconds * 1000))])


@contextmanager
def statement_timeout_lifted() -> Iterator[None]:
    """No statement timeout on this connection while inside (migrations, one-off commands);
    the connection's own again after."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def statistics_refresh(*, tables: Sequence[str] = ()) -> None:
    """``ANALYZE`` these tables (none named: all): fresh planner statistics after bulk writes.
    The planner's costs decide, among other things, whether a statement is run in parallel; a
    table never analyzed (autovacuum may be off) looks free to scan. PostgreSQL only."""
    if connection.vendor == "postgresql":
        with statement_timeout_lifted(), connection.cursor() as cursor:
            quote = connection.ops.quote_name
            cursor.execute("ANALYZE " + ", ".join(map(quote, tables)))
