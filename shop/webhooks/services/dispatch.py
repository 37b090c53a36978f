"""Who sends: the Celery worker's ``webhooks`` queue in stack mode, a thread in embedded mode.

Either way the database is what counts (pending deliveries and their
``next_attempt_at``): a kick only says "look now" or "look in N seconds", and
the periodic sweep finds whatever a lost kick left behind, so a stopped
worker delays deliveries but loses none.
"""

from django.conf import settings

from shop.core.enqueue import enqueue_after_commit

# shop.webhooks.tasks.webhook_endpoint_flush_task, named as the broker names it: the flush it runs
# kicks again (a retry, a budget spent), so the services import nothing of the task module.
ENDPOINT_FLUSH_TASK = "webhooks.endpoint_flush"


def endpoint_kick(*, endpoint_id: int, delay: float = 0.0) -> None:
    """Have the endpoint's due deliveries sent after commit, now or ``delay`` seconds later.

    Never raises: a kick that cannot be scheduled is logged, and the sweep sends in its place.
    ``WEBHOOK_DELIVERY=off``: nothing is scheduled (the deliveries wait).
    """
    if delay > settings.WEBHOOK_KICK_MAX_DELAY_SECONDS:
        return  # far off: the sweep will find it when it is due
    if settings.WEBHOOK_DELIVERY not in ("celery", "thread"):
        return
    enqueue_after_commit(ENDPOINT_FLUSH_TASK, endpoint_id, via=settings.WEBHOOK_DELIVERY, countdown=delay)
