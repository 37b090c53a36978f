from datetime import datetime
from typing import Any

from celery import Task, shared_task

from shop.core.enqueue import MAIL_TASK_OPTIONS
from shop.pricewatch.emails import ALERTS_EMAIL_SEND_TASK, USERS_A_TASK, alerts_email_schedule
from shop.pricewatch.notices import alerts_email_send
from shop.pricewatch.services.matching import MATCH_TASK, prices_match
from shop.pricewatch.services.watches import standing_orders_expire


@shared_task(name=MATCH_TASK, ignore_result=True, time_limit=120, soft_time_limit=100)
def prices_match_task(at: str, first: int, last: int) -> int:
    """Match one committed batch of prices (written at ``at``, ids ``first``..``last``) against
    the open alerts and standing orders; how many fired or filled."""
    matched = prices_match(at=datetime.fromisoformat(at), first=first, last=last)
    return len(matched.alerts) + len(matched.filled)


@shared_task(name="pricewatch.expire", ignore_result=True, time_limit=60, soft_time_limit=50)
def standing_orders_expire_task() -> int:
    """Beat's entry point: close the standing orders past their expires_at."""
    return standing_orders_expire()


@shared_task(name=ALERTS_EMAIL_SEND_TASK, bind=True, **MAIL_TASK_OPTIONS)
def alerts_email_send_task(self: Task[Any, Any], user_ids: list[int]) -> int:
    """Each of these shoppers gets one e-mail of their alerts fired and not yet mailed: the first
    USERS_A_TASK by this task, the others by the next, sent at once (by the first attempt only:
    a retry mails its own shoppers again, not the others)."""
    mine, others = user_ids[:USERS_A_TASK], user_ids[USERS_A_TASK:]
    if others and not self.request.retries:
        alerts_email_schedule(user_ids=others, countdown=0)
    return alerts_email_send(user_ids=mine)
