"""Who sends: the Celery worker's ``webhooks`` queue in stack mode, a thread in embedded mode.

Either way the database is what counts (pending deliveries and their
``next_attempt_at``): a kick only says "look now" or "look in N seconds", and
the periodic sweep finds whatever a lost kick left behind, so a stopped
worker delays deliveries but loses none.
"""

import logging
import threading

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def endpoint_kick(*, endpoint_id: int, delay: float = 0.0) -> None:
    """Have the endpoint's due deliveries sent, now or after ``delay`` seconds. Never raises."""
    if delay > settings.WEBHOOK_KICK_MAX_DELAY_SECONDS:
        return  # far off: the sweep will find it when it is due
    try:
        if settings.WEBHOOK_DELIVERY == "celery":
            from shop.webhooks.tasks import webhook_endpoint_flush_task

            webhook_endpoint_flush_task.apply_async(args=(endpoint_id,), countdown=delay)
        elif settings.WEBHOOK_DELIVERY == "thread":
            timer = threading.Timer(delay, _flush_in_thread, kwargs={"endpoint_id": endpoint_id})
            timer.daemon = True
            timer.start()
    except Exception:
        logger.exception("webhooks: could not schedule endpoint %s; the sweep will", endpoint_id)


def _flush_in_thread(*, endpoint_id: int) -> None:
    from shop.webhooks.services.delivery import endpoint_flush

    try:
        endpoint_flush(endpoint_id=endpoint_id)
    except Exception:
        logger.exception("webhooks: sending to endpoint %s failed", endpoint_id)
    finally:
        connections.close_all()  # this thread's own
