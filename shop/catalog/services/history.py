"""Price-history storage in PostgreSQL: daily partitions made ahead, retention
that rolls old raw prices into one-minute candles and drops their partitions
(SPEC §10). Embedded mode (SQLite) keeps one plain table and everything in it.
"""

import logging
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from shop.catalog.history_store import history_store, partition_name
from shop.core.db_store import statement_timeout_set

logger = logging.getLogger(__name__)

DAYS_AHEAD = 7


def price_partitions_ensure(*, since: date | None = None, days_ahead: int = DAYS_AHEAD) -> list[str]:
    """Create the daily partitions from ``since`` (default today) to ``days_ahead`` days on."""
    store = history_store()
    if not store.partitioned:
        return []
    today = timezone.now().astimezone(UTC).date()
    start = min(since or today, today)
    existing = store.partitions()
    created = []
    day = start
    while day <= today + timedelta(days=days_ahead):
        name = partition_name(day)
        if name not in existing:
            try:
                with transaction.atomic():
                    statement_timeout_set(seconds=settings.TICK_STATEMENT_TIMEOUT_SECONDS)
                    store.partition_create(
                        day,
                        start=datetime.combine(day, datetime.min.time(), UTC),
                        end=datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC),
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
    store = history_store()
    if not store.partitioned or raw_days <= 0:
        return []
    cutoff = timezone.now().astimezone(UTC).date() - timedelta(days=raw_days)
    retired = []
    for name, day in sorted(store.partitions().items(), key=lambda item: item[1]):
        if day >= cutoff:
            continue
        with transaction.atomic():
            statement_timeout_set(seconds=settings.TICK_STATEMENT_TIMEOUT_SECONDS)
            store.partition_retire(name)
        retired.append(name)
    if retired:
        logger.info("price history: %s rolled up into candles and dropped", ", ".join(retired))
    return retired
