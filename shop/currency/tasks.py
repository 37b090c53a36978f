from celery import shared_task

from shop.currency.services import rates_refresh


@shared_task(name="currency.rates_refresh", ignore_result=True, time_limit=60, soft_time_limit=50)
def rates_refresh_task() -> bool:
    """Beat's entry point for RATES_PROVIDER; a failure is logged and keeps the last rates."""
    return rates_refresh().ok
