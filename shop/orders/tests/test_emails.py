"""The order e-mails of many orders at once (a standing orders' fill, SPEC §15): read together,
sent over one connection to the mail server, a failed one tried again on its own."""

import time
from smtplib import SMTPException
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from shop.accounts.models import User
from shop.orders.emails import OrderEmail
from shop.orders.models import Order
from shop.orders.services.notices import order_emails_send
from shop.orders.services.orders import order_create
from shop.orders.tasks import order_emails_send_task
from shop.tests.factories import GoodsFactory, UserFactory

pytestmark = pytest.mark.django_db


class CountingBackend(EmailBackend):
    """locmem, counting the connections opened; refuses each address in ``refuse`` once."""

    opened = 0
    refuse: ClassVar[set[str]] = set()

    def open(self) -> bool:
        type(self).opened += 1
        return super().open()  # type: ignore[no-any-return]

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if message.to[0] in self.refuse:
                self.refuse.discard(message.to[0])
                raise SMTPException("refused")
        return super().send_messages(messages)  # type: ignore[no-any-return]


@pytest.fixture
def backend(settings: Any) -> type[CountingBackend]:
    settings.EMAIL_BACKEND = f"{__name__}.CountingBackend"
    CountingBackend.opened, CountingBackend.refuse = 0, set()
    mail.outbox = []
    return CountingBackend


@pytest.fixture
def orders(usd: Any) -> list[Order]:
    goods = GoodsFactory(price="12.50")
    return [
        order_create(user=UserFactory(), currency_code="USD", items=[(goods.id, n)]).order
        for n in (1, 2, 3, 4)
    ]


def test_the_e_mails_of_many_orders_are_read_together_and_sent_over_one_connection(
    backend: type[CountingBackend], orders: list[Order], django_assert_max_num_queries: Any
) -> None:
    gone = max(order.pk for order in orders) + 1000
    with django_assert_max_num_queries(
        5
    ):  # the base currency, the orders with user and currency, lines, events
        sent, failed = order_emails_send(kind=OrderEmail.PLACED, order_ids=[gone, *(o.pk for o in orders)])
    assert (sent, failed) == (4, [])
    assert backend.opened == 1
    by_address = {message.to[0]: message for message in mail.outbox}
    for order in orders:
        message = by_address[User.objects.get(pk=order.user_id).email]
        assert message.subject == f"Your tickshop order #{order.pk}"
        assert f"Order sum: {order.order_sum} USD" in message.body
        assert f"{order.lines[0].quantity} × " in message.body


def test_the_e_mails_of_many_orders_go_no_faster_than_email_per_second(
    backend: type[CountingBackend], orders: list[Order], settings: Any
) -> None:
    settings.EMAIL_PER_SECOND = 20
    started = time.monotonic()
    assert order_emails_send(kind=OrderEmail.PLACED, order_ids=[o.pk for o in orders]) == (4, [])
    # four e-mails at 20 a second: three intervals of 50 ms at least (a floor: load only adds to it)
    assert time.monotonic() - started >= 0.15
    assert (backend.opened, len(mail.outbox)) == (1, 4)


def test_an_order_e_mail_that_fails_is_tried_again_on_its_own_and_the_others_are_not_sent_twice(
    backend: type[CountingBackend],
    orders: list[Order],
    settings: Any,
    celery_eager: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.EMAIL_DELIVERY = "celery"
    refused = orders[1]
    backend.refuse = {User.objects.get(pk=refused.user_id).email}
    assert order_emails_send(kind=OrderEmail.PLACED, order_ids=[o.pk for o in orders]) == (
        3,
        [refused.pk],
    )
    assert len(mail.outbox) == 3
    # the task hands the failed one to the one-order task (eager here), which sends it
    backend.refuse = {User.objects.get(pk=refused.user_id).email}
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        assert order_emails_send_task(str(OrderEmail.PLACED), [o.pk for o in orders]) == 3
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == sorted(f"Your tickshop order #{o.pk}" for o in orders)


def test_a_mail_server_that_cannot_be_reached_fails_every_e_mail_for_a_retry(
    orders: list[Order], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    ids = [o.pk for o in orders]
    assert order_emails_send(kind=OrderEmail.PLACED, order_ids=ids) == (0, ids)
