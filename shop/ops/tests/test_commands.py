"""Start-up commands: demo data, prepare (migrate, demo data, staff user)."""

import io

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

from shop.accounts.models import User
from shop.catalog.models import Goods, Price, Sale
from shop.currency.models import Currency
from shop.ops.management.commands.prepare import NO_STAFF_USER


@pytest.mark.django_db
def test_demo_data_loads_once() -> None:
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    assert set(Currency.objects.values_list("code", flat=True)) >= {"USD", "EUR", "GBP", "JPY", "UAH"}
    assert Goods.objects.count() == 12
    assert Price.objects.count() == 12
    sale = Sale.objects.get()
    assert sale.is_running and sale.goods.count() == 8


@pytest.mark.django_db
def test_prepare_makes_no_staff_user_unless_told_and_never_resets_one(settings: Settings) -> None:
    settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "", ""
    out = io.StringIO()
    call_command("prepare", stdout=out)
    assert NO_STAFF_USER in out.getvalue()
    assert not User.objects.filter(is_staff=True).exists()

    settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD = "Boss@Example.com", "first-chosen-passphrase"
    call_command("prepare", stdout=io.StringIO())
    boss = User.objects.get(email="boss@example.com")
    assert boss.is_staff and boss.is_superuser and boss.check_password("first-chosen-passphrase")
    boss.set_password("changed-in-the-admin")
    boss.save()

    out = io.StringIO()
    call_command("prepare", stdout=out)  # the next start
    assert "left as it is" in out.getvalue()
    boss.refresh_from_db()
    assert boss.check_password("changed-in-the-admin")
