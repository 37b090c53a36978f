"""Alerts and standing orders, service by service, and the match of a committed batch (SPEC §15).
Run on PostgreSQL and on SQLite (embedded mode): both stores hold the same rule."""

import time
from datetime import UTC, timedelta
from decimal import Decimal
from smtplib import SMTPException
from typing import Any

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from shop.accounts.models import User
from shop.catalog.models import Goods
from shop.catalog.services.prices import prices_record
from shop.catalog.services.stock import goods_stock_set
from shop.core.errors import Conflict, NotFound, ValidationError
from shop.currency.services import rate_create
from shop.orders.models import Order
from shop.orders.services.orders import order_create
from shop.pricewatch import tasks
from shop.pricewatch.emails import alerts_email_schedule
from shop.pricewatch.models import Alert, StandingOrder
from shop.pricewatch.notices import alerts_email_send
from shop.pricewatch.services.matching import prices_match
from shop.pricewatch.services.watches import (
    alert_create,
    alert_delete,
    standing_order_cancel,
    standing_order_create,
    standing_orders_expire,
)
from shop.tests.factories import CurrencyFactory, GoodsFactory, UserFactory
from shop.tests.invariant import order_invariant_violations

D = Decimal


@pytest.fixture
def eur(usd: Any) -> Any:
    return CurrencyFactory(code="EUR", rate="0.5")


@pytest.fixture
def goods(eur: Any) -> Goods:
    return GoodsFactory(name="Lamp", price="20.00")


@pytest.fixture
def user(db: None) -> User:
    return UserFactory()


def tick(goods: Goods, amount: str) -> Any:
    """A committed price of ``goods``, matched as its batch would be."""
    batch = prices_record(amounts={goods.id: D(amount)}, source="manual")
    return batch, prices_match(at=batch.at, first=min(batch.ids), last=max(batch.ids))


def alert(user: User, goods: Goods, direction: str, price: str, currency: str = "EUR") -> Alert:
    return alert_create(
        user=user, goods_id=goods.id, currency_code=currency, direction=direction, price=D(price)
    )


def standing(user: User, goods: Goods, limit: str, quantity: int = 1, currency: str = "EUR") -> StandingOrder:
    return standing_order_create(
        user=user,
        goods_id=goods.id,
        quantity=quantity,
        currency_code=currency,
        limit_price=D(limit),
        expires_at=timezone.now() + timedelta(days=1),
    )


# --- alerts ----------------------------------------------------------------------------------


def test_an_alert_fires_once_on_the_first_price_that_crosses_it(user: User, goods: Goods) -> None:
    # given: an alert below 9.00 EUR (the goods is at 20.00 USD = 10.00 EUR)
    below = alert(user, goods, "below", "9.00")
    # when: a price that does not cross, one that does, and one that crosses again
    _, first = tick(goods, "18.02")  # 9.01 EUR
    crossing, second = tick(goods, "17.99")  # 8.995 -> 9.00 EUR, half up: at the threshold
    _, third = tick(goods, "10.00")
    # then
    assert first.alerts == [] and third.alerts == []
    assert [fired.id for fired in second.alerts] == [below.id]
    below.refresh_from_db()
    assert below.status == "triggered"
    assert below.price_id == crossing.ids[0]
    assert below.value == D("9.00")


@pytest.mark.parametrize("rate_moves", [False, True])
def test_batches_matched_out_of_order_fire_on_the_first_crossing_price(
    user: User, goods: Goods, rate_moves: bool
) -> None:
    # given: two batches that both cross, whose matches run in the wrong order (two processes);
    # the rate may change between them: the earlier price keeps the rate of its own instant
    below = alert(user, goods, "below", "9.00")
    earlier = prices_record(amounts={goods.id: D("17.00")}, source="manual")  # 8.50 EUR at 0.5
    if rate_moves:
        rate_create(currency_code="EUR", rate=D("0.4"), source="manual")
    later = prices_record(amounts={goods.id: D("16.00")}, source="manual")  # 8.00 EUR, or 6.40
    # when
    second = prices_match(at=later.at, first=later.ids[0], last=later.ids[0])
    first = prices_match(at=earlier.at, first=earlier.ids[0], last=earlier.ids[0])
    # then: it fired once, on the earlier price, with that price's value
    assert [fired.id for fired in second.alerts] == [below.id] and first.alerts == []
    assert (second.alerts[0].price_id, second.alerts[0].value) == (earlier.ids[0], D("8.50"))


def test_an_alert_above_fires_at_or_above_its_price(user: User, goods: Goods) -> None:
    above = alert(user, goods, "above", "12.50")
    _, below_it = tick(goods, "24.98")  # 12.49
    _, at_it = tick(goods, "24.99")  # 12.495 -> 12.50
    assert below_it.alerts == []
    assert [fired.id for fired in at_it.alerts] == [above.id]
    assert at_it.alerts[0].value == D("12.50")


def test_an_alert_in_the_base_currency_compares_the_amount_itself(user: User, goods: Goods) -> None:
    usd_alert = alert(user, goods, "below", "15.00", currency="USD")
    _, matched = tick(goods, "15.00")
    assert [(fired.id, fired.value) for fired in matched.alerts] == [(usd_alert.id, D("15.00"))]


def test_only_prices_after_the_alert_count(user: User, goods: Goods) -> None:
    batch = prices_record(amounts={goods.id: D("5.00")}, source="manual")
    created = alert(user, goods, "below", "9.00")  # after the price of 2.50 EUR
    matched = prices_match(at=batch.at, first=min(batch.ids), last=max(batch.ids))
    assert matched.alerts == []
    created.refresh_from_db()
    assert created.triggered_at is None


def test_another_goods_price_does_not_fire_it(user: User, goods: Goods) -> None:
    other = GoodsFactory(price="30.00")
    alert(user, goods, "below", "9.00")
    _, matched = tick(other, "1.00")
    assert matched.alerts == []


def test_alert_input_is_checked(user: User, goods: Goods) -> None:
    with pytest.raises(ValidationError) as unknown_goods:
        alert_create(user=user, goods_id=goods.id + 999, currency_code="EUR", direction="below", price=D("1"))
    assert unknown_goods.value.code == "goods_unavailable"
    with pytest.raises(ValidationError) as decimals:
        alert(user, goods, "below", "9.001")
    assert decimals.value.code == "price_decimals"
    with pytest.raises(ValidationError) as currency:
        alert(user, goods, "below", "9.00", currency="XYZ")
    assert currency.value.status_code == 400
    assert not Alert.objects.exists()


def test_open_alerts_are_capped_per_shopper(user: User, goods: Goods, settings: Any) -> None:
    settings.ALERTS_PER_USER = 2
    first = alert(user, goods, "below", "1.00")
    alert(user, goods, "below", "2.00")
    with pytest.raises(Conflict) as capped:
        alert(user, goods, "below", "3.00")
    assert capped.value.code == "alerts_limit"
    alert(UserFactory(), goods, "below", "3.00")  # another shopper's cap is their own
    alert_delete(user=user, alert_id=first.id)
    alert(user, goods, "below", "3.00")
    assert Alert.objects.filter(user=user).count() == 2


def test_another_shoppers_alert_cannot_be_deleted(user: User, goods: Goods) -> None:
    theirs = alert(UserFactory(), goods, "below", "1.00")
    with pytest.raises(NotFound):
        alert_delete(user=user, alert_id=theirs.id)
    assert Alert.objects.filter(id=theirs.id).exists()


# --- standing orders -------------------------------------------------------------------------


def test_a_standing_order_fills_once_through_the_normal_placement(user: User, goods: Goods) -> None:
    # given: buy 2 at or below 9.00 EUR
    wanted = standing(user, goods, "9.00", quantity=2)
    # when: a price at 8.50 EUR
    crossing, matched = tick(goods, "17.00")
    same = order_create(user=UserFactory(), currency_code="EUR", items=[(goods.id, 2)]).order
    _, again = tick(goods, "16.00")
    # then: one order, priced as POST /api/orders/ would have priced it at that price and rate
    ((_, order),) = matched.filled
    assert again.filled == []
    wanted.refresh_from_db()
    assert (wanted.status, wanted.order_id, wanted.closed_at) == ("filled", order.id, order.created_at)
    (line,) = order.lines
    assert (line.goods_id, line.quantity, line.price_id, line.unit_price) == (
        goods.id,
        2,
        crossing.ids[0],
        D("17.00"),
    )
    assert order.user_id == user.id and order.currency_id == "EUR"
    assert order.order_sum == same.order_sum == D("27.15")  # (34 + 10.20 + 10.10) x 0.5
    assert order_invariant_violations() == (0, 0)
    assert Order.objects.filter(user=user).count() == 1


def test_it_is_never_filled_above_its_limit(user: User, goods: Goods) -> None:
    # given: a batch that crossed, and a newer price above the limit before the fill runs
    wanted = standing(user, goods, "9.00")
    crossing = prices_record(amounts={goods.id: D("17.00")}, source="manual")
    prices_record(amounts={goods.id: D("19.00")}, source="manual")  # 9.50 EUR: current when placing
    # when
    matched = prices_match(at=crossing.at, first=crossing.ids[0], last=crossing.ids[0])
    # then: the placement froze 19.00, above the limit: nothing placed, it stays open
    assert matched.filled == []
    wanted.refresh_from_db()
    assert wanted.status == "open"
    assert not Order.objects.exists()


def test_short_of_stock_it_stays_open(user: User, goods: Goods) -> None:
    goods_stock_set(goods=goods, stock=1)
    wanted = standing(user, goods, "9.00", quantity=2)
    _, matched = tick(goods, "17.00")
    assert matched.filled == []
    wanted.refresh_from_db()
    assert wanted.status == "open"
    goods_stock_set(goods=goods, stock=5)
    _, matched = tick(goods, "17.00")
    assert len(matched.filled) == 1
    goods.refresh_from_db()
    assert goods.stock == 3


def test_stock_goes_to_the_standing_orders_in_turn(goods: Goods) -> None:
    goods_stock_set(goods=goods, stock=3)
    first, second = (
        standing(UserFactory(), goods, "9.00", quantity=2),
        standing(UserFactory(), goods, "9.00", quantity=2),
    )
    _, matched = tick(goods, "17.00")
    assert [filled.id for filled, _ in matched.filled] == [first.id]
    second.refresh_from_db()
    assert second.status == "open"
    goods.refresh_from_db()
    assert goods.stock == 1


def test_cancelled_and_expired_ones_never_fill(user: User, goods: Goods) -> None:
    cancelled = standing(user, goods, "9.00")
    standing_order_cancel(user=user, standing_order_id=cancelled.id)
    expired = standing(user, goods, "9.00")
    StandingOrder.objects.filter(id=expired.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert standing_orders_expire() == 1
    _, matched = tick(goods, "10.00")
    assert matched.filled == []
    assert not Order.objects.exists()
    expired.refresh_from_db()
    assert expired.status == "expired" and expired.closed_at is not None


def test_cancelling_a_filled_one_is_a_conflict(user: User, goods: Goods) -> None:
    wanted = standing(user, goods, "9.00")
    tick(goods, "10.00")
    with pytest.raises(Conflict) as refused:
        standing_order_cancel(user=user, standing_order_id=wanted.id)
    assert (refused.value.code, refused.value.extra) == ("invalid_transition", {"status": "filled"})
    with pytest.raises(NotFound):
        standing_order_cancel(user=UserFactory(), standing_order_id=wanted.id)


@pytest.mark.parametrize(
    ("ahead", "accepted"),
    [
        (timedelta(seconds=-1), False),
        (timedelta(days=7) - timedelta(minutes=1), True),
        (timedelta(days=7, minutes=1), False),
    ],
)
def test_expires_at_is_in_the_next_seven_days(
    user: User, goods: Goods, ahead: timedelta, accepted: bool
) -> None:
    def create() -> StandingOrder:
        return standing_order_create(
            user=user, goods_id=goods.id, quantity=1, currency_code="EUR", limit_price=D("9"),
            expires_at=timezone.now() + ahead,
        )  # fmt: skip

    if accepted:
        assert create().status == "open"
    else:
        with pytest.raises(ValidationError) as refused:
            create()
        assert refused.value.code == "expires_at"


def test_open_standing_orders_are_capped_per_shopper(user: User, goods: Goods, settings: Any) -> None:
    settings.STANDING_ORDERS_PER_USER = 1
    first = standing(user, goods, "9.00")
    with pytest.raises(Conflict) as capped:
        standing(user, goods, "9.00")
    assert capped.value.code == "standing_orders_limit"
    standing_order_cancel(user=user, standing_order_id=first.id)
    standing(user, goods, "9.00")


def test_alerts_e_mail_lists_the_shoppers_fired_alerts_a_tick_later(
    user: User, goods: Goods, mailed: Any
) -> None:
    alert(user, goods, "below", "9.00")
    alert(user, goods, "below", "9.50")
    outbox = mailed(lambda: tick(goods, "10.00"))
    (mail,) = outbox
    assert mail.to == [user.email]
    assert mail.subject == "tickshop: 2 price alert(s) fired"
    first, second = (
        f"{a.triggered_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}" for a in Alert.objects.order_by("id")
    )
    site = settings.SITE_URL.rstrip("/")
    assert mail.body == (
        "Your price alerts fired:\n\n"
        f"- Lamp: 5.00 EUR at {first} UTC (below 9.00 EUR) — {site}/goods/{goods.id}/\n"
        f"- Lamp: 5.00 EUR at {second} UTC (below 9.50 EUR) — {site}/goods/{goods.id}/\n\n"
        f"Your alerts: {site}/watch/\n\n"
    )


def test_one_e_mail_per_shopper_for_the_alerts_of_several_batches(
    user: User, goods: Goods, mailoutbox: list[Any], settings: Any
) -> None:
    # given: two alerts of one shopper fired by two batches (two chunks of one tick), one of another
    alert(user, goods, "below", "9.00")
    other_goods = GoodsFactory(name="Desk", price="20.00")
    alert(user, other_goods, "below", "9.00")
    someone = UserFactory()
    alert(someone, goods, "below", "9.00")
    tick(goods, "10.00")
    tick(other_goods, "10.00")
    # when: each batch's task runs, a tick later (the second finds nothing left to mail)
    first = alerts_email_send(user_ids=[user.id, someone.id])
    second = alerts_email_send(user_ids=[user.id])
    # then
    assert (first, second) == (2, 0)
    # and the task that found nothing left opened no connection to the mail server
    settings.EMAIL_BACKEND = f"{__name__}.UnreachableBackend"
    assert alerts_email_send(user_ids=[user.id]) == 0
    mine = next(mail for mail in mailoutbox if mail.to == [user.email])
    assert mine.subject == "tickshop: 2 price alert(s) fired"
    assert "Lamp: 5.00 EUR" in mine.body and "Desk: 5.00 EUR" in mine.body
    assert len(mailoutbox) == 2
    assert not Alert.objects.filter(emailed_at__isnull=True).exists()


def test_shoppers_are_mailed_a_few_a_task_once_each_no_faster_than_email_per_second(
    goods: Goods, mailed: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: five shoppers with a fired alert each, two a task, 20 e-mails a second
    monkeypatch.setattr(tasks, "USERS_A_TASK", 2)
    settings.EMAIL_PER_SECOND = 20
    shoppers = [UserFactory() for _ in range(5)]
    for shopper in shoppers:
        alert(shopper, goods, "below", "9.00")
    tick(goods, "10.00")
    # when: the batch's e-mail task runs (eager here: each task hands the rest on to the next)
    started = time.monotonic()
    outbox = mailed(lambda: alerts_email_schedule(user_ids=[shopper.id for shopper in shoppers]))
    elapsed = time.monotonic() - started
    # then: each shopper mailed once, every alert marked, and four intervals of 50 ms at least
    # between the five e-mails (a floor: load only adds to it)
    assert sorted(mail.to[0] for mail in outbox) == sorted(shopper.email for shopper in shoppers)
    assert not Alert.objects.filter(emailed_at__isnull=True).exists()
    assert elapsed >= 0.2


class UnreachableBackend(BaseEmailBackend):
    def open(self) -> bool:
        raise SMTPException("mail server unreachable")


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise SMTPException("mail server down")


def test_alerts_whose_e_mail_failed_are_mailed_by_the_retry(user: User, goods: Goods, settings: Any) -> None:
    alert(user, goods, "below", "9.00")
    tick(goods, "10.00")
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    with pytest.raises(SMTPException):
        alerts_email_send(user_ids=[user.id])
    assert Alert.objects.get().emailed_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts_email_send(user_ids=[user.id]) == 1
