from celery import shared_task

from shop.accounts.emails import ACCOUNT_EMAIL_SEND_TASK
from shop.accounts.services import account_email_send, tokens_flush_expired
from shop.core.enqueue import MAIL_TASK_OPTIONS


@shared_task(name=ACCOUNT_EMAIL_SEND_TASK, **MAIL_TASK_OPTIONS)
def account_email_send_task(kind: str, user_id: int) -> bool:
    """An account e-mail (activation, reset, ...), rendered here from the user's id."""
    return account_email_send(kind=kind, user_id=user_id)


@shared_task(name="accounts.flush_expired_tokens", ignore_result=True, time_limit=600, soft_time_limit=540)
def flush_expired_tokens_task() -> None:
    """Beat's daily entry point for ``manage.py flushexpiredtokens``."""
    tokens_flush_expired()
