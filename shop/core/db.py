from datetime import datetime

from django.db import connection
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
