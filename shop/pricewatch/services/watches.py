"""Shoppers' alerts and standing orders: created, deleted, cancelled, expired (SPEC §15).

Matching them against prices is shop.pricewatch.services.matching's.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.core.db_store import db_now
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.currency.models import Currency
from shop.currency.selectors import currency_active_get
from shop.domain.money import quantize
from shop.orders.services.orders import goods_unavailable, quantity_check
from shop.pricewatch.errors import WatchErrorCode
from shop.pricewatch.models import Alert, StandingOrder

ALERTS_LIMIT = "You have {limit} open alerts already; delete one first."
STANDING_ORDERS_LIMIT = "You have {limit} open standing orders already; cancel one first."
PRICE_DECIMALS = "{code} has {decimals} decimals: the price may have no more."
EXPIRES_AT = "expires_at must be in the future and at most {days} days ahead."
NOT_OPEN = "Only an open standing order can be cancelled."
ALERT_NOT_FOUND = "No such alert."
STANDING_ORDER_NOT_FOUND = "No such standing order."


def _currency_and_goods(*, currency_code: str, goods_id: int, amount: Decimal) -> Currency:
    """The active currency (400 otherwise), once ``goods_id`` is known to be active (400 otherwise)
    and ``amount`` has no more decimals than the currency (400)."""
    currency = currency_active_get(code=currency_code)
    if not Goods.objects.filter(id=goods_id, is_active=True).exists():
        raise goods_unavailable([goods_id])
    if quantize(amount, currency.decimals) != amount:
        raise ValidationError(
            PRICE_DECIMALS.format(code=currency.code, decimals=currency.decimals),
            code=WatchErrorCode.PRICE_DECIMALS,
        )
    return currency


def _user_locked(user: User) -> None:
    """Lock the shopper's row: two creations at once both count the open ones after the other."""
    User.objects.select_for_update().filter(pk=user.pk).exists()


@transaction.atomic
def alert_create(*, user: User, goods_id: int, currency_code: str, direction: str, price: Decimal) -> Alert:
    """An open alert: it fires on the first price committed from now on whose value in
    ``currency_code`` is at or below (``below``) / at or above (``above``) ``price``."""
    currency = _currency_and_goods(currency_code=currency_code, goods_id=goods_id, amount=price)
    _user_locked(user)
    limit = settings.ALERTS_PER_USER
    if Alert.objects.filter(user=user, triggered_at__isnull=True).count() >= limit:
        raise Conflict(ALERTS_LIMIT.format(limit=limit), code=WatchErrorCode.ALERTS_LIMIT, limit=limit)
    return Alert.objects.create(
        user=user, goods_id=goods_id, currency=currency, direction=direction, price=price, created_at=db_now()
    )


def alert_delete(*, user: User, alert_id: int) -> None:
    """Delete one of the shopper's alerts (open or fired); another user's is 404."""
    deleted, _ = Alert.objects.filter(user=user, id=alert_id).delete()
    if not deleted:
        raise NotFound(ALERT_NOT_FOUND)


def expiry_check(expires_at: datetime, *, now: datetime) -> None:
    days = settings.STANDING_ORDER_MAX_DAYS
    if not now < expires_at <= now + timedelta(days=days):
        raise ValidationError(EXPIRES_AT.format(days=days), code=WatchErrorCode.EXPIRES_AT)


@transaction.atomic
def standing_order_create(
    *,
    user: User,
    goods_id: int,
    quantity: int,
    currency_code: str,
    limit_price: Decimal,
    expires_at: datetime,
) -> StandingOrder:
    """An open standing order: the first price committed from now on at which one unit costs at
    most ``limit_price`` in ``currency_code`` places an order of ``quantity`` (matching)."""
    quantity_check(quantity)
    now = db_now()
    expiry_check(expires_at, now=now)
    currency = _currency_and_goods(currency_code=currency_code, goods_id=goods_id, amount=limit_price)
    _user_locked(user)
    limit = settings.STANDING_ORDERS_PER_USER
    if StandingOrder.objects.filter(user=user, status=StandingOrder.Status.OPEN).count() >= limit:
        raise Conflict(
            STANDING_ORDERS_LIMIT.format(limit=limit), code=WatchErrorCode.STANDING_ORDERS_LIMIT, limit=limit
        )
    return StandingOrder.objects.create(
        user=user,
        goods_id=goods_id,
        quantity=quantity,
        currency=currency,
        limit_price=limit_price,
        expires_at=expires_at,
        created_at=now,
    )


@transaction.atomic
def standing_order_cancel(*, user: User, standing_order_id: int) -> StandingOrder:
    """Cancel one of the shopper's open standing orders (404 another user's; 409 when it is no
    longer open). Its row is locked: a fill in progress finishes first, and then this is a 409;
    a fill that comes after finds it cancelled."""
    found = StandingOrder.objects.select_for_update().filter(user=user, id=standing_order_id).first()
    if found is None:
        raise NotFound(STANDING_ORDER_NOT_FOUND)
    if found.status != StandingOrder.Status.OPEN:
        raise Conflict(NOT_OPEN, code=WatchErrorCode.INVALID_TRANSITION, status=found.status)
    found.status, found.closed_at = StandingOrder.Status.CANCELLED, db_now()
    found.save(update_fields=("status", "closed_at"))
    return found


def standing_orders_expire() -> int:
    """Close the open standing orders past their expires_at (the sweep; matching never fills them
    anyway); how many."""
    now = db_now()
    return StandingOrder.objects.filter(status=StandingOrder.Status.OPEN, expires_at__lte=now).update(
        status=StandingOrder.Status.EXPIRED, closed_at=now
    )
