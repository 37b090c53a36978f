import math

from celery import shared_task

from shop.webhooks.services.delivery import FLUSH_BUDGET_SECONDS, attempt_seconds, endpoint_flush
from shop.webhooks.services.dispatch import ENDPOINT_FLUSH_TASK
from shop.webhooks.sweeper import sweep

# A flush stops starting attempts after its budget; the last one may run to its deadline.
FLUSH_SOFT_LIMIT_SECONDS = FLUSH_BUDGET_SECONDS + math.ceil(attempt_seconds()) + 20


@shared_task(
    name=ENDPOINT_FLUSH_TASK,
    ignore_result=True,
    time_limit=FLUSH_SOFT_LIMIT_SECONDS + 10,
    soft_time_limit=FLUSH_SOFT_LIMIT_SECONDS,
)
def webhook_endpoint_flush_task(endpoint_id: int) -> int:
    """Send one endpoint's due deliveries (routed to the ``webhooks`` queue, never the tick's)."""
    return endpoint_flush(endpoint_id=endpoint_id)


@shared_task(name="webhooks.sweep", ignore_result=True, time_limit=60, soft_time_limit=50)
def webhooks_sweep_task() -> None:
    """Beat's entry point: sale.started / sale.ended, and deliveries whose kick was lost."""
    sweep()
