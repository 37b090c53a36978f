from celery import shared_task
from django.conf import settings

from shop.catalog.services.history import price_history_retire, price_partitions_ensure
from shop.catalog.services.ticks import tick_run


@shared_task(name="catalog.price_tick", ignore_result=True, time_limit=30, soft_time_limit=25)
def price_tick_task() -> str:
    """Beat's entry point for the tick; a late or duplicated delivery is a no-op."""
    return tick_run().status


@shared_task(name="catalog.price_history_maintain", ignore_result=True, time_limit=3600, soft_time_limit=3500)
def price_history_maintain_task() -> None:
    """Partitions made ahead; raw history past PRICE_HISTORY_RAW_DAYS rolled up and dropped."""
    price_partitions_ensure()
    price_history_retire(raw_days=settings.PRICE_HISTORY_RAW_DAYS)
