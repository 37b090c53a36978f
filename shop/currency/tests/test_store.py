"""shop.currency.store: the active-rate rule's two executions (ORM and SQL) give one answer, on
whichever database the suite runs (PostgreSQL, and SQLite in make test's embedded-mode run)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from shop.currency.models import ExchangeRate
from shop.currency.store import quote_row, rates_active_first
from shop.tests.factories import CurrencyFactory

pytestmark = pytest.mark.django_db


def test_the_orm_and_the_sql_rule_pick_the_same_rate_at_every_instant(usd: Any) -> None:
    # given: rates in the past, two of one instant (the greater id wins), and one in the future
    eur = CurrencyFactory(code="EUR", rate=None)
    now = timezone.now().replace(microsecond=0)
    written = [
        ExchangeRate.objects.create(currency=eur, rate=Decimal(rate), valid_from=now + timedelta(minutes=m))
        for rate, m in [("0.90", -30), ("0.91", -20), ("0.92", -20), ("0.93", -10), ("0.99", 10)]
    ]
    instants = [
        now + timedelta(minutes=m, seconds=s) for m in (-40, -30, -20, -15, -10, 0, 10, 20) for s in (-1, 0)
    ]
    for at in instants:
        # when
        orm = rates_active_first(at=at).filter(currency=eur).first()
        row = quote_row(code="EUR", at=at)
        # then
        assert row is not None
        assert (row[2] and Decimal(row[2])) == (orm and orm.rate), at
    # the tie at -20 min goes to the later row; the future rate is not active before its time
    assert rates_active_first(at=now - timedelta(minutes=20)).filter(currency=eur).first() == written[2]
    assert rates_active_first(at=now).filter(currency=eur).first() == written[3]


def test_an_unknown_or_inactive_currency_has_no_quote_row(usd: Any) -> None:
    CurrencyFactory(code="GBP", is_active=False)
    assert quote_row(code="GBP", at=timezone.now()) is None
    assert quote_row(code="XXX", at=timezone.now()) is None
