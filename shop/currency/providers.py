"""Where exchange rates come from: staff (``manual``) or the ECB's daily file (``ecb``)."""

import urllib.request
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Protocol

from defusedxml import DefusedXmlException, ElementTree
from django.conf import settings

from shop.domain.rates import cross_rates

ECB_NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"


class ProviderError(Exception):
    pass


class RateProvider(Protocol):
    name: str

    def fetch(self) -> dict[str, Decimal]:
        """Units of each currency per 1 unit of the base currency, unrounded."""
        ...


def parse_ecb(document: bytes) -> dict[str, Decimal]:
    """The ECB's eurofxref-daily.xml -> units per 1 EUR."""
    try:
        root = ElementTree.fromstring(document)
        rates = {
            cube.attrib["currency"]: Decimal(cube.attrib["rate"])
            for cube in root.iter(f"{ECB_NS}Cube")
            if "currency" in cube.attrib
        }
    except (ElementTree.ParseError, DefusedXmlException, InvalidOperation, KeyError) as exc:
        raise ProviderError(f"unreadable ECB document: {exc}") from exc
    if not rates or any(rate <= 0 for rate in rates.values()):
        raise ProviderError("the ECB document holds no usable rates")
    return rates


def _download(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - URL from settings
        data: bytes = response.read()
        return data


class EcbProvider:
    name = "ecb"

    def __init__(
        self, url: str, *, timeout: float = 10.0, download: Callable[[str, float], bytes] = _download
    ):
        self.url, self.timeout, self.download = url, timeout, download

    def fetch(self) -> dict[str, Decimal]:
        try:
            document = self.download(self.url, self.timeout)
        except OSError as exc:
            raise ProviderError(f"ECB rates unavailable: {exc}") from exc
        try:
            return cross_rates(parse_ecb(document), quote_currency="EUR", base=settings.BASE_CURRENCY)
        except ValueError as exc:
            raise ProviderError(str(exc)) from exc


def provider_get(name: str | None = None) -> RateProvider | None:
    """The configured provider; None for ``manual`` (staff post rates themselves)."""
    name = name or settings.RATES_PROVIDER
    if name == "manual":
        return None
    if name == "ecb":
        return EcbProvider(settings.ECB_RATES_URL)
    raise ProviderError(f"unknown RATES_PROVIDER {name!r}")
