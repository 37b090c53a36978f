"""Beat schedules, kept in code and written to django-celery-beat's tables at start-up.

Staff may add schedules in the admin; the ones below are re-asserted (interval,
task, on or off) on every start, so a deploy with new settings takes effect.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    every_seconds: int
    expires_seconds: int | None = None
    enabled: bool = True


def schedules() -> list[Schedule]:
    tick = settings.PRICE_TICK_SECONDS
    return [
        # Beat's intervals are not aligned to the clock and drift by the time each
        # send takes, so a 5-second schedule would now and then fire twice in one
        # slot and skip the next. Beat asks every second instead; the tick service
        # runs each PRICE_TICK_SECONDS slot exactly once and ignores the other asks.
        # A tick that could not start within its slot expires: never replayed.
        Schedule("price tick", "catalog.price_tick", 1, expires_seconds=tick),
        Schedule("price history", "catalog.price_history_maintain", 3600),
        # Unpaid orders past ORDER_PAY_SECONDS are cancelled; cart holds past their time lapse.
        Schedule(
            "order expiry", "orders.expire", 5, expires_seconds=5, enabled=settings.ORDER_PAY_SECONDS > 0
        ),
        Schedule("cart holds", "orders.holds_expire", 5, expires_seconds=5),
        # Standing orders past their expires_at close (matching never fills them meanwhile).
        Schedule("standing orders expiry", "pricewatch.expire", 5, expires_seconds=5),
        # Refresh tokens past their expiry (manage.py flushexpiredtokens): the token tables stay small.
        Schedule("expired tokens", "accounts.flush_expired_tokens", 86400),
        # Sales that started or ended, and webhook deliveries whose kick was lost.
        Schedule("webhooks", "webhooks.sweep", settings.WEBHOOK_SWEEP_SECONDS),
        # With the manual provider staff post rates themselves: nothing to fetch.
        Schedule(
            "exchange rates",
            "currency.rates_refresh",
            settings.RATES_REFRESH_SECONDS,
            enabled=settings.RATES_PROVIDER != "manual",
        ),
    ]


@transaction.atomic
def schedules_ensure() -> None:
    for schedule in schedules():
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.update_or_create(
            name=schedule.name,
            defaults={
                "task": schedule.task,
                "interval": interval,
                "expire_seconds": schedule.expires_seconds,
                "enabled": schedule.enabled,
            },
        )
