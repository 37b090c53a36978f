from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shop.currency.models import ExchangeRate
from shop.currency.providers import EcbProvider, ProviderError, parse_ecb
from shop.currency.selectors import rate_active
from shop.currency.services import rates_refresh
from shop.currency.tasks import rates_refresh_task
from shop.domain.rates import cross_rates
from shop.tests.factories import CurrencyFactory

ECB_FILE = Path(__file__).parent / "data" / "ecb-eurofxref-daily-2026-10-02.xml"


def test_parse_recorded_ecb_file() -> None:
    rates = parse_ecb(ECB_FILE.read_bytes())
    assert len(rates) == 29
    assert (rates["USD"], rates["JPY"], rates["GBP"]) == (
        Decimal("1.1225"),
        Decimal("176.99"),
        Decimal("0.85033"),
    )


def test_cross_rates_to_a_usd_base() -> None:
    rates = cross_rates(parse_ecb(ECB_FILE.read_bytes()), quote_currency="EUR", base="USD")
    assert rates["JPY"] == Decimal("176.99") / Decimal("1.1225")
    assert str(rates["JPY"])[:12] == "157.67483296"
    assert rates["EUR"] == Decimal(1) / Decimal("1.1225")
    assert "USD" not in rates


@pytest.mark.parametrize(
    "document", [b"", b"<not-xml", b"<a/>", ECB_FILE.read_bytes().replace(b"176.99", b"abc")]
)
def test_unreadable_documents_are_provider_errors(document: bytes) -> None:
    with pytest.raises(ProviderError):
        parse_ecb(document)


def test_entity_expansion_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(ProviderError, match=r"(?i)entit"):
        parse_ecb(bomb)


@pytest.mark.django_db
def test_refresh_from_the_recorded_file_through_the_real_download(usd: Any, settings: Any) -> None:
    # given: the ECB provider pointed at the recorded file (urllib reads file:// like https://)
    settings.RATES_PROVIDER = "ecb"
    settings.ECB_RATES_URL = ECB_FILE.as_uri()
    CurrencyFactory(code="EUR", rate="0.5")
    CurrencyFactory(code="JPY", decimals=0)
    CurrencyFactory(code="UAH", rate="41.5")  # not quoted by the ECB: left alone
    # when
    assert rates_refresh_task() is True
    # then: cross rates, rounded to 8 decimals, source ecb
    assert rate_active(currency_code="JPY").rate == Decimal("157.67483296")
    eur = rate_active(currency_code="EUR")
    assert (eur.rate, eur.source) == (Decimal("0.89086860"), "ecb")
    assert rate_active(currency_code="UAH").rate == Decimal("41.5")
    # unchanged rates add no rows
    assert rates_refresh().updated == []
    assert ExchangeRate.objects.filter(source="ecb").count() == 2


@pytest.mark.django_db
def test_a_failed_fetch_keeps_the_last_rates(
    usd: Any, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    CurrencyFactory(code="EUR", rate="0.92")
    before = rate_active(currency_code="EUR")
    provider = EcbProvider("file:///nonexistent/eurofxref-daily.xml")
    result = rates_refresh(provider=provider)
    assert (result.ok, result.updated) == (False, [])
    assert "keeping the last rates" in caplog.text
    assert rate_active(currency_code="EUR") == before


@pytest.mark.django_db
def test_manual_provider_fetches_nothing(usd: Any, settings: Any) -> None:
    settings.RATES_PROVIDER = "manual"
    assert rates_refresh().provider == "manual"
    assert not ExchangeRate.objects.exclude(currency="USD").exists()
