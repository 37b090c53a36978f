"""Price-history storage in PostgreSQL: daily partitions made ahead, retention
that rolls old raw prices into one-minute candles and drops their partitions
(SPEC §10). Embedded mode (SQLite) keeps one plain table and everything in it.
"""

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from shop.core.db import statement_timeout_set

logger = logging.getLogger(__name__)

PARTITION_PREFIX = "catalog_price_p"
DAYS_AHEAD = 7

ROLL_UP_SQL = """
INSERT INTO catalog_pricecandle (goods_id, minute, open, high, low, close)
SELECT goods_id, date_trunc('minute', created_at),
       (array_agg(amount ORDER BY created_at, id))[1], max(amount), min(amount),
       (array_agg(amount ORDER BY created_at DESC, id DESC))[1]
FROM {partition}
GROUP BY goods_id, date_trunc('minute', created_at)
ON CONFLICT (goods_id, minute) DO NOTHING
"""


def partition_name(day: date) -> str:
    return f"{PARTITION_PREFIX}{day:%Y%m%d}"


def _existing_partitions() -> dict[str, date]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'catalog_price'::regclass AND c.relname LIKE %s",
            [PARTITION_PREFIX + "%"],
        )
        names = [row[0] for row in cursor.fetchall()]
    return {name: date.fromisoformat(name[len(PARTITION_PREFIX) :]) for name in names}


def price_partitions_ensure(*, since: date | None = None, days_ahead: int = DAYS_AHEAD) -> list[str]:
    """Create the daily partitions from ``since`` (default today) to ``days_ahead`` days on."""
    if connection.vendor != "postgresql":
        return []
    today = timezone.now().astimezone(UTC).date()
    start = min(since or today, today)
    existing = _existing_partitions()
    created = []
    day = start
    while day <= today + timedelta(days=days_ahead):
        name = partition_name(day)
        if name not in existing:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    statement_timeout_set(seconds=settings.TICK_STATEMENT_TIMEOUT_SECONDS)
                    cursor.execute(
                        f"CREATE TABLE {name} PARTITION OF catalog_price FOR VALUES FROM (%s) TO (%s)",
                        [
                            datetime.combine(day, datetime.min.time(), UTC),
                            datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC),
                        ],
                    )
                created.append(name)
            except DatabaseError:
                # Rows of that day already sit in the default partition: they stay there.
                logger.warning("price history: partition %s not created", name, exc_info=True)
        day += timedelta(days=1)
    if created:
        logger.info("price history: partitions %s created", ", ".join(created))
    return created


def price_history_retire(*, raw_days: int) -> list[str]:
    """Roll the partitions older than ``raw_days`` days into candles and drop them.

    Each partition goes in its own transaction: its candles are written and the
    partition dropped together, so a failure leaves either the raw rows or
    their candles, never neither.
    """
    if connection.vendor != "postgresql" or raw_days <= 0:
        return []
    cutoff = timezone.now().astimezone(UTC).date() - timedelta(days=raw_days)
    retired = []
    for name, day in sorted(_existing_partitions().items(), key=lambda item: item[1]):
        if day >= cutoff:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            statement_timeout_set(seconds=settings.TICK_STATEMENT_TIMEOUT_SECONDS)
            cursor.execute(ROLL_UP_SQL.format(partition=name))
            cursor.execute(f"DROP TABLE {name}")
        retired.append(name)
    if retired:
        logger.info("price history: %s rolled up into candles and dropped", ", ".join(retired))
    return retired
