from django.db.models import QuerySet

from shop.accounts.models import User
from shop.pricewatch.models import Alert, StandingOrder


def alert_list(*, user: User, goods_id: int | None = None, status: str | None = None) -> QuerySet[Alert]:
    """The shopper's alerts, newest first; ``status``: open or triggered."""
    alerts = Alert.objects.filter(user=user).select_related("goods", "currency")
    if goods_id is not None:
        alerts = alerts.filter(goods_id=goods_id)
    if status is not None:
        alerts = alerts.filter(triggered_at__isnull=status == "open")
    return alerts


def standing_order_list(
    *, user: User, goods_id: int | None = None, status: str | None = None
) -> QuerySet[StandingOrder]:
    """The shopper's standing orders, newest first."""
    orders = StandingOrder.objects.filter(user=user).select_related("goods", "currency")
    if goods_id is not None:
        orders = orders.filter(goods_id=goods_id)
    if status is not None:
        orders = orders.filter(status=status)
    return orders
