from celery import shared_task

from shop.catalog.services.ticks import tick_run


@shared_task(name="catalog.price_tick", ignore_result=True, time_limit=30, soft_time_limit=25)
def price_tick_task() -> str:
    """Beat's entry point for the tick; a late or duplicated delivery is a no-op."""
    return tick_run().status
